"""Classification workloads C1 and C2: dense Gaussian features, T=50, n_t=1000, d=200, logistic loss.

C1. K = I, alpha = 1/(N C) for C = 1 and 0.01: every task is then scikit-learn
    ``LogisticRegression(lbfgs, C)`` on its own, the reference. Target: our fit <= 1.0x
    scikit-learn's, both at a relative gap <= 1e-8 from F* (our ``block_newton`` at tol=1e-12). With 1 thread,
    C = 1 also runs ours with ``n_jobs=2`` against scikit-learn in 2 loky processes (no target).
C2. Mean-regularised coupling at alpha = 1e-4, 1e-3, 1e-2: time to a 1e-8 gap for ``block_newton``,
    ``newton`` and ``gradient``, with iterations and the core's data passes (a report).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from multitask.coupling import mean_regularized

from ..adapters import ours, sklearn_peers
from ..harness.search import decades, loosest_tolerance
from ..harness.threads import limit, limited
from ..harness.timing import round_robin
from ..harness.workload import Context, Outcome, Part, ms, table, verdict
from ..problems import logistic

NAME, IDS, GROUP = "classification_dense", ("C1", "C2"), "classification"
C2_SOLVERS = ("block_newton", "newton", "gradient")  # ``auto`` picks block_newton for diagonal K, newton otherwise
C_VALUES = (1.0, 0.01)
C2_ALPHAS = (1e-4, 1e-3, 1e-2)
TOLERANCES = decades(2, 12)
REFERENCE_TOL = 1e-12


def _fit(Xs, ys, coupling, alpha, solver, tol, threads):
    return ours.fit_classifier(Xs, ys, coupling=coupling, alpha=alpha, solver=solver, tol=tol, threads=threads)


def identity_workload(Xs, ys, C: float, repeats: int, threads: int, two_threads: bool) -> Part:
    """C1 at one C: ours (auto, gradient) against scikit-learn per task."""
    T, d, N = len(Xs), Xs[0].shape[1], sum(X.shape[0] for X in Xs)
    alpha, K = 1.0 / (N * C), np.eye(T)
    F = lambda coef, b: logistic.objective(Xs, ys, coef, b, K, alpha)  # noqa: E731
    with limit(threads):
        reference = _fit(Xs, ys, "identity", alpha, "block_newton", REFERENCE_TOL, threads)
        optimum = F(reference.coef_, reference.intercept_)
        sklearn_check = logistic.relative_gap(F(*sklearn_peers.logistic_per_task(Xs, ys, C, REFERENCE_TOL)), optimum)
        found = {}
        for solver in ("auto", "gradient"):
            last = {}

            def gap_at(tol, solver=solver):
                last["model"] = _fit(Xs, ys, "identity", alpha, solver, tol, threads)
                return logistic.relative_gap(F(last["model"].coef_, last["model"].intercept_), optimum)

            tol, gap = loosest_tolerance(gap_at, TOLERANCES, logistic.GAP_TARGET)
            found[solver] = dict(tol=tol, gap=gap, n_iter=last["model"].n_iter_, chose=last["model"].solver_)
        sk_tol, sk_gap = loosest_tolerance(
            lambda tol: logistic.relative_gap(F(*sklearn_peers.logistic_per_task(Xs, ys, C, tol)), optimum),
            TOLERANCES, logistic.GAP_TARGET)
    times = round_robin({
        "ours auto": limited(threads, lambda: _fit(Xs, ys, "identity", alpha, "auto", found["auto"]["tol"], threads)),
        "ours gradient": limited(threads, lambda: _fit(Xs, ys, "identity", alpha, "gradient",
                                                       found["gradient"]["tol"], threads)),
        "sklearn": limited(threads, lambda: sklearn_peers.logistic_per_task(Xs, ys, C, sk_tol)),
    }, repeats)
    ratio = times["ours auto"] / times["sklearn"]
    status = verdict(ratio, 1.0)
    part = Part("c1_part", figures=dict(C=C, alpha_c=alpha, optimum=optimum, sklearn_check=sklearn_check,
                                        ratio=ratio, status=status, ours_ms=times["ours auto"] * 1e3,
                                        sklearn_ms=times["sklearn"] * 1e3))
    part.tables["methods"] = table(
        ["method", "time (ms)", "relative gap", "setting", "iterations", "× scikit-learn", "target ≤ 1.0"], [
            [f"scikit-learn LogisticRegression(lbfgs, C={C:g}), {T} fits in a loop", ms(times["sklearn"]),
             f"{sk_gap:.1e}", f"tol={sk_tol:.0e}", "", "1.00", ""],
            [f"**multitask `auto`** (chose `{found['auto']['chose']}`)", ms(times["ours auto"]),
             f"{found['auto']['gap']:.1e}", f"tol={found['auto']['tol']:.0e}", found["auto"]["n_iter"],
             f"{ratio:.2f}", f"**{status}**"],
            ["multitask `gradient`", ms(times["ours gradient"]), f"{found['gradient']['gap']:.1e}",
             f"tol={found['gradient']['tol']:.0e}", found["gradient"]["n_iter"],
             f"{times['ours gradient'] / times['sklearn']:.2f}", ""],
        ])
    if two_threads:
        _two_threads(part, Xs, ys, C, alpha, found["auto"]["tol"], sk_tol, F, optimum, repeats)
    return part


def _two_threads(part: Part, Xs, ys, C, alpha, tol, sk_tol, F, optimum, repeats) -> None:
    """Ours ``n_jobs=2`` (tasks independent under K = I) against scikit-learn in 2 loky processes."""
    with limit(2):
        two = _fit(Xs, ys, "identity", alpha, "auto", tol, 2)
        gap_ours = logistic.relative_gap(F(two.coef_, two.intercept_), optimum)
    with limit(1):
        gap_sklearn = logistic.relative_gap(F(*sklearn_peers.logistic_per_task_processes(Xs, ys, C, sk_tol)), optimum)
    t2 = round_robin({
        "ours 2 threads": limited(2, lambda: _fit(Xs, ys, "identity", alpha, "auto", tol, 2)),
        "sklearn 2 processes": limited(1, lambda: sklearn_peers.logistic_per_task_processes(Xs, ys, C, sk_tol)),
        "ours 1 thread": limited(1, lambda: _fit(Xs, ys, "identity", alpha, "auto", tol, 1)),
        "sklearn 1 process": limited(1, lambda: sklearn_peers.logistic_per_task(Xs, ys, C, sk_tol)),
    }, repeats)
    reference = t2["sklearn 2 processes"]
    part.blocks.append("opt_two_threads")
    part.figures.update(two_ratio=t2["ours 2 threads"] / reference,
                        two_ratio_best=t2["ours 2 threads"] / min(reference, t2["sklearn 1 process"]),
                        two_speedup=t2["ours 1 thread"] / t2["ours 2 threads"])
    part.tables["two_threads"] = table(["method", "time (ms)", "relative gap", "× scikit-learn 2 processes"], [
        ["scikit-learn, 2 loky processes", ms(reference), f"{gap_sklearn:.1e}", "1.00"],
        ["scikit-learn, 1 process (loop)", ms(t2["sklearn 1 process"]), "", f"{t2['sklearn 1 process'] / reference:.2f}"],
        ["**multitask `auto`, 2 threads**", ms(t2["ours 2 threads"]), f"{gap_ours:.1e}",
         f"{part.figures['two_ratio']:.2f}"],
        ["multitask `auto`, 1 thread", ms(t2["ours 1 thread"]), "", f"{t2['ours 1 thread'] / reference:.2f}"],
    ])


def mean_regularized_workload(Xs, ys, alpha: float, repeats: int, threads: int) -> dict:
    """C2 at one alpha: each solver's time to the gap, iterations and data passes."""
    K = mean_regularized(len(Xs))  # the estimator's coupling="mean_regularized" (mu = 0.1)
    F = lambda coef, b: logistic.objective(Xs, ys, coef, b, K, alpha)  # noqa: E731
    with limit(threads):
        reference = _fit(Xs, ys, "mean_regularized", alpha, "block_newton", REFERENCE_TOL, threads)
        optimum = F(reference.coef_, reference.intercept_)
        check = {}  # the other solvers at tol=1e-12, against F*
        for solver in C2_SOLVERS[1:]:
            model = _fit(Xs, ys, "mean_regularized", alpha, solver, REFERENCE_TOL, threads)
            check[solver] = logistic.relative_gap(F(model.coef_, model.intercept_), optimum)
        found = {}
        for solver in C2_SOLVERS:
            last = {}

            def gap_at(tol, solver=solver):
                last["model"] = _fit(Xs, ys, "mean_regularized", alpha, solver, tol, threads)
                return logistic.relative_gap(F(last["model"].coef_, last["model"].intercept_), optimum)

            tol, gap = loosest_tolerance(gap_at, TOLERANCES, logistic.GAP_TARGET)
            n_iter_core, passes = ours.core_data_passes(Xs, ys, K, alpha, solver, tol, threads)
            n_iter = last["model"].n_iter_
            found[solver] = dict(tol=tol, gap=gap, n_iter=n_iter, passes=passes if n_iter_core == n_iter else None)
    times = round_robin({solver: limited(threads, lambda solver=solver: _fit(
        Xs, ys, "mean_regularized", alpha, solver, found[solver]["tol"], threads)) for solver in C2_SOLVERS}, repeats)
    return dict(alpha=alpha, check=check, found=found, times=times)


def run(context: Context, output_folder: Path) -> Outcome:
    """Measure C1 and C2."""
    T, n, d = (8, 200, 50) if context.quick else (50, 1000, 200)
    Xs, ys = logistic.planted_dense(T, n, d, seed=0)
    repeats, threads = context.repeats, context.threads
    outcome = Outcome(figures=dict(T=T, n_t=n, d=d, N=T * n, threads=threads, repeats=repeats,
                                   gap_target=logistic.GAP_TARGET))
    outcome.parts["c1_parts"] = [identity_workload(Xs, ys, C, repeats, threads, two_threads=(C == 1.0 and threads == 1))
                                 for C in C_VALUES]
    for part in outcome.parts["c1_parts"]:
        outcome.summary.append(Part("summary_c1", figures=part.figures))
        outcome.verdicts[f"C1 C={part.figures['C']:g}"] = part.figures["status"]
        if "opt_two_threads" in part.blocks:
            outcome.summary.append(Part("summary_c1_two", figures=part.figures))
    c2 = [mean_regularized_workload(Xs, ys, alpha, repeats, threads) for alpha in C2_ALPHAS]
    rows, ratios = [], []
    for r in c2:
        for solver in C2_SOLVERS:
            f, t = r["found"][solver], r["times"][solver]
            passes = f["passes"]
            rows.append([f"{r['alpha']:g}", f"`{solver}`", ms(t), f"{f['gap']:.1e}", f"tol={f['tol']:.0e}",
                         f["n_iter"], passes if passes is not None else "n/a",
                         f"{t / passes * 1e3:.2f}" if passes else "n/a", f"{t / r['times']['block_newton']:.2f}",
                         f"{r['check'][solver]:.1e}" if solver in r["check"] else "(F*)"])
        ratios.append(f"α={r['alpha']:g}: " + ", ".join(f"`{s}` {r['times'][s] / r['times']['block_newton']:.2f} × `block_newton`"
                                                     for s in C2_SOLVERS[1:]))
        outcome.summary.append(Part("summary_c2", figures=dict(
            alpha_c2=r["alpha"], solvers=" / ".join(f"`{s}`" for s in C2_SOLVERS),
            times_ms=" / ".join(ms(r["times"][s]) for s in C2_SOLVERS))))
    outcome.tables["c2"] = table(["α", "solver", "time (ms)", "relative gap", "setting", "iterations", "data passes",
                                  "ms per pass", "× `block_newton`", "F(solver, tol=1e-12) vs F*"], rows)
    outcome.figures["c2_ratios"] = "; ".join(ratios)
    return outcome
