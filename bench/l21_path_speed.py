"""l21 paths on a shared design: ours against scikit-learn's MultiTaskLasso, 5 folds x 50 values.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONPATH=python python bench/l21_path_speed.py [--repeats 3] [--eps 1e-3]

Data: X (n=2000, d=500) standard normal, Y (n, T=20) = X W + noise with 10
relevant features shared by the tasks (rows of W non-zero there, 0 elsewhere),
signal-to-noise ratio about 4. Folds: ``KFold(5, shuffle=True, random_state=0)``.

Mapping. For a shared design, alpha = 0 (no coupling) and uniform weights we
minimise F = 1/(n T) sum_t 1/2 ||y_t - X w_t - b_t||^2 + rho sum_j ||W_j.||_2
(averaged over the N = n T samples), scikit-learn's MultiTaskLasso
1/(2 n) ||Y - X W - 1 b^T||_F^2 + a sum_j ||W_j.||_2 = T F at rho = a / T. The
grid: 50 values of a log-spaced from a_max (scikit-learn's, on all the data)
down to ``--eps`` a_max (default 1e-3, scikit-learn's default ``eps``; the S3
workload of bench/run.py stops at 1e-2); ours uses rho = a / T.
Before timing, the coefficients of both at a few grid values are compared
(both solved tightly).

Stopping rules. Both stop on a duality gap: ours on gap / F(0) <= tol (default
1e-8), scikit-learn's on gap <= tol ||Y - mean||_F^2 (default 1e-4) for its
objective n T F, i.e. on gap / F(0) <= 2 tol. The timings are therefore given at
three settings: each at its own default (not equally accurate), and both at the
same relative gap (ours at scikit-learn's default precision, 2e-4, and
scikit-learn at ours, 5e-9).

Timed: the path fits alone, 5 folds x 50 values with warm starts along each
path (ours: ``multitask.regularization_path`` on the training fold;
scikit-learn: ``lasso_path``, which for a 2-D target runs the multi-task
coordinate descent of MultiTaskLassoCV, on the training fold centred as
MultiTaskLassoCV centres it). One thread; CPU time (robust to a shared
machine), median of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import time
import warnings
from typing import Callable

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import MultiTaskLasso, lasso_path
from sklearn.model_selection import KFold

import multitask as mt

N_SAMPLES, N_FEATURES, N_TASKS, N_RELEVANT = 2000, 500, 20, 10
N_VALUES = 50
SKLEARN_DEFAULT_TOL = 1e-4  # scikit-learn's default: gap <= tol ||Y||^2, i.e. gap / F(0) <= 2 tol
OURS_DEFAULT_TOL = 1e-8  # ours: gap / F(0) <= tol


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Shared design with N_RELEVANT features relevant to every task, plus noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N_SAMPLES, N_FEATURES))
    W = np.zeros((N_FEATURES, N_TASKS))
    W[rng.choice(N_FEATURES, N_RELEVANT, replace=False)] = rng.normal(size=(N_RELEVANT, N_TASKS))
    signal = X @ W
    return X, signal + 0.5 * signal.std() * rng.normal(size=signal.shape)


def sklearn_grid(X: np.ndarray, Y: np.ndarray, eps: float) -> np.ndarray:
    """scikit-learn's a values: a_max = max_j ||x~_j^T Y~||_2 / n (centred), down to eps a_max."""
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    a_max = np.sqrt(((Xc.T @ Yc) ** 2).sum(axis=1)).max() / X.shape[0]
    return a_max * np.geomspace(1.0, eps, N_VALUES)


def ours_paths(X: np.ndarray, Y: np.ndarray, folds: list, grid: np.ndarray, tol: float) -> list:
    """Coefficients (n_values, d, T) per fold from multitask.regularization_path at rho = a / T."""
    estimator = mt.KernelCoupledRegressor(alpha=0.0, tol=tol, max_iter=100000)
    return [mt.regularization_path(estimator, X[train], Y[train], penalty="l21", values=grid / N_TASKS).coef.transpose(0, 2, 1)
            for train, _ in folds]


def sklearn_paths(X: np.ndarray, Y: np.ndarray, folds: list, grid: np.ndarray, tol: float) -> list:
    """Coefficients (n_values, d, T) per fold from lasso_path on the centred training fold."""
    out = []
    for train, _ in folds:
        Xt, Yt = X[train], Y[train]
        Xt = np.asfortranarray(Xt - Xt.mean(axis=0))
        Yt = np.asfortranarray(Yt - Yt.mean(axis=0))
        _, coefs, _ = lasso_path(Xt, Yt, alphas=grid, tol=tol, max_iter=100000)  # coefs (T, d, n_values)
        out.append(coefs.transpose(2, 1, 0))
    return out


def check_mapping(X: np.ndarray, Y: np.ndarray, grid: np.ndarray) -> float:
    """Largest |coef difference| between ours and MultiTaskLasso at a few grid values, both solved tightly."""
    worst = 0.0
    for a in grid[[5, 20, 35, 49]]:
        theirs = MultiTaskLasso(alpha=a, tol=1e-12, max_iter=100000).fit(X, Y)
        ours = mt.KernelCoupledRegressor(alpha=0.0, l21=a / N_TASKS, tol=1e-14, max_iter=100000).fit(X, Y)
        scale = np.abs(theirs.coef_).max()
        worst = max(worst, np.abs(ours.coef_ - theirs.coef_).max() / scale)
    return worst


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return float(np.median(times))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--eps", type=float, default=1e-3, help="smallest grid value relative to the largest")
    args = parser.parse_args(argv)
    X, Y = make_data()
    folds = list(KFold(5, shuffle=True, random_state=0).split(X))
    grid = sklearn_grid(X, Y, args.eps)
    print(f"shared design n={N_SAMPLES}, d={N_FEATURES}, T={N_TASKS}, {N_RELEVANT} relevant features; "
          f"5 folds x {N_VALUES} values, a from a_max={grid[0]:.4g} to {args.eps:g} a_max")
    print(f"mapping check (l21 = a / T against MultiTaskLasso(alpha=a), tight): max |coef diff| / max |coef| = "
          f"{check_mapping(X, Y, grid):.2e}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Agreement of the two paths at each side's default precision (how far apart they end).
        ours, theirs = ours_paths(X, Y, folds, grid, OURS_DEFAULT_TOL), sklearn_paths(X, Y, folds, grid, SKLEARN_DEFAULT_TOL)
        gap = max(np.abs(a - b).max() / np.abs(b).max() for a, b in zip(ours, theirs))
        print(f"paths at the defaults: max |coef diff| / max |coef| = {gap:.2e}")
        settings = [
            ("each at its default", OURS_DEFAULT_TOL, SKLEARN_DEFAULT_TOL),
            ("same gap/F(0) <= 2e-4", 2 * SKLEARN_DEFAULT_TOL, SKLEARN_DEFAULT_TOL),
            ("same gap/F(0) <= 1e-8", OURS_DEFAULT_TOL, OURS_DEFAULT_TOL / 2),
        ]
        print(f"{'setting':24s} {'ours tol':>9s} {'sklearn tol':>11s} {'ours CPU s':>10s} {'sklearn CPU s':>13s} {'ratio':>6s}")
        for name, ours_tol, sk_tol in settings:
            t_ours = median_seconds(lambda: ours_paths(X, Y, folds, grid, ours_tol), args.repeats)
            t_sk = median_seconds(lambda: sklearn_paths(X, Y, folds, grid, sk_tol), args.repeats)
            print(f"{name:24s} {ours_tol:9.0e} {sk_tol:11.0e} {t_ours:10.2f} {t_sk:13.2f} {t_ours / t_sk:6.2f}", flush=True)


if __name__ == "__main__":
    main()
