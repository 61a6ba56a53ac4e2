"""The multi-task GP's log marginal likelihood as a function of the full hyperparameter vector.

Three routes compute it (README, "Multi-task Gaussian processes"):

* ``"dense"``: per-task inputs, the N × N covariance, one Cholesky factorisation per
  evaluation (the core's ``gp_lml_dense``);
* ``"kronecker"``: a shared design and one ICM term, the eigendecompositions of K_x
  and of the whitened task kernel, O(n³ + T³ + n²T) (``gp_lml_kronecker``);
* ``"sparse"``: Titsias' variational lower bound with inducing inputs shared by the
  tasks, O(N M² + M³) (:mod:`multitask._gp_sparse`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._core import core
from ._gp_data import GPData
from ._gp_params import GPParams, GPSpec

__all__ = ["CoreCovariance", "Likelihood", "LikelihoodValue"]


@dataclass
class LikelihoodValue:
    """One evaluation: the value (-inf where the covariance is not positive definite), the
    gradient (or None) and, when asked, what the posterior needs (route-specific dict)."""

    value: float
    gradient: np.ndarray | None
    factors: dict | None = None
    mean: np.ndarray | None = None  # the means used: the GLS ones when they are profiled


class CoreCovariance:
    """The LCM covariance of one hyperparameter value, computed by the core.

    The interface of the sparse route: ``covariance``, ``diagonal``, ``gradient``
    (Σ_ab W_ab ∂K_ab/∂η) and ``diagonal_gradient`` (Σ_a w_a ∂K_aa/∂η) for every
    covariance hyperparameter η (the covariance part of the full vector).
    """

    def __init__(self, params: GPParams, n_threads: int) -> None:
        self._terms = params.core_terms()
        self._n_threads = n_threads

    def covariance(self, X1: np.ndarray, t1: np.ndarray, X2: np.ndarray, t2: np.ndarray) -> np.ndarray:
        return core.gp_covariance(X1=X1, tasks1=t1, X2=X2, tasks2=t2, **self._terms, n_threads=self._n_threads)

    def diagonal(self, X: np.ndarray, t: np.ndarray) -> np.ndarray:
        return core.gp_covariance_diagonal(X=X, tasks=t, **self._terms)

    def gradient(self, X1: np.ndarray, t1: np.ndarray, X2: np.ndarray, t2: np.ndarray, W: np.ndarray) -> np.ndarray:
        return core.gp_covariance_gradient(X1=X1, tasks1=t1, X2=X2, tasks2=t2, W=np.asarray(W, dtype=np.float64),
                                           **self._terms, n_threads=self._n_threads)

    def diagonal_gradient(self, X: np.ndarray, t: np.ndarray, w: np.ndarray) -> np.ndarray:
        return core.gp_covariance_diagonal_gradient(X=X, tasks=t, w=np.asarray(w, dtype=np.float64), **self._terms)


class Likelihood:
    """log p(y | η) of one route on fixed training data, as a function of the full vector η.

    With ``profile_mean`` (the exact routes) the means in η are ignored: each
    evaluation uses the generalised least-squares means, the maximiser of the
    likelihood over m for the covariance at hand, and reports them.
    """

    def __init__(self, spec: GPSpec, data: GPData, method: str, n_threads: int, *, profile_mean: bool = False,
                 sparse_inputs: np.ndarray | None = None, jitter: float = 1e-8) -> None:
        self.spec, self.data, self.method, self.n_threads = spec, data, method, n_threads
        self.profile_mean = profile_mean
        self.sparse_inputs, self.jitter = sparse_inputs, jitter
        self.n_evaluations = 0

    def __call__(self, vector: np.ndarray, eval_gradient: bool = True, keep_factors: bool = False) -> LikelihoodValue:
        params = self.spec.unpack(vector)
        self.n_evaluations += 1
        if self.method == "kronecker":
            return self._kronecker(params, eval_gradient, keep_factors)
        if self.method == "sparse":
            return self._sparse(params, eval_gradient, keep_factors)
        return self._dense(params, eval_gradient, keep_factors)

    def _dense(self, params: GPParams, eval_gradient: bool, keep_factors: bool) -> LikelihoodValue:
        data = self.data
        result = core.gp_lml_dense(X=data.X, tasks=data.tasks, y=data.y, **params.core_terms(),
                                   log_noise=params.log_noise, mean=params.mean, profile_mean=self.profile_mean,
                                   eval_gradient=eval_gradient, keep_factor=keep_factors, n_threads=self.n_threads)
        if not result["positive_definite"]:
            return _not_positive_definite(self.spec, eval_gradient)
        factors = {"factor": result["factor"], "alpha": result["alpha"]} if keep_factors else None
        return LikelihoodValue(float(result["value"]), result["gradient"] if eval_gradient else None, factors,
                               result["mean"])

    def _kronecker(self, params: GPParams, eval_gradient: bool, keep_factors: bool) -> LikelihoodValue:
        data = self.data
        result = core.gp_lml_kronecker(X=data.X_shared, Y=data.Y, **params.core_terms(), log_noise=params.log_noise,
                                       mean=params.mean, profile_mean=self.profile_mean, eval_gradient=eval_gradient,
                                       keep_factors=keep_factors, n_threads=self.n_threads)
        factors = ({key: result[key] for key in ("V", "delta", "U", "lambda", "alpha")} if keep_factors else None)
        return LikelihoodValue(float(result["value"]), result["gradient"] if eval_gradient else None, factors,
                               result["mean"])

    def _sparse(self, params: GPParams, eval_gradient: bool, keep_factors: bool) -> LikelihoodValue:
        from ._gp_sparse import vfe_objective

        data = self.data
        functions = CoreCovariance(params, self.n_threads)
        try:
            outcome: Any = vfe_objective(functions, data.X, data.tasks, data.y, self.sparse_inputs,
                                         params.log_noise, params.mean, eval_gradient=eval_gradient,
                                         jitter=self.jitter, profile_mean=self.profile_mean)
        except np.linalg.LinAlgError:
            return _not_positive_definite(self.spec, eval_gradient)
        outcome = outcome if isinstance(outcome, tuple) else (outcome,)
        value = outcome[0]
        gradient = outcome[1] if eval_gradient else None
        mean = outcome[-1] if self.profile_mean else params.mean
        return LikelihoodValue(float(value), gradient, None, mean)


def _not_positive_definite(spec: GPSpec, eval_gradient: bool) -> LikelihoodValue:
    """-inf: the optimiser backs off (as scikit-learn's GaussianProcessRegressor does)."""
    return LikelihoodValue(-np.inf, np.zeros(spec.size) if eval_gradient else None)
