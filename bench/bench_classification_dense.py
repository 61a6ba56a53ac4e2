"""Classification workloads C1 and C2: dense Gaussian features, T=50, n_t=1000, d=200, logistic loss.

C1. K = I (``coupling="identity"``), alpha = 1/(N C) for C = 1 and C = 0.01: every task is then
    scikit-learn ``LogisticRegression(solver="lbfgs", C=C)`` on its own, fitted task by task as the
    reference. Target: our fit <= 1.0 x scikit-learn's, both at a relative objective gap <= 1e-8
    from F* (our ``bcd`` at tol=1e-12, checked against scikit-learn at tol=1e-12); each method runs at
    the loosest tolerance of 1e-2 ... 1e-12 that reaches the gap. Also 2 threads for C = 1: ours
    with ``n_jobs=2`` against scikit-learn's per-task fits in 2 joblib (loky) processes.
C2. ``coupling="mean_regularized"`` (K = I - 11^T/T + 0.1 I) at alpha = 1e-4, 1e-3, 1e-2: time to a
    1e-8 gap for ``solver="bcd"``, ``solver="newton"`` (what ``auto`` picks here: bcd for diagonal K,
    newton otherwise) and ``solver="gradient"``, with iterations and data passes (the core's count:
    passes over the whole data set after the statistics). F* from ``bcd`` at 1e-12; ``newton`` and
    ``gradient`` at 1e-12 are reported against it as a check.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 python bench/bench_classification_dense.py

Labels come from a planted model: w_t = w_0 + v_t (shared plus task-specific Gaussian parts), a
task intercept, and y ~ Bernoulli(sigmoid(<w_t, x> + b_t)).
"""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_classification import (  # noqa: E402
    GAP_TARGET_CLASSIFICATION,
    REFERENCE_TOL,
    all_threads,
    core_data_passes,
    fit_classifier,
    fmt_tol,
    limited,
    logistic_objective,
    loosest_tolerance_for,
    relative_gap,
    round_robin,
)
from common import main, markdown_table, ms, verdict  # noqa: E402
from multitask.coupling import mean_regularized  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

# C2's solvers, in the order of the table: ``auto`` picks bcd for diagonal K, newton otherwise.
C2_SOLVERS = ("bcd", "newton", "gradient")


def make_problem(n_tasks: int, n_samples: int, n_features: int, seed: int = 0):
    """Per-task dense Gaussian X_t (C-contiguous float64) and 0/1 labels from a planted model."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(size=n_features) * (2.0 / np.sqrt(n_features))
    Xs, ys = [], []
    for _ in range(n_tasks):
        X = rng.normal(size=(n_samples, n_features))
        w = shared + rng.normal(size=n_features) / np.sqrt(n_features)
        margins = X @ w + 0.3 * rng.normal()
        ys.append((rng.random(n_samples) < 1.0 / (1.0 + np.exp(-margins))).astype(np.int64))
        Xs.append(X)
    return Xs, ys


# --------------------------------------------------------------------------- scikit-learn reference


def sklearn_fit(Xs, ys, C: float, tol: float):
    """scikit-learn LogisticRegression(lbfgs) per task: (coef (T, d), intercept (T,))."""
    coef, intercept = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for X, y in zip(Xs, ys):
            model = LogisticRegression(solver="lbfgs", C=C, tol=tol, max_iter=100_000).fit(X, y)
            coef.append(model.coef_[0])
            intercept.append(model.intercept_[0])
    return np.array(coef), np.array(intercept)


def _sklearn_one_task(X, y, C, tol):
    """One task's fit in a joblib worker (module level: picklable). loky limits the worker's
    BLAS/OpenMP threads to cpu_count // n_jobs = 1."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(solver="lbfgs", C=C, tol=tol, max_iter=100_000).fit(X, y)
    return model.coef_[0], model.intercept_[0]


def sklearn_fit_processes(Xs, ys, C: float, tol: float, n_jobs: int = 2):
    from joblib import Parallel, delayed

    out = Parallel(n_jobs=n_jobs, backend="loky")(delayed(_sklearn_one_task)(X, y, C, tol) for X, y in zip(Xs, ys))
    return np.array([c for c, _ in out]), np.array([b for _, b in out])


# --------------------------------------------------------------------------- C1


def identity_workload(Xs, ys, C: float, repeats: int, threads: int, two_threads: bool) -> dict:
    T, d = len(Xs), Xs[0].shape[1]
    N = sum(X.shape[0] for X in Xs)
    alpha = 1.0 / (N * C)
    K = np.eye(T)
    F = lambda coef, b: logistic_objective(Xs, ys, coef, b, K, alpha)  # noqa: E731

    with all_threads(threads):
        reference = fit_classifier(Xs, ys, coupling="identity", alpha=alpha, solver="bcd", tol=REFERENCE_TOL,
                                   threads=threads)
        optimum = F(reference.coef_, reference.intercept_)
        sk_coef, sk_b = sklearn_fit(Xs, ys, C, REFERENCE_TOL)
        sklearn_check = relative_gap(F(sk_coef, sk_b), optimum)

        ours = {}
        for solver in ("auto", "gradient"):
            def gap_at(tol, solver=solver):
                model = fit_classifier(Xs, ys, coupling="identity", alpha=alpha, solver=solver, tol=tol,
                                       threads=threads)
                ours[solver] = model
                return relative_gap(F(model.coef_, model.intercept_), optimum)

            tol, gap = loosest_tolerance_for(gap_at)
            ours[solver] = dict(tol=tol, gap=gap, n_iter=ours[solver].n_iter_, chose=ours[solver].solver_)

        def sk_gap_at(tol):
            return relative_gap(F(*sklearn_fit(Xs, ys, C, tol)), optimum)

        sk_tol, sk_gap = loosest_tolerance_for(sk_gap_at)

    runs = {
        "ours auto": limited(threads, lambda: fit_classifier(Xs, ys, coupling="identity", alpha=alpha, solver="auto",
                                                             tol=ours["auto"]["tol"], threads=threads)),
        "ours gradient": limited(threads, lambda: fit_classifier(Xs, ys, coupling="identity", alpha=alpha,
                                                                 solver="gradient", tol=ours["gradient"]["tol"],
                                                                 threads=threads)),
        "sklearn": limited(threads, lambda: sklearn_fit(Xs, ys, C, sk_tol)),
    }
    times = round_robin(runs, repeats)
    ratio = times["ours auto"] / times["sklearn"]
    status = verdict(ratio, 1.0)
    rows = [
        [f"scikit-learn LogisticRegression(lbfgs, C={C:g}), {T} fits in a loop", ms(times["sklearn"]),
         f"{sk_gap:.1e}", f"tol={fmt_tol(sk_tol)}", "", "1.00", ""],
        [f"**multitask `auto`** (chose `{ours['auto']['chose']}`)", ms(times["ours auto"]), f"{ours['auto']['gap']:.1e}",
         f"tol={fmt_tol(ours['auto']['tol'])}", ours["auto"]["n_iter"], f"{ratio:.2f}", f"**{status}**"],
        ["multitask `gradient`", ms(times["ours gradient"]), f"{ours['gradient']['gap']:.1e}",
         f"tol={fmt_tol(ours['gradient']['tol'])}", ours["gradient"]["n_iter"],
         f"{times['ours gradient'] / times['sklearn']:.2f}", ""],
    ]
    out = dict(C=C, alpha=alpha, optimum=optimum, sklearn_check=sklearn_check, times=times, ratio=ratio,
               status=status, rows=rows, ours=ours, sk_tol=sk_tol, sk_gap=sk_gap)

    if two_threads:
        # 2 threads: ours n_jobs=2 (tasks are independent under K = I, updated in parallel); scikit-learn's
        # per-task fits spread over 2 loky processes (threads would serialise on the GIL), each 1 thread.
        with all_threads(2):
            two = fit_classifier(Xs, ys, coupling="identity", alpha=alpha, solver="auto", tol=ours["auto"]["tol"],
                                 threads=2)
            gap_two = relative_gap(F(two.coef_, two.intercept_), optimum)
        with all_threads(1):
            sk2 = sklearn_fit_processes(Xs, ys, C, sk_tol)
            gap_sk2 = relative_gap(F(*sk2), optimum)
        runs2 = {
            "ours 2 threads": limited(2, lambda: fit_classifier(Xs, ys, coupling="identity", alpha=alpha,
                                                                solver="auto", tol=ours["auto"]["tol"], threads=2)),
            "sklearn 2 processes": limited(1, lambda: sklearn_fit_processes(Xs, ys, C, sk_tol)),
            "ours 1 thread": limited(1, lambda: fit_classifier(Xs, ys, coupling="identity", alpha=alpha,
                                                               solver="auto", tol=ours["auto"]["tol"], threads=1)),
            "sklearn 1 process": limited(1, lambda: sklearn_fit(Xs, ys, C, sk_tol)),
        }
        t2 = round_robin(runs2, repeats)
        out["two"] = dict(times=t2, gap_ours=gap_two, gap_sklearn=gap_sk2,
                          ratio=t2["ours 2 threads"] / t2["sklearn 2 processes"],
                          ratio_best=t2["ours 2 threads"] / min(t2["sklearn 2 processes"], t2["sklearn 1 process"]),
                          speedup=t2["ours 1 thread"] / t2["ours 2 threads"])
    return out


# --------------------------------------------------------------------------- C2


def mean_regularized_workload(Xs, ys, alpha: float, repeats: int, threads: int) -> dict:
    T = len(Xs)
    K = mean_regularized(T)  # the estimator's coupling="mean_regularized" (mu = 0.1)
    F = lambda coef, b: logistic_objective(Xs, ys, coef, b, K, alpha)  # noqa: E731
    with all_threads(threads):
        reference = fit_classifier(Xs, ys, coupling="mean_regularized", alpha=alpha, solver="bcd", tol=REFERENCE_TOL,
                                   threads=threads)
        optimum = F(reference.coef_, reference.intercept_)
        check = {}  # the other solvers at tol=1e-12, against F*
        for solver in C2_SOLVERS[1:]:
            model = fit_classifier(Xs, ys, coupling="mean_regularized", alpha=alpha, solver=solver,
                                   tol=REFERENCE_TOL, threads=threads)
            check[solver] = relative_gap(F(model.coef_, model.intercept_), optimum)
        found = {}
        for solver in C2_SOLVERS:
            models = {}

            def gap_at(tol, solver=solver):
                model = fit_classifier(Xs, ys, coupling="mean_regularized", alpha=alpha, solver=solver, tol=tol,
                                       threads=threads)
                models["last"] = model
                return relative_gap(F(model.coef_, model.intercept_), optimum)

            tol, gap = loosest_tolerance_for(gap_at)
            n_iter_core, passes = core_data_passes(Xs, ys, K, alpha, solver, tol, threads)
            n_iter = models["last"].n_iter_
            found[solver] = dict(tol=tol, gap=gap, n_iter=n_iter,
                                 passes=passes if n_iter_core == n_iter else None)
    runs = {solver: limited(threads, lambda solver=solver: fit_classifier(
        Xs, ys, coupling="mean_regularized", alpha=alpha, solver=solver, tol=found[solver]["tol"], threads=threads))
        for solver in C2_SOLVERS}
    times = round_robin(runs, repeats)
    return dict(alpha=alpha, optimum=optimum, check=check, found=found, times=times)


# --------------------------------------------------------------------------- the section


def run(repeats: int = 5, threads: int = 1, quick: bool = False) -> dict:
    T, n, d = (8, 200, 50) if quick else (50, 1000, 200)
    Xs, ys = make_problem(T, n, d, seed=0)
    N = T * n
    c1 = [identity_workload(Xs, ys, C, repeats, threads, two_threads=(C == 1.0 and threads == 1))
          for C in (1.0, 0.01)]
    c2 = [mean_regularized_workload(Xs, ys, alpha, repeats, threads) for alpha in (1e-4, 1e-3, 1e-2)]

    header = ["method", "time (ms)", "relative gap", "setting", "iterations", "× scikit-learn", "target ≤ 1.0"]
    lines = [
        f"### C1. K = I against scikit-learn: T={T}, n_t={n}, d={d} dense Gaussian, logistic loss",
        "",
        f"`coupling=\"identity\"`, α = 1/(N C) with N = {N}: each task is scikit-learn "
        "`LogisticRegression(solver=\"lbfgs\", C=C)` on its own (the same objective, multiplied by N α), fitted "
        "task by task in a Python loop as the reference. Target: our fit ≤ 1.0 × scikit-learn's, both at a "
        f"relative gap ≤ {GAP_TARGET_CLASSIFICATION:.0e} from F* (ours `bcd` at tol=1e-12); each method at the "
        "loosest tolerance of 1e-2 … 1e-12 that reaches the gap (ours: relative KKT residual `tol`; scikit-learn: "
        "`tol` of lbfgs, `max_iter=100000`). Threads: "
        f"{threads}. Labels from a planted model w_t = w_0 + v_t, y ~ Bernoulli(σ(⟨w_t, x⟩ + b_t)).",
        "",
    ]
    summary_rows = []
    for r in c1:
        lines += [
            f"**C = {r['C']:g}** (α = {r['alpha']:.3g}); F* = {r['optimum']:.12g}; scikit-learn at tol=1e-12 is "
            f"{r['sklearn_check']:.1e} from F* (relative).",
            "",
            markdown_table(header, r["rows"]),
            "",
            f"**Result (C = {r['C']:g}): {r['status']}** — ours {r['ratio']:.2f} × scikit-learn "
            f"({ms(r['times']['ours auto'])} ms against {ms(r['times']['sklearn'])} ms).",
            "",
        ]
        summary_rows.append([f"C1. K = I, T={T}, n_t={n}, d={d}, C={r['C']:g}: ours `auto` vs scikit-learn lbfgs "
                             "per task, gap ≤ 1e-8", f"{r['ratio']:.2f} ×", "≤ 1.0 ×", f"**{r['status']}**"])
        if "two" in r:
            two = r["two"]
            t2 = two["times"]
            lines += [
                f"2 threads, C = {r['C']:g} (same tolerances; round-robin, {repeats} rounds): ours `n_jobs=2` (the "
                "tasks are independent under K = I and updated in parallel) against scikit-learn's per-task fits "
                "spread over 2 joblib `loky` processes (`Parallel(n_jobs=2)`, 1 BLAS/OpenMP thread each; threads "
                "would serialise on the GIL). The 1-thread rows are from the same rounds.",
                "",
                markdown_table(["method", "time (ms)", "relative gap", "× scikit-learn 2 processes"], [
                    ["scikit-learn, 2 loky processes", ms(t2["sklearn 2 processes"]), f"{two['gap_sklearn']:.1e}",
                     "1.00"],
                    ["scikit-learn, 1 process (loop)", ms(t2["sklearn 1 process"]), "", 
                     f"{t2['sklearn 1 process'] / t2['sklearn 2 processes']:.2f}"],
                    ["**multitask `auto`, 2 threads**", ms(t2["ours 2 threads"]), f"{two['gap_ours']:.1e}",
                     f"{two['ratio']:.2f}"],
                    ["multitask `auto`, 1 thread", ms(t2["ours 1 thread"]), "",
                     f"{t2['ours 1 thread'] / t2['sklearn 2 processes']:.2f}"],
                ]),
                "",
                f"Ours with 2 threads: speed-up {two['speedup']:.2f} × over 1 thread; {two['ratio']:.2f} × scikit-learn "
                f"in 2 processes, {two['ratio_best']:.2f} × scikit-learn's faster setting (no target).",
                "",
            ]
            summary_rows.append(["C1'. the same, C=1, 2 threads: ours `n_jobs=2` vs scikit-learn in 2 loky processes",
                                 f"{two['ratio']:.2f} × (speed-up {two['speedup']:.2f} × over 1 thread)", "(none)",
                                 "report"])

    lines += [
        f"### C2. Mean-regularised coupling: `bcd`, `newton` and `gradient`, same data (T={T}, n_t={n}, d={d})",
        "",
        "`coupling=\"mean_regularized\"`: K = I − 11ᵀ/T + μ I with the builder's default μ = 0.1 "
        "(`multitask.coupling.mean_regularized`). Solvers: `bcd` (block Newton over the tasks), `newton` "
        "(truncated Newton-CG on all parameters at once) and `gradient` (accelerated gradient); `auto` picks "
        "`bcd` for diagonal K, `newton` otherwise (so `newton` here). Time to a relative gap ≤ 1e-8 from F* "
        "(`bcd` at tol=1e-12; `newton` and `gradient` at tol=1e-12 agree to the figure in the last column), each "
        "solver at the loosest tolerance of 1e-2 … 1e-12 that reaches it. Data passes: the core's count of "
        "passes over the whole data set (`fit_linear_model_f64(...)[\"data_passes\"]`, the same fit; the "
        "estimator does not expose it); for `bcd` a pass over one task's block counts 1/T. Threads: "
        f"{threads}.",
        "",
    ]
    rows = []
    for r in c2:
        for solver in C2_SOLVERS:
            f = r["found"][solver]
            t = r["times"][solver]
            passes = f["passes"]
            rows.append([f"{r['alpha']:g}", f"`{solver}`", ms(t), f"{f['gap']:.1e}", f"tol={fmt_tol(f['tol'])}",
                         f["n_iter"], passes if passes is not None else "n/a",
                         f"{t / passes * 1e3:.2f}" if passes else "n/a",
                         f"{t / r['times']['bcd']:.2f}",
                         f"{r['check'][solver]:.1e}" if solver in r["check"] else "(F*)"])
    lines += [
        markdown_table(["α", "solver", "time (ms)", "relative gap", "setting", "iterations", "data passes",
                        "ms per pass", "× `bcd`", "F(solver, tol=1e-12) vs F*"], rows),
        "",
    ]
    faster = []
    for r in c2:
        ratios = ", ".join(f"`{s}` {r['times'][s] / r['times']['bcd']:.2f} × `bcd`" for s in C2_SOLVERS[1:])
        faster.append(f"α={r['alpha']:g}: {ratios}")
        summary_rows.append([f"C2. mean-regularised, α={r['alpha']:g}: " + " / ".join(f"`{s}`" for s in C2_SOLVERS)
                             + " to gap ≤ 1e-8", " / ".join(ms(r["times"][s]) for s in C2_SOLVERS) + " ms",
                             "(none)", "report"])
    lines += ["Time ratios: " + "; ".join(faster) + ".", ""]
    return {"section": "\n".join(lines).rstrip(), "c1": c1, "c2": c2, "summary_rows": summary_rows}


if __name__ == "__main__":
    main(run, __doc__)
