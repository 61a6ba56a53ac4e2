"""Our multi-task Gaussian process (``MultiTaskGaussianProcessRegressor``) with the suite's conventions.

The benchmark model: one ICM term with the RBF input kernel (ARD), zero mean, the L-BFGS-B ML-II with
no restarts, ``random_state=0`` (a fixed start), and ``n_jobs`` = the suite's thread count.
"""

from __future__ import annotations

import numpy as np

import multitask as mt

from .optional import quiet


def estimator(rank: int, method: str, max_iter: int, threads: int, optimizer: str | None = "L-BFGS-B"):
    """The benchmark configuration of ``MultiTaskGaussianProcessRegressor``."""
    return mt.MultiTaskGaussianProcessRegressor(kernel="rbf", rank=rank, ard=True, mean="zero", method=method,
                                                optimizer=optimizer, max_iter=max_iter, n_restarts=0,
                                                random_state=0, n_jobs=threads)


def fit(X, y, rank: int, method: str, max_iter: int, threads: int):
    """The full ML-II fit (``X, y``: task lists, or a shared design X (n, d) and Y (n, T))."""
    with quiet():  # a ConvergenceWarning at max_iter is reported by the counts, not by a warning
        return estimator(rank, method, max_iter, threads).fit(X, y)


def initial(X, y, rank: int, method: str, threads: int):
    """The estimator at its default starting hyperparameters (``optimizer=None``: no optimisation)."""
    with quiet():
        return estimator(rank, method, 1, threads, optimizer=None).fit(X, y)


def evaluation(model, theta: np.ndarray):
    """One log marginal likelihood + gradient evaluation of a fitted model at ``theta`` (a callable)."""
    return lambda: model.log_marginal_likelihood(theta, eval_gradient=True)


def counts(model) -> tuple[int, int]:
    """(L-BFGS-B iterations, likelihood evaluations) of a fit."""
    return int(np.sum(model.n_iter_)), int(model.n_evaluations_)
