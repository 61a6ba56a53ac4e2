"""Command-line interface: ``multitask demo`` (also ``python -m multitask demo``).

Parses the arguments and runs a demo of :mod:`multitask.demos`:
``multitask demo --dataset school`` (the default) compares four least-squares
models on a multi-task regression benchmark (:mod:`multitask.demos.school`);
``multitask demo --dataset newsgroups [--name comp_vs_sci|rec_vs_talk]``
compares independent and coupled logistic models on a two-task 20 Newsgroups
collection (:mod:`multitask.demos.newsgroups`).
"""

from __future__ import annotations

import argparse

from .demos import DATASETS, NEWSGROUPS_NAMES, run_demo, run_newsgroups_demo

__all__ = ["main"]


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="multitask",
        description="Multi-task learning with kernel-coupled tasks.",
    )
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="command")
    demo = subcommands.add_parser(
        "demo",
        help="compare independent and coupled models on a benchmark",
        description="Fit models with cross-validated alpha on a benchmark and print their test scores: "
        "independent ridge, pooled ridge, mean-regularised and graph-coupled least squares on school; "
        "independent and mean-regularised logistic models on newsgroups.",
    )
    demo.add_argument("--dataset", choices=sorted(DATASETS), default="school", help="benchmark (default: school)")
    demo.add_argument(
        "--name",
        choices=NEWSGROUPS_NAMES,
        default=None,
        help=f"collection, for --dataset newsgroups only (default: {NEWSGROUPS_NAMES[0]})",
    )
    demo.add_argument("--seed", type=int, default=0, help="seed of the train/test split and the folds (default: 0)")
    demo.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        help="threads of the C++ core (default: 1; -1: every core)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``multitask`` command; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.dataset == "newsgroups":
            return run_newsgroups_demo(args.name or NEWSGROUPS_NAMES[0], args.seed, args.n_jobs)
        if args.name is not None:
            parser.error("--name applies only to --dataset newsgroups")
        return run_demo(args.dataset, args.seed, args.n_jobs)
    raise AssertionError(f"unhandled command {args.command!r}")  # argparse rejects unknown commands
