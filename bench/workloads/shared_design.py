"""Workload 3: shared design n=5000, d=300, T=100, mean coupling (mu=0.1), alpha=1.

Ours, ``fit(X, Y)`` with Y of shape (n, T) (the exact Sylvester solver), against the numpy/scipy
routes of ``adapters.numpy_scipy.SHARED_DESIGN_ROUTES``, each including the centring, the Gram and
the right-hand sides. Target: ours <= 1.0x the fastest route, with the same solution.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import multitask as mt

from ..adapters import ours
from ..adapters.numpy_scipy import SHARED_DESIGN_ROUTES, centred_statistics, eigh_route
from ..harness.threads import limit
from ..harness.timing import interleaved_times, median_time
from ..harness.workload import Context, Outcome, Part, ms, table, verdict
from ..problems.least_squares import relative_difference, shared_design

NAME, IDS, GROUP = "shared_design", ("3", "W3"), "core"
TARGET = 1.0
ALPHA = 1.0


def run(context: Context, output_folder: Path) -> Outcome:
    """Measure workload 3."""
    n, d, T = (500, 30, 10) if context.quick else (5000, 300, 100)
    X, Y = shared_design(n, d, T)
    K, threads, repeats = mt.coupling.mean_regularized(T, mu=0.1), context.threads, context.repeats
    with limit(threads, blas_only=True):
        runs = {name: (lambda route=route: route(X, Y, K, ALPHA)) for name, route in SHARED_DESIGN_ROUTES.items()}
        runs["ours"] = lambda: ours.fit_shared_design(X, Y, K, ALPHA, threads)
        times = interleaved_times(runs, repeats)
        ours_time = times.pop("ours")
        reference = eigh_route(X, Y, K, ALPHA)
        differences = {name: relative_difference(route(X, Y, K, ALPHA), reference)
                       for name, route in SHARED_DESIGN_ROUTES.items()}
        model = ours.fit_shared_design(X, Y, K, ALPHA, threads)
        our_difference = relative_difference(model.coef_, reference)
        A, _ = centred_statistics(X, Y)  # the profile of the numpy route
        parts = {
            "centring X and Y (copies)": median_time(lambda: (X - X.mean(axis=0), Y - Y.mean(axis=0)), repeats),
            "Gram X^T X (syrk)": median_time(lambda: X.T @ X, repeats),
            "right-hand sides X^T Y": median_time(lambda: X.T @ Y, repeats),
            f"eigh of the ({d}, {d}) Gram": median_time(lambda: np.linalg.eigh(A), repeats),
            f"eigh of K ({T}, {T})": median_time(lambda: np.linalg.eigh(K), repeats),
        }
    fastest_name = min(times, key=times.get)
    fastest = times[fastest_name]
    ratio = ours_time / fastest
    status = verdict(ratio, TARGET) if our_difference < 1e-8 else "MISS (solution differs)"
    rows = [[name, ms(t), f"{t / fastest:.2f}", "", f"{differences[name]:.1e}"] for name, t in times.items()]
    rows.append([f"**multitask fit(X, Y)** (`{model.solver_}`)", ms(ours_time), f"{ratio:.2f}", f"**{status}**",
                 f"{our_difference:.1e}"])
    outcome = Outcome()
    outcome.tables["methods"] = table(["method", "time (ms)", "× fastest route", f"target ≤ {TARGET}",
                                       "max |W − W_eigh| / max |W_eigh|"], rows)
    outcome.tables["profile"] = table(["numpy part", "time (ms)", "share of the fastest route"],
                                      [[name, ms(t), f"{t / fastest:.0%}"] for name, t in parts.items()])
    products = parts["Gram X^T X (syrk)"] + parts["right-hand sides X^T Y"]
    outcome.figures.update(n=n, d=d, T=T, alpha=ALPHA, target=TARGET, threads=threads, ratio=ratio, status=status,
                           fastest=fastest_name, products_ms=products * 1e3, products_share=products / ours_time,
                           eigh_ms=parts[f"eigh of the ({d}, {d}) Gram"] * 1e3,
                           remaining_ms=(ours_time - products) * 1e3)
    outcome.verdicts["3"] = status
    outcome.summary.append(Part("summary"))
    return outcome
