"""Does a grid search converge at the estimator's defaults? School, standardised, CV per split.

The scenario of a new user: School in the long format, 10 random 75/25 splits
within every school (``train_test_split_tasks``, seeds 0..9), X standardised on
the training part (a Pipeline, so also inside every fold), and
``multitask.model_selection.GridSearchCV`` with ``TaskKFold(5, shuffle=True,
random_state=seed)`` on the training part over a grid a user would choose: for
a penalty, 15 values log-spaced from ``multitask.penalty_max`` (of the
standardised training part) down to 1e-3 of it. Everything else is at the
estimator's defaults. Per split: seconds of the search (refit included; wall and CPU
time, the latter robust to a shared machine with one thread), the
number of ConvergenceWarnings it raised, the test R^2 of the refitted best model.

One function per estimator; ``--estimator`` chooses, ``--splits`` how many;
``--alpha`` replaces the default coupling strength (1.0) for the penalised
models (e.g. 1e-6: almost no coupling, the ill-conditioned case)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONPATH=python \\
        python bench/cv_convergence_school.py --estimator l21 --splits 10 [--alpha 1e-6]
"""

from __future__ import annotations

import argparse
import time
import warnings
from typing import Any, Callable

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import multitask as mt
from multitask.model_selection import GridSearchCV, TaskKFold, train_test_split_tasks

N_VALUES = 15  # grid values per penalty
MIN_RATIO = 1e-3  # the smallest grid value, relative to penalty_max


def penalty_grid(estimator: Any, X: np.ndarray, y: np.ndarray, tasks: np.ndarray, penalty: str) -> np.ndarray:
    """N_VALUES values log-spaced from penalty_max (on standardised X) down to MIN_RATIO of it."""
    value_max = mt.penalty_max(estimator, StandardScaler().fit_transform(X), y, tasks=tasks, penalty=penalty)
    return value_max * np.geomspace(1.0, MIN_RATIO, N_VALUES)


ALPHA: dict = {}  # {"alpha": value} from --alpha, else empty: the estimator's default


def _structure_search(penalty: str, X: np.ndarray, y: np.ndarray, tasks: np.ndarray, seed: int,
                      fixed: dict | None = None) -> GridSearchCV:
    """The search over one structure penalty of a default KernelCoupledRegressor (``fixed``: other parameters)."""
    estimator = mt.KernelCoupledRegressor(**ALPHA, **(fixed or {}))
    grid = penalty_grid(estimator, X, y, tasks, penalty)
    return GridSearchCV(make_pipeline(StandardScaler(), estimator),
                        {f"kernelcoupledregressor__{penalty}": list(grid)},
                        cv=TaskKFold(5, shuffle=True, random_state=seed), n_jobs=1)


def l21_search(X: np.ndarray, y: np.ndarray, tasks: np.ndarray, seed: int) -> GridSearchCV:
    """l21 over its grid, everything else at the defaults (the "feature_bcd" solver)."""
    return _structure_search("l21", X, y, tasks, seed)


def l1_search(X: np.ndarray, y: np.ndarray, tasks: np.ndarray, seed: int) -> GridSearchCV:
    """l1 over its grid, everything else at the defaults (the "feature_bcd" solver)."""
    return _structure_search("l1", X, y, tasks, seed)


def l1_l21_search(X: np.ndarray, y: np.ndarray, tasks: np.ndarray, seed: int) -> GridSearchCV:
    """l21 over its grid with l1 fixed at 1e-2 of l1's penalty_max (the sparse-group lasso)."""
    l1 = 1e-2 * mt.penalty_max(mt.KernelCoupledRegressor(**ALPHA), StandardScaler().fit_transform(X), y, tasks=tasks,
                               penalty="l1")
    return _structure_search("l21", X, y, tasks, seed, fixed={"l1": l1})


SEARCHES: dict[str, Callable[..., GridSearchCV]] = {"l21": l21_search, "l1": l1_search, "l1_l21": l1_l21_search}


def run_split(make_search: Callable[..., GridSearchCV], X: np.ndarray, y: np.ndarray, tasks: np.ndarray,
              seed: int) -> dict:
    """One split: the search on the training part, timed, its ConvergenceWarnings counted, scored on the test part."""
    X_train, X_test, y_train, y_test, t_train, t_test = train_test_split_tasks(X, y, tasks, test_size=0.25,
                                                                               random_state=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start, start_cpu = time.perf_counter(), time.process_time()
        search = make_search(X_train, y_train, t_train, seed).fit(X_train, y_train, tasks=t_train)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
    n_warnings = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    return {"seed": seed, "seconds": seconds, "cpu_seconds": cpu_seconds, "warnings": n_warnings,
            "test_r2": search.score(X_test, y_test, tasks=t_test), "best": search.best_params_}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--estimator", choices=sorted(SEARCHES), default="l21")
    parser.add_argument("--splits", type=int, default=10, help="number of splits (seeds 0..splits-1)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--alpha", type=float, default=None, help="coupling strength (default: the estimator's)")
    args = parser.parse_args(argv)
    ALPHA.clear()
    if args.alpha is not None:
        ALPHA["alpha"] = args.alpha
    X, y, tasks = mt.datasets.load_school(form="long")
    print(f"{args.estimator} ({ALPHA or 'default alpha'}): School {X.shape}, {len(np.unique(tasks))} tasks, {N_VALUES} grid values x 5 folds")
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.splits):
        row = run_split(SEARCHES[args.estimator], X, y, tasks, seed)
        rows.append(row)
        best = {k.split("__")[-1]: f"{v:.3g}" for k, v in row["best"].items()}
        print(f"seed {seed}: {row['seconds']:6.2f} s ({row['cpu_seconds']:6.2f} s CPU)  {row['warnings']:3d} ConvergenceWarnings  "
              f"test R2 {row['test_r2']:.4f}  best {best}", flush=True)
    seconds = np.array([row["seconds"] for row in rows])
    cpu = np.array([row["cpu_seconds"] for row in rows])
    print(f"total: {sum(row['warnings'] for row in rows)} ConvergenceWarnings, "
          f"median {np.median(seconds):.2f} s per split (max {seconds.max():.2f} s), median CPU {np.median(cpu):.2f} s")


if __name__ == "__main__":
    main()
