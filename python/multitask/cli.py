"""Command-line interface: ``multitask demo`` (also ``python -m multitask demo``).

``multitask demo --dataset school`` (the default) compares four least-squares
models on a multi-task regression benchmark, all fitted with
:class:`multitask.KernelCoupledRegressor`:

* independent ridge: K = I, every task on its own;
* pooled ridge: one model fitted on all tasks' data stacked, used for every task;
* mean-regularised: K = I - 11^T/T + mu I, every task pulled towards the mean model;
* graph-coupled: K = L + mu I with L the Laplacian of a graph between the tasks.

``multitask demo --dataset newsgroups [--name comp_vs_sci|rec_vs_talk]``
compares two logistic models, fitted with :class:`multitask.KernelCoupledClassifier`,
on a two-task 20 Newsgroups collection:

* independent: K = I, a separate L2-penalised logistic regression per task;
* mean-regularised: K = I - 11^T/T + mu I (mu = 0.1), both tasks pulled towards their mean model.

Hyper-parameters are chosen by cross-validation on the training part only, each
model is refitted on the whole training part and scored on the held-out part.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import scipy.sparse

from . import coupling as coupling_builders
from ._classifier import KernelCoupledClassifier
from ._regressor import KernelCoupledRegressor
from .datasets import load_newsgroups, load_school

__all__ = ["main"]

ALPHAS = np.logspace(-5, 0, 6)  # 1e-5 ... 1: Ridge(alpha=alpha * N) per task, N ~ 11,500 training pupils
MUS = (1e-3, 1e-2, 1e-1)  # diagonal ridge of the coupled models' K
N_FOLDS = 3
TEST_FRACTION = 0.25
N_NEIGHBOURS = 5


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class DemoProblem:
    """A multi-task regression problem split into training and test rows.

    Rows are in long format and sorted by task; task ids are 0..T-1.
    """

    name: str
    X_train: np.ndarray  # (n_train, d)
    y_train: np.ndarray  # (n_train,)
    tasks_train: np.ndarray  # (n_train,)
    X_test: np.ndarray  # (n_test, d)
    y_test: np.ndarray  # (n_test,)
    tasks_test: np.ndarray  # (n_test,)
    task_features: np.ndarray  # (T, p): descriptors of every task, for the task graph
    notes: list[str]

    @property
    def n_tasks(self) -> int:
        return int(self.tasks_train.max()) + 1


def _split_within_groups(groups: np.ndarray, test_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of test rows: a random ``test_fraction`` of every group's rows (e.g. of every task)."""
    is_test = np.zeros(groups.size, dtype=bool)
    for group in np.unique(groups):
        rows = np.flatnonzero(groups == group)
        n_test = int(round(test_fraction * rows.size))
        is_test[rng.permutation(rows)[:n_test]] = True
    return is_test


def _school_problem(seed: int) -> DemoProblem:
    X, y, tasks = load_school(form="long")
    is_test = _split_within_groups(tasks, TEST_FRACTION, np.random.default_rng(seed))
    train, test = ~is_test, is_test

    # Column 27 is a constant 1; the per-task intercepts replace it. The other columns
    # are standardised with the mean and standard deviation of the training rows:
    # the penalty treats every coefficient alike, so without this the percentage
    # columns 3-4 (ranges 8-91 and 3-43) would be penalised far less than the 0/1
    # indicators, and the choice of alpha would depend on the units.
    X = X[:, :27]
    mean = X[train].mean(axis=0)
    scale = X[train].std(axis=0)
    scale[scale == 0] = 1.0
    X_std = (X - mean) / scale

    # Descriptors of every school for the graph-coupled model. Columns 21-26 (school
    # gender and denomination) are constant within a school and say what kind of
    # school it is; the means of the pupil-level columns 0-20 over the school's
    # training pupils describe its intake (free meals, VR band 1, pupils' VR bands,
    # gender and ethnic mix, exam years). Only features of training rows are used,
    # never targets, so nothing of the test part leaks into the model.
    n_tasks = int(tasks.max()) + 1
    school_type = np.array([X[tasks == t][0, 21:27] for t in range(n_tasks)])
    intake = np.array([X_std[train & (tasks == t), :21].mean(axis=0) for t in range(n_tasks)])
    task_features = np.hstack([school_type, intake])
    notes = [
        "features: column 27 (constant) dropped, the rest standardised with training-set mean and sd",
        f"graph: {N_NEIGHBOURS}-nearest-neighbour graph between schools on their type (columns 21-26) "
        "and mean intake (columns 0-20)",
    ]
    return DemoProblem(
        "School",
        X_std[train],
        y[train],
        tasks[train],
        X_std[test],
        y[test],
        tasks[test],
        task_features,
        notes,
    )


# The regression demo data sets (run_demo); "newsgroups" is the classification demo (run_newsgroups_demo).
DEMO_PROBLEMS: dict[str, Callable[[int], DemoProblem]] = {"school": _school_problem}
DATASETS = (*DEMO_PROBLEMS, "newsgroups")


def knn_adjacency(task_features: np.ndarray, n_neighbours: int) -> np.ndarray:
    """Symmetric 0/1 adjacency joining every task to its ``n_neighbours`` nearest tasks.

    Descriptors are standardised across tasks first so each counts the same in the
    Euclidean distance. A k-nearest-neighbour graph (rather than a distance
    threshold) leaves no task isolated, and it stays sparse, so each task borrows
    from a few similar tasks instead of from all of them as the mean-regularised
    model does. s and t are joined when either is among the other's neighbours.
    """
    F = np.asarray(task_features, dtype=np.float64)
    spread = F.std(axis=0)
    F = (F - F.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    squared = np.sum(F**2, axis=1)
    distances = squared[:, None] + squared[None, :] - 2.0 * F @ F.T
    np.fill_diagonal(distances, np.inf)
    neighbours = np.argsort(distances, axis=1, kind="stable")[:, :n_neighbours]
    adjacency = np.zeros_like(distances)
    adjacency[np.repeat(np.arange(F.shape[0]), n_neighbours), neighbours.ravel()] = 1.0
    return np.maximum(adjacency, adjacency.T)


@dataclass
class Candidate:
    """One demo model: how to build it for a hyper-parameter setting, and its grid."""

    name: str
    pooled: bool  # one model for every task, fitted on the stacked rows
    make_coupling: Callable[[float], np.ndarray | str]  # mu -> K
    mus: Sequence[float | None]


def _fit(candidate: Candidate, alpha: float, mu: float | None, X, y, tasks, n_jobs) -> KernelCoupledRegressor:
    model = KernelCoupledRegressor(coupling=candidate.make_coupling(mu), alpha=alpha, n_jobs=n_jobs)
    if candidate.pooled:
        return model.fit(X, y)  # a single task: the stacked rows with one target
    return model.fit(X, y, tasks=tasks)


def _predict(candidate: Candidate, model: KernelCoupledRegressor, X, tasks) -> np.ndarray:
    return model.predict(X) if candidate.pooled else model.predict(X, tasks=tasks)


def _fold_ids(groups: np.ndarray, n_folds: int, rng: np.random.Generator) -> np.ndarray:
    """Fold of every row, assigned at random within every group, e.g. task (all groups in every fold)."""
    folds = np.empty(groups.size, dtype=np.int64)
    for group in np.unique(groups):
        rows = np.flatnonzero(groups == group)
        folds[rows] = rng.permutation(rows.size) % n_folds
    return folds


def _cross_validate(
    candidate: Candidate, problem: DemoProblem, folds: np.ndarray, n_jobs: int | None
) -> tuple[float, float | None]:
    """(alpha, mu) with the smallest cross-validated squared error, pooled over folds and tasks."""
    best: tuple[float, float, float | None] | None = None
    for mu in candidate.mus:
        for alpha in ALPHAS:
            squared_error = 0.0
            for fold in range(N_FOLDS):
                fit_rows, held_out = folds != fold, folds == fold
                model = _fit(
                    candidate,
                    alpha,
                    mu,
                    problem.X_train[fit_rows],
                    problem.y_train[fit_rows],
                    problem.tasks_train[fit_rows],
                    n_jobs,
                )
                prediction = _predict(candidate, model, problem.X_train[held_out], problem.tasks_train[held_out])
                squared_error += float(np.sum((problem.y_train[held_out] - prediction) ** 2))
            if best is None or squared_error < best[0]:
                best = (squared_error, float(alpha), mu)
    assert best is not None
    return best[1], best[2]


def explained_variance_pooled(y: np.ndarray, prediction: np.ndarray) -> float:
    """1 - sum of squared errors / sum of (y - mean y)^2 over all samples pooled."""
    return 1.0 - float(np.sum((y - prediction) ** 2) / np.sum((y - y.mean()) ** 2))


def explained_variance_task_average(y: np.ndarray, prediction: np.ndarray, tasks: np.ndarray) -> float:
    """Mean over tasks of each task's R^2 on its own samples."""
    return float(np.mean([explained_variance_pooled(y[tasks == t], prediction[tasks == t]) for t in np.unique(tasks)]))


def _format_row(cells: Sequence[str], widths: Sequence[int]) -> str:
    """The first column left-aligned, the others right-aligned."""
    first = cells[0].ljust(widths[0])
    rest = [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:])]
    return "  ".join([first, *rest])


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """The header, a rule and the rows, with columns as wide as their widest cell."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print(_format_row(header, widths))
    print(_format_row(["-" * width for width in widths], widths))
    for row in rows:
        print(_format_row(row, widths))


def run_demo(dataset: str, seed: int, n_jobs: int | None) -> int:
    """Fit the four demo models on ``dataset`` and print the comparison table to stdout."""
    started = time.perf_counter()
    _progress(f"loading {dataset} and splitting every task 75/25 (seed {seed}) ...")
    problem = DEMO_PROBLEMS[dataset](seed)
    n_tasks = problem.n_tasks
    adjacency = knn_adjacency(problem.task_features, N_NEIGHBOURS)
    candidates = [
        Candidate("independent ridge", False, lambda mu: "identity", [None]),
        Candidate("pooled ridge", True, lambda mu: "identity", [None]),
        Candidate("mean-regularised", False, lambda mu: coupling_builders.mean_regularized(n_tasks, mu=mu), MUS),
        Candidate("graph-coupled", False, lambda mu: coupling_builders.graph_laplacian(adjacency, ridge=mu), MUS),
    ]
    folds = _fold_ids(problem.tasks_train, N_FOLDS, np.random.default_rng(seed + 1))

    header = ["model", "alpha", "mu", "EV pooled", "EV task-avg", "test RMSE", "fit ms", "solver"]
    rows = []
    for candidate in candidates:
        n_settings = len(ALPHAS) * len(candidate.mus)
        _progress(f"cross-validating {candidate.name} ({N_FOLDS}-fold, {n_settings} settings) ...")
        alpha, mu = _cross_validate(candidate, problem, folds, n_jobs)
        _progress(f"refitting {candidate.name} on the whole training part ...")
        fit_started = time.perf_counter()
        model = _fit(candidate, alpha, mu, problem.X_train, problem.y_train, problem.tasks_train, n_jobs)
        fit_ms = 1e3 * (time.perf_counter() - fit_started)
        prediction = _predict(candidate, model, problem.X_test, problem.tasks_test)
        y = problem.y_test
        rows.append(
            [
                candidate.name,
                f"{alpha:.0e}",
                "-" if mu is None else f"{mu:g}",
                f"{explained_variance_pooled(y, prediction):.3f}",
                f"{explained_variance_task_average(y, prediction, problem.tasks_test):.3f}",
                f"{np.sqrt(np.mean((y - prediction) ** 2)):.3f}",
                f"{fit_ms:.1f}",
                model.solver_,
            ]
        )

    print(
        f"{problem.name}: {n_tasks} tasks, {problem.y_train.size} training and {problem.y_test.size} test samples "
        f"(random {100 - 100 * TEST_FRACTION:.0f}/{100 * TEST_FRACTION:.0f} split within every task, seed {seed})"
    )
    for note in problem.notes:
        print(note)
    print(
        f"alpha (and mu) chosen by {N_FOLDS}-fold cross-validation within every task on the training part, "
        "then refitted on all of it; 'fit ms' times that final fit"
    )
    print()
    _print_table(header, rows)
    print()
    print("mean-regularised: K = I - 11^T/T + mu I; graph-coupled: K = L + mu I (L: graph Laplacian)")
    print("EV pooled: 1 - sum (y - yhat)^2 / sum (y - mean y)^2 over all test samples (R^2 pooled)")
    print("EV task-avg: mean over tasks of each task's test R^2; test RMSE: over all test samples")
    _progress(f"done in {time.perf_counter() - started:.1f} s")
    return 0


# --------------------------------------------------------------------------------------------
# 20 Newsgroups: coupled and independent logistic models
# --------------------------------------------------------------------------------------------

NEWSGROUPS_NAMES = ("comp_vs_sci", "rec_vs_talk")
NEWSGROUPS_TEST_FRACTION = 0.3
# With unit-norm rows, alpha = 1e-4 is about LogisticRegression(C=4) on ~2,600 training documents.
NEWSGROUPS_ALPHAS = np.logspace(-6, -2, 5)
# (model name, coupling of KernelCoupledClassifier)
NEWSGROUPS_MODELS = (("independent", "identity"), ("mean-regularised", "mean_regularized"))


def log1p_unit_rows(X: scipy.sparse.csr_array) -> scipy.sparse.csr_array:
    """Term counts to features: log(1 + count) of every entry, then every row scaled to unit L2 norm.

    Only the stored values change (the sparsity structure is kept); an empty row stays zero.
    """
    X = scipy.sparse.csr_array(X, copy=True)
    X.data = np.log1p(X.data)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X.data /= np.repeat(np.where(norms > 0, norms, 1.0), np.diff(X.indptr))
    return X


@dataclass
class TaskLists:
    """Per-task data in list form: X[t] (n_t, d) sparse and y[t] (n_t,) labels."""

    X: list[scipy.sparse.csr_array]
    y: list[np.ndarray]

    def rows(self, keep: Sequence[np.ndarray]) -> "TaskLists":
        """The rows where ``keep[t]`` (a boolean mask per task) is true."""
        chosen = [np.flatnonzero(mask) for mask in keep]
        return TaskLists([X[rows] for X, rows in zip(self.X, chosen)], [y[rows] for y, rows in zip(self.y, chosen)])


def _logistic_model(coupling: str, alpha: float, n_jobs: int | None) -> Any:
    """An unfitted logistic :class:`KernelCoupledClassifier` with coupling K and penalty ``alpha``."""
    return KernelCoupledClassifier(coupling=coupling, alpha=alpha, loss="logistic", n_jobs=n_jobs)


def _newsgroups_alpha(
    coupling: str, train: TaskLists, folds: Sequence[np.ndarray], n_jobs: int | None
) -> tuple[float, float]:
    """(alpha, cross-validated accuracy) with the most held-out documents classified correctly.

    Ties go to the larger alpha (the stronger penalty).
    """
    best_alpha, best_correct = float(NEWSGROUPS_ALPHAS[-1]), -1
    for alpha in sorted(NEWSGROUPS_ALPHAS, reverse=True):
        correct = 0
        for fold in range(N_FOLDS):
            fit_part = train.rows([f != fold for f in folds])
            held_out = train.rows([f == fold for f in folds])
            model = _logistic_model(coupling, float(alpha), n_jobs).fit(fit_part.X, fit_part.y)
            correct += sum(int(np.sum(p == y)) for p, y in zip(model.predict(held_out.X), held_out.y))
        if correct > best_correct:
            best_alpha, best_correct = float(alpha), correct
    return best_alpha, best_correct / sum(y.size for y in train.y)


def run_newsgroups_demo(name: str, seed: int, n_jobs: int | None) -> int:
    """Fit independent and mean-regularised logistic models on a 20 Newsgroups collection; print the table."""
    started = time.perf_counter()
    train_percent = round(100 * (1 - NEWSGROUPS_TEST_FRACTION))
    split = f"{train_percent}/{100 - train_percent}"
    _progress(f"loading newsgroups {name} and splitting every task {split} within each class (seed {seed}) ...")
    data = load_newsgroups(name)
    tasks = TaskLists([log1p_unit_rows(X) for X in data.X], list(data.y))
    split_rng = np.random.default_rng(seed)
    is_test = [_split_within_groups(y, NEWSGROUPS_TEST_FRACTION, split_rng) for y in tasks.y]
    train, test = tasks.rows([~mask for mask in is_test]), tasks.rows(is_test)
    fold_rng = np.random.default_rng(seed + 1)
    folds = [_fold_ids(y, N_FOLDS, fold_rng) for y in train.y]  # stratified within every task

    header = ["model", "alpha", "CV acc", *(f"{task} acc" for task in data.task_names), "mean acc", "fit ms"]
    rows = []
    for model_name, coupling in NEWSGROUPS_MODELS:
        _progress(f"cross-validating {model_name} ({N_FOLDS}-fold, {len(NEWSGROUPS_ALPHAS)} alphas) ...")
        alpha, cv_accuracy = _newsgroups_alpha(coupling, train, folds, n_jobs)
        _progress(f"refitting {model_name} on the whole training part ...")
        fit_started = time.perf_counter()
        model = _logistic_model(coupling, alpha, n_jobs).fit(train.X, train.y)
        fit_ms = 1e3 * (time.perf_counter() - fit_started)
        accuracies = [float(np.mean(p == y)) for p, y in zip(model.predict(test.X), test.y)]
        rows.append(
            [
                model_name,
                f"{alpha:.0e}",
                f"{cv_accuracy:.3f}",
                *(f"{accuracy:.3f}" for accuracy in accuracies),
                f"{np.mean(accuracies):.3f}",
                f"{fit_ms:.1f}",
            ]
        )

    n_train, n_test = sum(y.size for y in train.y), sum(y.size for y in test.y)
    print(
        f"20 Newsgroups {name}: {len(data.task_names)} tasks, {n_train} training and {n_test} test documents "
        f"(random {split} split within every task and class, seed {seed})"
    )
    print(f"features: {data.X_all.shape[1]} term counts, log(1 + count) then every row scaled to unit L2 norm")
    alphas = ", ".join(f"{alpha:.0e}" for alpha in NEWSGROUPS_ALPHAS)
    print(f"alpha from {{{alphas}}} chosen by {N_FOLDS}-fold cross-validated accuracy ('CV acc') on the training part,")
    print("folds stratified within every task, then refitted on all of it; 'fit ms' times that final fit")
    print()
    _print_table(header, rows)
    print()
    print("independent: K = I, a separate L2-penalised logistic regression per task")
    print("mean-regularised: K = I - 11^T/T + mu I with mu = 0.1, the tasks pulled towards their mean model")
    print("task acc: fraction of the task's test documents classified correctly; mean acc: mean over the tasks")
    _progress(f"done in {time.perf_counter() - started:.1f} s")
    return 0


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
