"""Does a user's grid search converge at the estimator's defaults? School, per split.

What a new user would run: School in the long format, X standardised on the
training part, ``train_test_split_tasks`` (25 % of every school held out,
seeds 0, 1, ...), and on the training part a 5-fold ``GridSearchCV`` within
every task over a grid of the estimator's penalty, everything else at the
estimator's defaults. Per split it prints the seconds of the search (its
refit included: wall-clock, and the CPU time of this process, which a busy
shared machine inflates less), the number of ``ConvergenceWarning``s raised
during it, and the test R² of the refitted best model.

Run with one thread, e.g.::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONPATH=python \\
        python bench/cv_convergence_school.py --estimator trace_norm --splits 10
        python bench/cv_convergence_school.py --estimator subspace --splits 10

One function per estimator builds its search; add others to ``SEARCHES``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from typing import Any, Callable

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import multitask as mt
from multitask.model_selection import GridSearchCV, TaskKFold, train_test_split_tasks


def trace_norm_search(X: np.ndarray, y: np.ndarray, tasks: np.ndarray, seed: int, n_values: int) -> GridSearchCV:
    """KernelCoupledRegressor(trace_norm=ρ) at its defaults, ρ log-spaced from ρ_max down to 1e-3 ρ_max."""
    estimator = mt.KernelCoupledRegressor()
    rho_max = mt.penalty_max(estimator, X, y, tasks=tasks, penalty="trace_norm")
    grid = {"trace_norm": list(np.geomspace(rho_max, 1e-3 * rho_max, n_values))}
    return GridSearchCV(estimator, grid, cv=TaskKFold(5, shuffle=True, random_state=seed), n_jobs=1)


def subspace_search(X: np.ndarray, y: np.ndarray, tasks: np.ndarray, seed: int, n_values: int) -> GridSearchCV:
    """SharedSubspaceRegressor at its defaults over n_components in {2, 4, 8} x alpha.

    With alpha_u = alpha and K = I (the defaults) the two penalties amount to alpha ||W||_* at the optimum,
    so W = 0 is optimal from the trace-norm penalty_max on: alpha runs from there down to 1e-3 of it.
    """
    alpha_max = mt.penalty_max(mt.KernelCoupledRegressor(), X, y, tasks=tasks, penalty="trace_norm")
    grid = {"n_components": [2, 4, 8], "alpha": list(np.geomspace(alpha_max, 1e-3 * alpha_max, n_values))}
    return GridSearchCV(mt.SharedSubspaceRegressor(), grid, cv=TaskKFold(5, shuffle=True, random_state=seed),
                        n_jobs=1)


SEARCHES: dict[str, Callable[..., GridSearchCV]] = {"trace_norm": trace_norm_search, "subspace": subspace_search}


def run_split(name: str, seed: int, n_values: int) -> dict[str, Any]:
    """One split: standardise on the training part, search on it, score the refit on the test part."""
    X, y, tasks = mt.datasets.load_school(form="long")
    X_train, X_test, y_train, y_test, tasks_train, tasks_test = train_test_split_tasks(
        X, y, tasks, test_size=0.25, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start, cpu_start = time.perf_counter(), time.process_time()
        search = SEARCHES[name](X_train, y_train, tasks_train, seed, n_values)
        search.fit(X_train, y_train, tasks=tasks_train)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    n_warnings = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    return {"seed": seed, "seconds": seconds, "cpu_seconds": cpu_seconds, "warnings": n_warnings,
            "test_r2": search.score(X_test, y_test, tasks=tasks_test), "best": search.best_params_}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--estimator", choices=sorted(SEARCHES), default="trace_norm")
    parser.add_argument("--splits", type=int, default=10, help="number of train/test splits (seeds 0..splits-1)")
    parser.add_argument("--n-values", type=int, default=10, help="penalty values in the grid")
    args = parser.parse_args()
    rows = []
    for seed in range(args.splits):
        row = run_split(args.estimator, seed, args.n_values)
        rows.append(row)
        print(f"split {seed}: {row['seconds']:7.2f} s (CPU {row['cpu_seconds']:6.2f} s)  "
              f"{row['warnings']:4d} ConvergenceWarnings  "
              f"test R2 {row['test_r2']:.4f}  best {row['best']}", flush=True)
    seconds = np.array([row["seconds"] for row in rows])
    cpu = np.array([row["cpu_seconds"] for row in rows])
    print(f"{args.estimator}: median {np.median(seconds):.2f} s per split (max {seconds.max():.2f}; CPU median "
          f"{np.median(cpu):.2f}, max {cpu.max():.2f}), "
          f"{sum(row['warnings'] for row in rows)} ConvergenceWarnings in {len(rows)} splits")


if __name__ == "__main__":
    main()
