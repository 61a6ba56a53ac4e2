"""Workloads 2 and 5: the Gram-bound case, T=50, n_t=4000, d=100 (chain coupling).

2. Our whole fit (solver auto, 1 thread) against the time numpy takes just to
   form the 50 Gram matrices X_t^T X_t (1 BLAS thread): the floor of any exact
   method. Target <= 1.5x.
5. Our fit with 2 threads against 1 thread. Target >= 1.6x faster.
"""

from __future__ import annotations


import numpy as np

import multitask as mt
from common import command_line, Problem, fit_ours, limit_blas, markdown_table, median_time


def make_problem(T=50, n=4000, d=100, seed=0) -> Problem:
    rng = np.random.default_rng(seed)
    Xs = [rng.normal(size=(n, d)) for _ in range(T)]
    ys = [X @ rng.normal(size=d) + rng.normal(size=n) for X in Xs]
    return Problem(Xs, ys, mt.coupling.chain(T, ridge=0.1), alpha=1.0)


def run(repeats: int = 5, quick: bool = False) -> dict:
    problem = make_problem(T=8, n=500, d=20) if quick else make_problem()
    with limit_blas(1):
        numpy_grams = median_time(lambda: [X.T @ X for X in problem.Xs], repeats)
        one_thread = median_time(lambda: fit_ours(problem, "auto", 1e-8, 1), repeats)
    with limit_blas(2):
        two_threads = median_time(lambda: fit_ours(problem, "auto", 1e-8, 2), repeats)
    solver = fit_ours(problem, "auto", 1e-8, 1).solver_
    gram_ratio = one_thread / numpy_grams
    speedup = one_thread / two_threads
    rows = [
        ["numpy: the 50 Grams X_t^T X_t only (1 BLAS thread)", f"{numpy_grams * 1e3:.1f}", "1.00", "", ""],
        [f"multitask whole fit (`auto` ran `{solver}`), 1 thread", f"{one_thread * 1e3:.1f}", f"{gram_ratio:.2f}",
         "≤ 1.5 × numpy Grams", "PASS" if gram_ratio <= 1.5 else "MISS"],
        [f"multitask whole fit, 2 threads", f"{two_threads * 1e3:.1f}", f"{two_threads / numpy_grams:.2f}",
         f"≥ 1.6 × faster than 1 thread: {speedup:.2f} ×", "PASS" if speedup >= 1.6 else "MISS"],
    ]
    table = markdown_table(["what", "time (ms)", "× numpy Grams", "target", "result"], rows)
    return {"table": table, "gram_ratio": gram_ratio, "speedup": speedup}


if __name__ == "__main__":
    command_line(run, __doc__)
