"""Multi-task kernel ridge at 25 values of alpha: kernel_ridge_path against 25 separate fits (issue 5).

1. Shared design: T = 10 tasks at the same n = 2000 inputs in R^2 (N = 20,000), RBF, a PSD task
   kernel B with intercepts. Separate fits: MultiTaskKernelRidge(solver="kronecker") at each alpha
   (the input Gram and one Cholesky factorisation per task direction, every time). Path: one
   tridiagonal reduction of the input Gram, then O(n^2 T) per alpha.
2. Per-task inputs: T = 4 tasks with their own inputs, N = 3000 samples, RBF, intercepts.
   Separate fits: MultiTaskKernelRidge(solver="cholesky") at each alpha (the (N, N) multi-task Gram
   and its Cholesky factorisation, every time). Path: one tridiagonal reduction of D M D, then
   O(N^2) per alpha; also the path's "per_alpha" method (the Gram once, one factorisation per alpha).

Alphas: 25 values log-spaced over 1e-6 ... 1e-1 (the 25 fits see them in the same order). Timed:
the fits only (no predict), round-robin, median of --repeats (3 in RESULTS), --threads 1.
Agreement: predictions of every path model against the separate fit at 200 test inputs per task,
max abs difference / max abs prediction (target 1e-8).
No target in the issue: the speed-up (25 separate fits / path) is reported.

Run: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 python bench/bench_kernel_ridge_path.py --threads 1 --repeats 3
(--quick: tiny sizes, a smoke test of the script).
"""

from __future__ import annotations

import numpy as np

from bench_kernel_ridge import GAMMA, task_kernel
from common import blas_threads, interleaved_times, main, markdown_table, ms, mt

ALPHAS = np.logspace(-6, -1, 25)


def shared_design(n: int, T: int, seed: int = 4):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 2))
    Y = np.column_stack([np.sin(2 * X[:, 0] + t) * np.cos(X[:, 1]) + t + 0.1 * rng.normal(size=n) for t in range(T)])
    return X, Y, rng.uniform(-2, 2, size=(200, 2))


def per_task_inputs(N: int, T: int, seed: int = 5):
    rng = np.random.default_rng(seed)
    Xs = [rng.uniform(-2, 2, size=(N // T, 2)) for _ in range(T)]
    ys = [np.sin(2 * X[:, 0]) * np.cos(X[:, 1]) + 0.3 * t + 0.1 * rng.normal(size=len(X)) for t, X in enumerate(Xs)]
    return Xs, ys, [rng.uniform(-2, 2, size=(200, 2)) for _ in range(T)]


def predictions(model, X_test) -> np.ndarray:
    predicted = model.predict(X_test)
    return np.concatenate(predicted) if isinstance(predicted, list) else np.ravel(predicted)


def compare(title: str, estimator, X, y, X_test, methods: list[str], solver: str, repeats: int, threads: int):
    """Time the path (each method) against one fit per alpha; check every path model's predictions."""
    estimator = estimator.set_params(n_jobs=threads, solver=solver)

    def separate_fits():
        return [mt.MultiTaskKernelRidge(**estimator.get_params()).set_params(alpha=alpha).fit(X, y)
                for alpha in ALPHAS]

    runs = {f"path (`{method}`)": (lambda method=method: mt.kernel_ridge_path(estimator, X, y, alphas=ALPHAS,
                                                                               method=method))
            for method in methods}
    runs[f"{ALPHAS.size} separate fits (`{solver}`)"] = separate_fits
    with blas_threads(threads):
        times = interleaved_times(runs, repeats, budget=0.0)
        fits = separate_fits()
        expected = np.concatenate([predictions(model, X_test) for model in fits])
        scale = np.abs(expected).max()
        differences = {}
        for method in methods:
            path = mt.kernel_ridge_path(estimator, X, y, alphas=ALPHAS, method=method)
            got = np.concatenate([predictions(model, X_test) for model in path.estimators])
            differences[method] = np.abs(got - expected).max() / scale
    separate = times.pop(f"{ALPHAS.size} separate fits (`{solver}`)")
    rows = [[f"{ALPHAS.size} separate fits (`{solver}`)", ms(separate), "1", "0"]]
    speedups = []
    for method in methods:
        t = times[f"path (`{method}`)"]
        speedups.append(f"{separate / t:.1f} x" + ("" if differences[method] < 1e-8 else " (predictions differ)"))
        rows.append([f"**multitask** `kernel_ridge_path(method=\"{method}\")`", ms(t), f"{separate / t:.1f}",
                     f"{differences[method]:.1e}"])
    table = markdown_table(["method", f"{ALPHAS.size} alphas (ms)", "speed-up", "max abs difference / max abs f"],
                           rows)
    return f"#### {title}\n\n{table}\n", speedups[0]


def run(repeats: int = 3, threads: int = 1, quick: bool = False) -> dict:
    n, T_shared = (60, 10) if quick else (2000, 10)
    N, T_own = (200, 4) if quick else (3000, 4)
    X, Y, X_test = shared_design(n, T_shared)
    shared = mt.MultiTaskKernelRidge(kernel="rbf", gamma=GAMMA, task_kernel=task_kernel(T_shared, 3))
    text_shared, speedup_shared = compare(
        f"Shared design: T = {T_shared} tasks at the same n = {n} inputs (N = {n * T_shared})",
        shared, X, Y, X_test, ["tridiagonal"], "kronecker", repeats, threads)
    Xs, ys, tests = per_task_inputs(N, T_own)
    own = mt.MultiTaskKernelRidge(kernel="rbf", gamma=GAMMA, task_kernel=task_kernel(T_own, 1))
    text_own, speedup_own = compare(
        f"Per-task inputs: T = {T_own} tasks, N = {N} samples", own, Xs, ys, tests,
        ["tridiagonal", "per_alpha"], "cholesky", repeats, threads)
    section = (
        f"### K5. Multi-task kernel ridge, {ALPHAS.size} alphas at once (threads: {threads})\n\n"
        f"RBF input kernel (gamma = {GAMMA}), fixed task kernel B, intercepts, alphas log-spaced "
        f"{ALPHAS[0]:.0e} … {ALPHAS[-1]:.0e}; fit times only.\n\n" + text_shared + "\n" + text_own
    )
    summary_rows = [[f"K5. `kernel_ridge_path`, {ALPHAS.size} alphas vs {ALPHAS.size} separate fits: shared design "
                     f"T={T_shared}, n={n}; per-task inputs T={T_own}, N={N}",
                     f"{speedup_shared} faster; {speedup_own} faster", "report", ""]]
    return {"section": section, "status": f"speed-up {speedup_shared} (shared), {speedup_own} (per-task)",
            "summary_rows": summary_rows}


if __name__ == "__main__":
    main(run, __doc__)
