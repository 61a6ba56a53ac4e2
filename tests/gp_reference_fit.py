"""ML-II by scipy's L-BFGS-B on a reference log marginal likelihood, and GP sampling, for tests.

The estimator's own optimiser will differ (restarts, C++ objective); this is the plain version
its fitted hyperparameters and likelihoods are compared against.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.linalg import cholesky
from scipy.optimize import minimize


def maximise_log_likelihood(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
    start: np.ndarray,
    *,
    free: np.ndarray | None = None,
    bounds: list[tuple[float, float]] | None = None,
) -> tuple[np.ndarray, float]:
    """argmax of ``objective`` (value, gradient) over the ``free`` coordinates, from ``start``.

    ``free`` is a boolean mask (default: every coordinate); the others stay at their start values.
    ``bounds`` (one pair per free coordinate) as in ``scipy.optimize.minimize``.
    Returns the maximiser and the maximum.
    """
    start = np.asarray(start, dtype=float)
    free = np.ones(start.size, dtype=bool) if free is None else np.asarray(free, dtype=bool)
    if free.shape != start.shape:
        raise ValueError(f"free must have shape {start.shape}, got {free.shape}")

    def negative(sub: np.ndarray) -> tuple[float, np.ndarray]:
        vector = start.copy()
        vector[free] = sub
        value, gradient = objective(vector)
        return -value, -gradient[free]

    result = minimize(negative, start[free], jac=True, method="L-BFGS-B", bounds=bounds,
                      options={"maxiter": 500, "ftol": 1e-13, "gtol": 1e-9})
    best = start.copy()
    best[free] = result.x
    return best, -result.fun


def sample_gaussian(rng, mean: np.ndarray, cov: np.ndarray, n_samples: int) -> np.ndarray:
    """n_samples draws of N(mean, cov), shape (n_samples, len(mean)): mean + zᵀ Cᵀ with cov = C Cᵀ."""
    factor = cholesky(cov + 1e-10 * np.trace(cov) / cov.shape[0] * np.eye(cov.shape[0]), lower=True)
    return mean + rng.normal(size=(n_samples, mean.size)) @ factor.T
