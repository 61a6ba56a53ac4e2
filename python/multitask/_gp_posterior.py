r"""Posterior predictions of the multi-task GP at fitted hyperparameters.

For query points (x*_a, t*_a), with K the training covariance, α = K⁻¹ (y − m_t),
K_* = Cov(f(X*), f(X)) and K_** = Cov(f(X*), f(X*)):

.. math::

    \text{mean} = m_{t^*} + K_* \alpha, \qquad
    \text{cov} = K_{**} - K_* K^{-1} K_*^\top \; (+\operatorname{diag}(\sigma^2_{t^*})
    \text{ for new noisy targets}).

The dense posterior keeps the Cholesky factor of K (K_* K⁻¹ K_*ᵀ = VᵀV with
V = L⁻¹ K_*ᵀ). The Kronecker posterior keeps the eigenbases of the shared design
(see cpp/include/multitask/gp/kronecker_likelihood.hpp): with P = Vᵀ k(X, X*),
Δ[j, k] = λ_k δ_j + 1 and G[k, t] = λ_k U[t, k] σ_t,

.. math::

    \text{mean}[a, t] = m_t + (k(X^*, X)\, \alpha\, B)[a, t], \quad
    \text{Cov}[(a, t), (b, s)] = B_{ts} k(x^*_a, x^*_b) - \sum_{k, j} G_{kt} G_{ks} P_{ja} P_{jb} / \Delta_{jk}.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular

from ._core import core
from ._gp_data import GPData
from ._gp_likelihood import CoreCovariance
from ._gp_params import GPParams

__all__ = ["DensePosterior", "KroneckerPosterior", "SparsePosterior"]


@dataclass
class Prediction:
    """Mean (m,) and, when asked, the variance (m,) or covariance (m, m) of the query points."""

    mean: np.ndarray
    variance: np.ndarray | None = None
    covariance: np.ndarray | None = None


def _noise_at(params: GPParams, tasks: np.ndarray) -> np.ndarray:
    return np.exp(params.log_noise)[tasks]


@dataclass
class DensePosterior:
    """The posterior from the Cholesky factor of the training covariance (per-task inputs or LCM)."""

    params: GPParams
    data: GPData
    factor: np.ndarray  # (N, N) lower, K = L Lᵀ
    alpha: np.ndarray  # (N,)
    n_threads: int

    def predict(self, X: np.ndarray, tasks: np.ndarray, *, variance: bool, covariance: bool,
                include_noise: bool) -> Prediction:
        functions = CoreCovariance(self.params, self.n_threads)
        K_star = functions.covariance(X, tasks, self.data.X, self.data.tasks)
        out = Prediction(self.params.mean[tasks] + K_star @ self.alpha)
        if not (variance or covariance):
            return out
        V = solve_triangular(self.factor, K_star.T, lower=True, check_finite=False)
        noise = _noise_at(self.params, tasks) if include_noise else 0.0
        if covariance:
            cov = functions.covariance(X, tasks, X, tasks) - V.T @ V
            cov[np.diag_indices_from(cov)] += noise
            out.covariance = cov
        if variance:
            out.variance = np.maximum(functions.diagonal(X, tasks) - np.einsum("ij,ij->j", V, V), 0.0) + noise
        return out


@dataclass
class KroneckerPosterior:
    """The posterior of a shared design from the eigenbases of K_x and of the whitened task kernel."""

    params: GPParams
    data: GPData
    V: np.ndarray  # (n, n) eigenvectors of K_x
    delta: np.ndarray  # (n,) its eigenvalues
    U: np.ndarray  # (T, T) eigenvectors of S^-1/2 B S^-1/2
    lam: np.ndarray  # (T,) its eigenvalues
    alpha: np.ndarray  # (n, T) K^{-1} vec(Y - m) as a matrix
    n_threads: int

    def _input_kernel_terms(self) -> dict:
        """The one term's input kernel as the core's arguments: a single task with B = 1."""
        return {"kernels": [self.params.spec.terms[0].kernel], "L": [np.zeros((1, 0))], "log_kappa": [np.zeros(1)],
                "theta": [self.params.theta[0]]}

    def _input_kernel(self, X1: np.ndarray, X2: np.ndarray) -> np.ndarray:
        """k(X1, X2) of the one term."""
        return core.gp_covariance(X1=X1, tasks1=np.zeros(X1.shape[0], dtype=np.int64), X2=X2,
                                  tasks2=np.zeros(X2.shape[0], dtype=np.int64), **self._input_kernel_terms(),
                                  n_threads=self.n_threads)

    def predict_all_tasks(self, X: np.ndarray, *, variance: bool, covariance: bool,
                          include_noise: bool) -> Prediction:
        """Every task at every row of X: mean (m, T), variance (m, T), covariance (m, T, m, T)."""
        B = self.params.task_kernels[0]
        K_cross = self._input_kernel(X, self.data.X_shared)
        out = Prediction(self.params.mean + K_cross @ self.alpha @ B)
        if not (variance or covariance):
            return out
        sigma = np.exp(0.5 * self.params.log_noise)
        inverse_delta = 1.0 / (np.outer(self.delta, self.lam) + 1.0)  # (n, T)
        P = self.V.T @ K_cross.T  # (n, m)
        G = self.lam[:, None] * self.U.T * sigma[None, :]  # (T directions, T tasks)
        noise = sigma**2 if include_noise else np.zeros_like(sigma)
        if variance:
            C = inverse_delta.T @ (P**2)  # (T directions, m)
            prior = np.outer(self._prior_diagonal(X), np.diag(B))
            out.variance = np.maximum(prior - C.T @ G**2, 0.0) + noise
        if covariance:
            m, T = X.shape[0], B.shape[0]
            reduced = np.einsum("ja,jk,jb->kab", P, inverse_delta, P)
            cov = np.einsum("ab,ts->atbs", self._input_kernel(X, X), B) - np.einsum("kt,ks,kab->atbs", G, G, reduced)
            cov = cov.reshape(m * T, m * T)
            cov[np.diag_indices_from(cov)] += np.tile(noise, m)
            out.covariance = cov.reshape(m, T, m, T)
        return out

    def _prior_diagonal(self, X: np.ndarray) -> np.ndarray:
        """k(x, x) of the one term at every row of X."""
        return core.gp_covariance_diagonal(X=X, tasks=np.zeros(X.shape[0], dtype=np.int64),
                                           **self._input_kernel_terms())

    def predict(self, X: np.ndarray, tasks: np.ndarray, *, variance: bool, covariance: bool,
                include_noise: bool) -> Prediction:
        """Rows with their own tasks, from the all-task prediction at those rows."""
        full = self.predict_all_tasks(X, variance=variance, covariance=covariance, include_noise=include_noise)
        rows = np.arange(X.shape[0])
        out = Prediction(full.mean[rows, tasks])
        if variance:
            out.variance = full.variance[rows, tasks]
        if covariance:
            out.covariance = full.covariance[rows, tasks][:, rows, tasks]
        return out


@dataclass
class SparsePosterior:
    """The variational posterior of the sparse route (:class:`multitask._gp_sparse.VFEPosterior`)."""

    params: GPParams
    vfe: "object"  # VFEPosterior

    def predict(self, X: np.ndarray, tasks: np.ndarray, *, variance: bool, covariance: bool,
                include_noise: bool) -> Prediction:
        if not (variance or covariance):
            return Prediction(self.vfe.predict_mean(X, tasks))
        mean, spread = self.vfe.predict(X, tasks, full_cov=covariance)
        noise = _noise_at(self.params, tasks) if include_noise else 0.0
        if covariance:
            spread = spread.copy()
            spread[np.diag_indices_from(spread)] += noise
            return Prediction(mean, covariance=spread)
        return Prediction(mean, variance=spread + noise)
