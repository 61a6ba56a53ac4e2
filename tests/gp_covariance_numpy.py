"""numpy stand-ins for the estimator's covariance functions (the ``CovarianceFunctions`` protocol).

The estimator's C++-backed implementation computes, at fixed hyperparameters, the latent LCM
covariance K = Σ_q B_q[t1, t2] k_q(X1, X2) and weighted sums of its derivatives. Two stand-ins:

* :class:`ExplicitCovariance` builds every ∂K/∂η as an (n1, n2) matrix from the formulas of
  :mod:`gp_reference` / :mod:`gp_reference_kernels` and sums W ∘ ∂K/∂η: slow, obviously right,
  the one the sparse objective's tests use.
* :class:`VectorisedCovariance` never forms a matrix per hyperparameter: with G = W ∘ (pairs of B)
  ∘ (profile), Σ_ab G_ab (x_aj − x′_bj)² = Σ_a x_aj² (G1)_a + Σ_b x′_bj² (Gᵀ1)_b − 2 x_jᵀ G x′_j,
  and the task-kernel parts are E1ᵀ (W ∘ k) E2 (E the task indicators) chained through
  ∂B/∂L = (S + Sᵀ) L, ∂B/∂log κ_t = κ_t S_tt. O(n1 n2 (d + T)): fast enough for the accuracy
  study in bench/. Tested equal to the explicit one.

Both are built from ``terms`` (a tuple of ``gp_reference.ICMTerm``). :func:`exact_objective` is
the exact log marginal likelihood and its gradient through the same protocol, for the study.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve, lapack

from gp_reference import GPHyper, ICMTerm
from gp_reference_kernels import _profile as _stationary_profile
from gp_reference_kernels import kernel_gradient, kernel_matrix


def terms_from_vector(template: tuple[ICMTerm, ...], vector: np.ndarray) -> tuple[ICMTerm, ...]:
    """ICM terms shaped like ``template`` from a covariance-hyperparameter vector (no noise, mean)."""
    T = template[0].log_kappa.size
    hyper = GPHyper(template, np.zeros(T), np.zeros(T))
    return hyper.from_vector(np.concatenate([vector, np.zeros(2 * T)])).terms


class ExplicitCovariance:
    """One (n1, n2) derivative matrix per hyperparameter, from the reference formulas."""

    def __init__(self, terms: tuple[ICMTerm, ...]):
        self.terms = tuple(terms)

    def covariance(self, X1, t1, X2, t2):
        return sum(q.B[np.ix_(t1, t2)] * kernel_matrix(q.kernel, X1, X2, q.theta) for q in self.terms)

    def diagonal(self, X, t):
        return np.diag(self.covariance(X, t, X, t)).copy()

    def derivatives(self, X1, t1, X2, t2) -> list[np.ndarray]:
        """∂K(X1, X2)/∂η in vector order (the cross-argument version of covariance_derivatives)."""
        out = []
        for q in self.terms:
            T, rank = q.L.shape
            Kx = kernel_matrix(q.kernel, X1, X2, q.theta)
            for a in range(T):
                for b in range(rank):
                    dB = np.zeros((T, T))
                    dB[a, :] += q.L[:, b]
                    dB[:, a] += q.L[:, b]
                    out.append(dB[np.ix_(t1, t2)] * Kx)
            kappa = np.exp(q.log_kappa)
            out += [kappa[s] * np.outer(t1 == s, t2 == s) * Kx for s in range(T)]
            out += [q.B[np.ix_(t1, t2)] * dKx for dKx in kernel_gradient(q.kernel, X1, X2, q.theta)]
        return out

    def gradient(self, X1, t1, X2, t2, W):
        return np.array([np.sum(W * dK) for dK in self.derivatives(X1, t1, X2, t2)])

    def diagonal_gradient(self, X, t, w):
        return np.array([w @ np.diag(dK) for dK in self.derivatives(X, t, X, t)])


def _squared_distance(X1: np.ndarray, X2: np.ndarray) -> np.ndarray:
    """‖x_a − x′_b‖², by the expansion (clipped at 0 against cancellation)."""
    sq = np.sum(X1**2, axis=1)[:, None] + np.sum(X2**2, axis=1)[None, :] - 2.0 * X1 @ X2.T
    return np.maximum(sq, 0.0)


def _profile(kernel: str, X1: np.ndarray, X2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(k, g) on inputs already divided by the length-scales; ∂k/∂θ_j = g Δ_j²/l_j² (stationary)."""
    if kernel == "linear":
        return X1 @ X2.T, None
    return _stationary_profile(kernel, np.sqrt(_squared_distance(X1, X2)))


class VectorisedCovariance:
    """The same functions as :class:`ExplicitCovariance` in O(n1 n2 (d + T)) (module docstring)."""

    def __init__(self, terms: tuple[ICMTerm, ...]):
        self.terms = tuple(terms)

    @staticmethod
    def _scaled(q: ICMTerm, X: np.ndarray) -> np.ndarray:
        if q.theta.size == 0:
            return X
        return X / np.broadcast_to(np.exp(q.theta), (X.shape[1],))

    def covariance(self, X1, t1, X2, t2):
        return sum(
            q.B[np.ix_(t1, t2)] * _profile(q.kernel, self._scaled(q, X1), self._scaled(q, X2))[0] for q in self.terms
        )

    def diagonal(self, X, t):
        out = np.zeros(X.shape[0])
        for q in self.terms:
            k_diag = np.sum(self._scaled(q, X) ** 2, axis=1) if q.kernel == "linear" else 1.0
            out += np.diag(q.B)[t] * k_diag
        return out

    @staticmethod
    def _task_part(q: ICMTerm, S: np.ndarray) -> list[np.ndarray]:
        """Gradient over (L, log κ) from S = ∂/∂B of the weighted sum (chain rule of B = LLᵀ + diag κ)."""
        return [((S + S.T) @ q.L).ravel(), np.exp(q.log_kappa) * np.diag(S)]

    @staticmethod
    def _fold(q: ICMTerm, per_dim: np.ndarray) -> np.ndarray:
        """Per-dimension θ derivatives → θ's (summed for an isotropic θ, none for a plain dot product)."""
        return per_dim[: q.theta.size] if q.theta.size != 1 else np.array([per_dim.sum()])

    def gradient(self, X1, t1, X2, t2, W):
        T = self.terms[0].log_kappa.size
        E1 = (t1[:, None] == np.arange(T)).astype(float)
        E2 = (t2[:, None] == np.arange(T)).astype(float)
        out = []
        for q in self.terms:
            S1, S2 = self._scaled(q, X1), self._scaled(q, X2)
            k, g = _profile(q.kernel, S1, S2)
            out += self._task_part(q, E1.T @ (W * k) @ E2)
            G = W * q.B[np.ix_(t1, t2)]
            if q.kernel == "linear":  # ∂k/∂θ_j = −2 x_j x′_j / l_j²
                per_dim = -2.0 * np.sum(S1 * (G @ S2), axis=0)
            else:
                G = G * g
                per_dim = S1.T**2 @ G.sum(axis=1) + S2.T**2 @ G.sum(axis=0) - 2.0 * np.sum(S1 * (G @ S2), axis=0)
            out.append(self._fold(q, per_dim))
        return np.concatenate(out)

    def diagonal_gradient(self, X, t, w):
        T = self.terms[0].log_kappa.size
        out = []
        for q in self.terms:
            S = self._scaled(q, X)
            k_diag = np.sum(S**2, axis=1) if q.kernel == "linear" else np.ones(X.shape[0])
            out += self._task_part(q, np.diag(np.bincount(t, weights=w * k_diag, minlength=T)))
            if q.kernel == "linear":
                per_dim = -2.0 * (w * np.diag(q.B)[t]) @ S**2
            else:  # k(x, x) = 1 for every length-scale
                per_dim = np.zeros(X.shape[1])
            out.append(self._fold(q, per_dim))
        return np.concatenate(out)


def exact_objective(functions, X, tasks, y, log_noise, mean, *, eval_gradient: bool = False):
    """Exact log p(y) (and gradient in [covariance, log σ², m] order) through the protocol.

    ∂/∂η = ½ Σ_ab (ααᵀ − K⁻¹)_ab ∂K_ab/∂η,  ∂/∂ log σ²_t = ½ Σ_{i∈t} σ²_t (α_i² − K⁻¹_ii),
    ∂/∂m_t = Σ_{i∈t} α_i (gp_reference.log_marginal_likelihood, in O(N²) memory per pass).
    """
    noise = np.exp(log_noise)[tasks]
    K = functions.covariance(X, tasks, X, tasks)
    K[np.diag_indices_from(K)] += noise
    factor = cho_factor(K, lower=True, overwrite_a=True)
    residual = y - mean[tasks]
    alpha = cho_solve(factor, residual)
    log_det = 2.0 * np.log(np.diag(factor[0])).sum()
    value = -0.5 * residual @ alpha - 0.5 * log_det - 0.5 * y.size * np.log(2.0 * np.pi)
    if not eval_gradient:
        return value
    K_inv, info = lapack.dpotri(factor[0], lower=1, overwrite_c=1)  # (L Lᵀ)⁻¹, lower triangle
    if info != 0:
        raise np.linalg.LinAlgError(f"dpotri failed: info = {info}")
    W = -(np.tril(K_inv) + np.tril(K_inv, -1).T)
    W += np.outer(alpha, alpha)
    T = log_noise.size
    covariance_part = 0.5 * functions.gradient(X, tasks, X, tasks, W)
    noise_part = 0.5 * np.bincount(tasks, weights=noise * np.diag(W), minlength=T)
    return value, np.concatenate([covariance_part, noise_part, np.bincount(tasks, weights=alpha, minlength=T)])
