"""Multi-task kernel ridge at scale through feature maps (issue 5, benchmark 4).

The data of benchmark 1 (bench_kernel_ridge.py): T=4 tasks, each observed at its own
inputs in R^2, RBF input kernel with lengthscale 0.5, the fixed positive definite task
kernel B, alpha = noise variance / N, no intercepts; y = sin(2 x_0) cos(x_1) + 0.3 t +
N(0, 0.1^2) noise (so 0.1 is the floor of the test RMSE). Held-out test set: 2000
inputs per task from the same distribution.

* N = 200,000 (50,000 per task): solver="nystroem" with n_components = 1000 landmarks,
  and solver="random_features" with 1000 random Fourier features, for comparison: fit
  time and test RMSE. The exact dual would need a 200,000^2 matrix (320 GB).
* N = 10,000 (the first 2,500 samples of every task), where the exact solver is
  affordable: solver="cholesky" (exact) against nystroem and random_features with
  m = 1000 on the same subsample: fit times, test RMSE, and the largest difference
  between the approximate and the exact predictions on the test inputs.

Each fit is timed as said in its row: the median of ``--repeats`` fits (after one
untimed warm-up) where one fit takes under 20 s; otherwise the first fit is timed once.

Run (from bench/):
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 python bench_kernel_ridge_nystroem.py --threads 1
(--quick: tiny sizes, a smoke test of the script).
"""

from __future__ import annotations

import time

import numpy as np

from bench_kernel_ridge import GAMMA, NOISE, T1, own_inputs_data, task_kernel
from common import blas_threads, main, markdown_table, mt

N_TEST = 2000  # held-out inputs per task
NOISE_STD = 0.1  # of the targets of own_inputs_data: the floor of the test RMSE
SLOW_FIT_SECONDS = 20.0  # a fit slower than this is timed once


def split_data(N: int, n_test: int):
    """Training lists (N / T per task) and held-out (inputs, targets) per task, one draw."""
    n_t = N // T1
    Xs, ys, _ = own_inputs_data(T1 * (n_t + n_test), 1, seed=5)
    train = ([X[:n_t] for X in Xs], [y[:n_t] for y in ys])
    test = ([X[n_t:] for X in Xs], [y[n_t:] for y in ys])
    return train, test


def timed_fit(make, Xs, ys, repeats: int) -> tuple[object, float, str]:
    """A fitted model, its fit time (s) and how that time was taken."""
    start = time.perf_counter()
    model = make().fit(Xs, ys)
    first = time.perf_counter() - start
    if first > SLOW_FIT_SECONDS or repeats < 2:
        return model, first, "timed once"
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model = make().fit(Xs, ys)
        times.append(time.perf_counter() - start)
    return model, float(np.median(times)), f"median of {repeats} (after a warm-up)"


def rmse(model, test) -> tuple[float, np.ndarray]:
    predictions = np.concatenate(model.predict(test[0]))
    return float(np.sqrt(np.mean((predictions - np.concatenate(test[1])) ** 2))), predictions


def estimator(N: int, threads: int, **params):
    return lambda: mt.MultiTaskKernelRidge(kernel="rbf", gamma=GAMMA, task_kernel=task_kernel(T1, 1),
                                           alpha=NOISE / N, fit_intercept=False, n_jobs=threads, **params)


def seconds(value: float) -> str:
    return f"{value:.2f}"


def run(repeats: int = 3, threads: int = 1, quick: bool = False) -> dict:
    N_large, N_small, m = (4000, 1000, 100) if quick else (200_000, 10_000, 1000)
    n_test = 200 if quick else N_TEST
    (Xs, ys), test = split_data(N_large, n_test)
    n_small = N_small // T1
    Xs_small, ys_small = [X[:n_small] for X in Xs], [y[:n_small] for y in ys]
    approximations = {
        "nystroem": dict(solver="nystroem", n_components=m, random_state=0),
        "random_features": dict(solver="random_features", n_components=m, random_state=0),
    }
    rows, summary = [], {}
    with blas_threads(threads):
        for name, params in approximations.items():
            model, fit_time, how = timed_fit(estimator(N_large, threads, **params), Xs, ys, repeats)
            error, _ = rmse(model, test)
            rows.append([f"`{name}`, m = {m}", f"{N_large:,}", seconds(fit_time), how, f"{error:.4f}", "—"])
            summary.setdefault("large", (fit_time, error))
        exact, fit_time, how = timed_fit(estimator(N_small, threads, solver="cholesky"), Xs_small, ys_small, repeats)
        exact_error, exact_predictions = rmse(exact, test)
        rows.append(["`cholesky` (exact)", f"{N_small:,}", seconds(fit_time), how, f"{exact_error:.4f}", "0"])
        summary["exact"] = (fit_time, exact_error)
        scale = np.abs(exact_predictions).max()
        for name, params in approximations.items():
            model, fit_time, how = timed_fit(estimator(N_small, threads, **params), Xs_small, ys_small, repeats)
            error, predictions = rmse(model, test)
            difference = np.abs(predictions - exact_predictions).max()
            rows.append([f"`{name}`, m = {m}", f"{N_small:,}", seconds(fit_time), how, f"{error:.4f}",
                         f"{difference:.1e} ({difference / scale:.1e} of max abs f)"])
            summary.setdefault("small", (fit_time, error, difference / scale))
    table = markdown_table(["method", "N (training)", "fit (s)", "timing", f"test RMSE ({T1} × {n_test} held out)",
                            "max abs difference to the exact predictions (same N)"], rows)
    section = (
        f"### K4. Multi-task kernel ridge at scale: Nyström and random features (threads: {threads})\n\n"
        f"T = {T1} tasks at their own inputs in R^2, RBF (gamma = {GAMMA}), fixed B, alpha = {NOISE} / N, no "
        f"intercepts; the targets' noise standard deviation {NOISE_STD} is the floor of the test RMSE.\n\n{table}\n"
    )
    (large_time, large_error), (exact_time, exact_error) = summary["large"], summary["exact"]
    small_time, small_error, small_difference = summary["small"]
    summary_rows = [[
        f"K4. `nystroem`, m={m}, T={T1}, RBF: fit time and test RMSE at N={N_large:,}; on an N={N_small:,} "
        "subsample against the exact `cholesky`",
        f"{seconds(large_time)} s, RMSE {large_error:.4f}; N={N_small:,}: {seconds(small_time)} s vs exact "
        f"{seconds(exact_time)} s, RMSE {small_error:.4f} vs {exact_error:.4f}, predictions differ by "
        f"{small_difference:.1e} of max abs f", "report", ""]]
    return {"section": section, "status": "measured (no ratio target)", "summary_rows": summary_rows}


if __name__ == "__main__":
    main(run, __doc__)
