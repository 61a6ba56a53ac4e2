"""Does a grid search converge at the estimators' defaults? School, 5-fold CV on the training part.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONPATH=python \\
        python bench/cv_convergence_school.py --estimator subspace --splits 10

For every split (seed 0, 1, ...): ``train_test_split_tasks`` holds out 25 % of every school, X is
standardised with a ``StandardScaler`` fitted on the training part, and
``multitask.model_selection.GridSearchCV`` with ``TaskKFold(5, shuffle=True, random_state=seed)``
searches the estimator's grid on the training part (n_jobs=1), everything else at the estimator's
defaults. Printed per split: seconds (wall clock, and the CPU time of this process, which a busy
machine disturbs less), the number of ``ConvergenceWarning``s raised (every CV fit and
the refit), the best parameters and the test R² (pooled over the schools). One function per
estimator builds its search: add yours to ``SEARCHES``.
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


def log_grid(value_max: float, n_values: int, min_ratio: float = 1e-3) -> list[float]:
    """n_values log-spaced from value_max down to min_ratio * value_max."""
    return list(value_max * np.logspace(0, np.log10(min_ratio), n_values))


def subspace_search(X: np.ndarray, y: np.ndarray, tasks: np.ndarray, cv: Any, n_values: int) -> GridSearchCV:
    """SharedSubspaceRegressor over n_components x alpha.

    With alpha_u = alpha (the default) and K = I (the default), the penalties of U and A amount to
    alpha ||W||_* at the optimum, so W = 0 is optimal from the trace-norm penalty_max on: the alpha
    grid runs from there down to 1e-3 of it.
    """
    alpha_max = mt.penalty_max(
        mt.KernelCoupledRegressor(coupling="identity", alpha=0.0), X, y, tasks=tasks, penalty="trace_norm"
    )
    grid = {"n_components": [2, 4, 8], "alpha": log_grid(alpha_max, n_values)}
    return GridSearchCV(mt.SharedSubspaceRegressor(), grid, cv=cv, n_jobs=1)


SEARCHES: dict[str, Callable[..., GridSearchCV]] = {"subspace": subspace_search}


def run_split(estimator: str, seed: int, n_values: int, data: tuple) -> dict:
    """One split: the search on the standardised training part, scored on the test part."""
    X, y, tasks = data
    X_train, X_test, y_train, y_test, tasks_train, tasks_test = train_test_split_tasks(
        X, y, tasks, test_size=0.25, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    cv = TaskKFold(5, shuffle=True, random_state=seed)
    start, cpu_start = time.perf_counter(), time.process_time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        search = SEARCHES[estimator](X_train, y_train, tasks_train, cv, n_values)
        search.fit(X_train, y_train, tasks=tasks_train)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    n_warnings = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    return {
        "seed": seed,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "warnings": n_warnings,
        "best": search.best_params_,
        "test_r2": search.score(X_test, y_test, tasks=tasks_test),
        "messages": sorted({str(w.message)[:160] for w in caught if issubclass(w.category, ConvergenceWarning)}),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--estimator", choices=sorted(SEARCHES), required=True)
    parser.add_argument("--splits", type=int, default=10, help="number of splits (seeds 0, 1, ...)")
    parser.add_argument("--n-values", type=int, default=10, help="values of the penalty grid")
    parser.add_argument("--show-messages", action="store_true", help="print the distinct warning messages")
    args = parser.parse_args(argv)
    data = mt.datasets.load_school(form="long")
    results = []
    for seed in range(args.splits):
        result = run_split(args.estimator, seed, args.n_values, data)
        results.append(result)
        print(
            f"split {seed}: {result['seconds']:7.2f} s (CPU {result['cpu_seconds']:7.2f} s)  "
            f"{result['warnings']:4d} ConvergenceWarnings  "
            f"test R2 {result['test_r2']:.4f}  best {result['best']}",
            flush=True,
        )
        if args.show_messages:
            for message in result["messages"]:
                print(f"    {message}")
    seconds, cpu = [r["seconds"] for r in results], [r["cpu_seconds"] for r in results]
    print(
        f"{args.estimator}: {len(results)} splits, median {np.median(seconds):.2f} s per split "
        f"(max {max(seconds):.2f}; CPU median {np.median(cpu):.2f} s), "
        f"{sum(r['warnings'] for r in results)} ConvergenceWarnings in all, "
        f"mean test R2 {np.mean([r['test_r2'] for r in results]):.4f}"
    )


if __name__ == "__main__":
    main()
