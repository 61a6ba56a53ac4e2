"""Multi-task kernel ridge at 25 values of alpha, K5: ``kernel_ridge_path`` against 25 separate fits.

1. Shared design: T=10 tasks at the same n=2000 inputs, RBF, intercepts. Separate fits:
   ``solver="kronecker"`` at each alpha; path: one tridiagonal reduction, then O(n^2 T) per alpha.
2. Per-task inputs: T=4 tasks, N=3000 samples. Separate fits: ``solver="cholesky"`` at each alpha;
   path: ``band`` (the default's choice here), ``tridiagonal`` and ``per_alpha`` (the Gram once, one
   factorisation per alpha).

Alphas log-spaced over 1e-6 ... 1e-1; fits only, timed round-robin. Agreement: every path model's
predictions against the separate fit's at 200 test inputs per task (target 1e-8). No target on time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import multitask as mt

from ..adapters.ours import stacked_predictions
from ..harness.threads import limit
from ..harness.timing import interleaved_times
from ..harness.workload import Context, Outcome, Part, ms, table
from ..problems.kernels import GAMMA, own_inputs, shared_inputs, task_kernel

NAME, IDS, GROUP = "kernel_ridge_path", ("K5",), "kernel_machines"
MAX_REPEATS = 3
ALPHAS = np.logspace(-6, -1, 25)


def compare(estimator, X, y, X_test, methods: list[str], solver: str, repeats: int, threads: int) -> tuple[dict, str]:
    """The path (each method) against one fit per alpha: (table, speed-up of the first method)."""
    estimator = estimator.set_params(n_jobs=threads, solver=solver)
    separate_name = f"{ALPHAS.size} separate fits (`{solver}`)"

    def separate_fits():
        return [mt.MultiTaskKernelRidge(**estimator.get_params()).set_params(alpha=alpha).fit(X, y) for alpha in ALPHAS]

    runs = {f"path (`{method}`)": (lambda method=method: mt.kernel_ridge_path(estimator, X, y, alphas=ALPHAS,
                                                                               method=method)) for method in methods}
    runs[separate_name] = separate_fits
    with limit(threads, blas_only=True):
        times = interleaved_times(runs, repeats, budget=0.0)
        expected = np.concatenate([stacked_predictions(model, X_test) for model in separate_fits()])
        scale = np.abs(expected).max()
        differences = {}
        for method in methods:
            path = mt.kernel_ridge_path(estimator, X, y, alphas=ALPHAS, method=method)
            got = np.concatenate([stacked_predictions(model, X_test) for model in path.estimators])
            differences[method] = np.abs(got - expected).max() / scale
    separate = times.pop(separate_name)
    rows = [[separate_name, ms(separate), "1", "0"]]
    speedups = []
    for method in methods:
        t = times[f"path (`{method}`)"]
        speedups.append(f"{separate / t:.1f} x" + ("" if differences[method] < 1e-8 else " (predictions differ)"))
        rows.append([f"**multitask** `kernel_ridge_path(method=\"{method}\")`", ms(t), f"{separate / t:.1f}",
                     f"{differences[method]:.1e}"])
    return table(["method", f"{ALPHAS.size} alphas (ms)", "speed-up", "max abs difference / max abs f"], rows), speedups[0]


def run(context: Context, output_folder: Path) -> Outcome:
    """Measure K5."""
    n, T_shared = (60, 10) if context.quick else (2000, 10)
    N, T_own = (200, 4) if context.quick else (3000, 4)
    X, Y, X_test = shared_inputs(n, T_shared, offset=1.0, seed=4)
    shared = mt.MultiTaskKernelRidge(kernel="rbf", gamma=GAMMA, task_kernel=task_kernel(T_shared, 3))
    shared_table, speedup_shared = compare(shared, X, Y, X_test, ["tridiagonal"], "kronecker", context.repeats,
                                           context.threads)
    Xs, ys, tests = own_inputs(T_own, N // T_own, 200, seed=5)
    own = mt.MultiTaskKernelRidge(kernel="rbf", gamma=GAMMA, task_kernel=task_kernel(T_own, 1))
    own_table, speedup_own = compare(own, Xs, ys, tests, ["band", "tridiagonal", "per_alpha"], "cholesky", context.repeats,
                                     context.threads)
    outcome = Outcome(figures=dict(threads=context.threads, n_alphas=ALPHAS.size, gamma=GAMMA, first=ALPHAS[0],
                                   last=ALPHAS[-1], n=n, T_shared=T_shared, N_shared=n * T_shared, N=N, T_own=T_own,
                                   speedup_shared=speedup_shared, speedup_own=speedup_own))
    outcome.tables.update(shared=shared_table, own=own_table)
    outcome.summary.append(Part("summary"))
    return outcome
