"""Multi-task kernel ridge at scale through feature maps, K4.

K1's data (T=4 tasks at their own inputs, RBF, fixed B, alpha = noise / N, no intercepts; noise sd
0.1 is the floor of the test RMSE), 2000 held-out inputs per task.

* N = 200,000: ``nystroem`` (1000 landmarks) and ``random_features`` (1000 features): fit time and
  test RMSE (the exact dual would need a 320 GB matrix).
* N = 10,000 (a subsample): the exact ``cholesky`` against both, with the largest difference between
  approximate and exact predictions.

A fit is timed as the median of the repeats after a warm-up where one fit takes under 20 s, else once.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..adapters import ours
from ..harness.threads import limit
from ..harness.workload import Context, Outcome, Part, table
from ..problems.kernels import GAMMA, NOISE, own_inputs, task_kernel

NAME, IDS, GROUP = "kernel_ridge_scale", ("K4",), "kernel_machines"
MAX_REPEATS = 3  # fits of tens of seconds at N = 200,000
T = 4
N_TEST = 2000  # held-out inputs per task
NOISE_STD = 0.1  # of the targets: the floor of the test RMSE
SLOW_FIT_SECONDS = 20.0  # a fit slower than this is timed once


def split_data(N: int, n_test: int) -> tuple[tuple, tuple]:
    """Training lists (N / T per task) and held-out (inputs, targets) per task, one draw."""
    n_t = N // T
    Xs, ys, _ = own_inputs(T, n_t + n_test, 1, seed=5)
    return ([X[:n_t] for X in Xs], [y[:n_t] for y in ys]), ([X[n_t:] for X in Xs], [y[n_t:] for y in ys])


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
    """Test RMSE and the stacked predictions."""
    predictions = np.concatenate(model.predict(test[0]))
    return float(np.sqrt(np.mean((predictions - np.concatenate(test[1])) ** 2))), predictions


def run(context: Context, output_folder: Path) -> Outcome:
    """Measure K4."""
    N_large, N_small, m = (4000, 1000, 100) if context.quick else (200_000, 10_000, 1000)
    n_test = 200 if context.quick else N_TEST
    threads, repeats = context.threads, context.repeats
    (Xs, ys), test = split_data(N_large, n_test)
    n_small = N_small // T
    Xs_small, ys_small = [X[:n_small] for X in Xs], [y[:n_small] for y in ys]
    B = task_kernel(T, 1)
    make = lambda N, **params: lambda: ours.kernel_ridge(B, NOISE / N, threads, GAMMA, **params)  # noqa: E731
    approximations = {"nystroem": dict(solver="nystroem", n_components=m, random_state=0),
                      "random_features": dict(solver="random_features", n_components=m, random_state=0)}
    rows, figures = [], {}
    with limit(threads, blas_only=True):
        for name, params in approximations.items():
            model, fit_time, how = timed_fit(make(N_large, **params), Xs, ys, repeats)
            error, _ = rmse(model, test)
            rows.append([f"`{name}`, m = {m}", f"{N_large:,}", f"{fit_time:.2f}", how, f"{error:.4f}", "—"])
            figures.setdefault("large_s", fit_time)
            figures.setdefault("large_rmse", error)
        exact, fit_time, how = timed_fit(make(N_small, solver="cholesky"), Xs_small, ys_small, repeats)
        exact_error, exact_predictions = rmse(exact, test)
        rows.append(["`cholesky` (exact)", f"{N_small:,}", f"{fit_time:.2f}", how, f"{exact_error:.4f}", "0"])
        figures.update(exact_s=fit_time, exact_rmse=exact_error)
        scale = np.abs(exact_predictions).max()
        for name, params in approximations.items():
            model, fit_time, how = timed_fit(make(N_small, **params), Xs_small, ys_small, repeats)
            error, predictions = rmse(model, test)
            difference = np.abs(predictions - exact_predictions).max()
            rows.append([f"`{name}`, m = {m}", f"{N_small:,}", f"{fit_time:.2f}", how, f"{error:.4f}",
                         f"{difference:.1e} ({difference / scale:.1e} of max abs f)"])
            figures.setdefault("small_s", fit_time)
            figures.setdefault("small_rmse", error)
            figures.setdefault("small_difference", difference / scale)
    outcome = Outcome(figures=dict(threads=threads, T=T, gamma=GAMMA, noise=NOISE, noise_std=NOISE_STD, m=m,
                                   N_large=N_large, N_small=N_small, n_test=n_test, **figures))
    outcome.tables["scale"] = table(["method", "N (training)", "fit (s)", "timing",
                                     f"test RMSE ({T} × {n_test} held out)",
                                     "max abs difference to the exact predictions (same N)"], rows)
    outcome.summary.append(Part("summary"))
    return outcome
