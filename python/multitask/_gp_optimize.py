"""ML-II: L-BFGS-B on the negative log marginal likelihood, from several starts.

Only the free coordinates of the full vector move (the means are fixed at 0 for a
zero-mean model). Each start runs scipy's L-BFGS-B with the analytic gradient and
scipy's default stopping rule (the one scikit-learn's GaussianProcessRegressor
uses), at most ``max_iter`` iterations; the best maximum over the starts wins.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning

from ._gp_likelihood import Likelihood

__all__ = ["OptimisationResult", "maximise_likelihood"]


@dataclass
class OptimisationResult:
    vector: np.ndarray  # the full vector at the best maximum
    value: float
    n_iter: int  # L-BFGS-B iterations of the best start
    n_evaluations: int  # likelihood evaluations over every start
    converged: bool  # the best start stopped before max_iter (scipy's rule met, or its line search ended)
    start_values: list[float]  # the maximum reached from each start


def maximise_likelihood(likelihood: Likelihood, starts: list[np.ndarray], free: np.ndarray,
                        bounds: list[tuple[float | None, float | None]], max_iter: int,
                        verbose: int = 0) -> OptimisationResult:
    """The best of L-BFGS-B runs from each of ``starts`` (full vectors), over the ``free`` coordinates."""
    free_bounds = [bound for bound, is_free in zip(bounds, free) if is_free]
    low = np.array([-np.inf if b[0] is None else b[0] for b in free_bounds])
    high = np.array([np.inf if b[1] is None else b[1] for b in free_bounds])
    best: tuple[float, np.ndarray, int, bool] | None = None
    start_values = []
    evaluations_before = likelihood.n_evaluations
    for index, start in enumerate(starts):
        began = time.perf_counter()
        template = start.copy()

        def negative(sub: np.ndarray) -> tuple[float, np.ndarray]:
            vector = template.copy()
            vector[free] = sub
            outcome = likelihood(vector, eval_gradient=True)
            if verbose > 1:
                print(f"[MultiTaskGaussianProcessRegressor] start {index}: log p(y) = {outcome.value:.6g}")
            return -outcome.value, -outcome.gradient[free]

        x0 = np.clip(start[free], low, high)
        result = minimize(negative, x0, jac=True, method="L-BFGS-B", bounds=free_bounds,
                          options={"maxiter": max_iter})
        vector = template.copy()
        vector[free] = result.x
        value = -float(result.fun)
        start_values.append(value)
        if verbose:
            print(f"[MultiTaskGaussianProcessRegressor] start {index}: log p(y) = {value:.8g} after {result.nit} "
                  f"iterations ({time.perf_counter() - began:.2f} s)")
        if best is None or value > best[0]:
            best = (value, vector, int(result.nit), result.status != 1)  # 1: the iteration limit
    assert best is not None
    value, vector, n_iter, converged = best
    if not np.isfinite(value):
        raise ValueError("the covariance was not positive definite at any start: check the data (duplicated rows "
                         "with tiny noise bounds?) or the bounds")
    if not converged:
        warnings.warn(f"the likelihood maximisation stopped at max_iter={max_iter} before converging; increase "
                      "max_iter", ConvergenceWarning, stacklevel=3)
    return OptimisationResult(vector, value, n_iter, likelihood.n_evaluations - evaluations_before, converged,
                              start_values)
