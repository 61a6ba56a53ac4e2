"""Sparse multi-task GP: Titsias' variational (VFE) bound with inducing inputs shared by the tasks.

Inducing variables u = (f_t(z_j)) for every task t and inducing input z_j ∈ Z (m, d): M = m T of
them, task-major, so with the LCM covariance of :mod:`gp_reference`

    K_uu = Σ_q B_q ⊗ k_q(Z, Z)   (M, M),     K_uf = Cov(u, f(X, tasks))   (M, N),
    Q_ff = K_fu K_uu⁻¹ K_uf,     Σ = diag(σ²_{t_i}).

The collapsed bound (Titsias 2009, with the noise per task) is, for r = y − m_{t}:

    F = log N(r | 0, Q_ff + Σ) − ½ Σ_i (K_ff[i, i] − Q_ff[i, i]) / σ²_{t_i}   ≤ log p(y).

It equals log p(y) when every (x_i, t_i) is an inducing point (Q_ff = K_ff), and it cannot
decrease when inducing inputs are added. Computed in O(N M² + M³) through

    K_uu = C Cᵀ,   A = C⁻¹ K_uf Σ^(−½)  (M, N),   H = I + A Aᵀ = D Dᵀ,   c = D⁻¹ A Σ^(−½) r:
    log|Q_ff + Σ| = Σ_i log σ²_{t_i} + log|H|,     rᵀ(Q_ff + Σ)⁻¹ r = rᵀΣ⁻¹r − ‖c‖²,
    Σ_i Q_ff[i, i]/σ²_{t_i} = ‖A‖²_F.

Prediction from the optimal q(u), Φ = K_uu + K_uf Σ⁻¹ K_fu:

    mean = m_{t*} + K_*u Φ⁻¹ K_uf Σ⁻¹ r,    cov = K_** − K_*u K_uu⁻¹ K_u* + K_*u Φ⁻¹ K_u*.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve, solve_triangular
from scipy.stats import multivariate_normal

from gp_reference import GPHyper, latent_covariance


def _inducing(Z, hyper: GPHyper) -> tuple[np.ndarray, np.ndarray]:
    """Inducing points in the long format: every input of Z for every task, task-major."""
    Z = np.atleast_2d(np.asarray(Z, dtype=float))
    T = hyper.n_tasks
    return np.tile(Z, (T, 1)), np.repeat(np.arange(T), Z.shape[0])


def _blocks(X, tasks, Z, hyper: GPHyper, jitter: float):
    Zl, tz = _inducing(Z, hyper)
    K_uu = latent_covariance(Zl, tz, Zl, tz, hyper)
    K_uu = K_uu + jitter * np.trace(K_uu) / K_uu.shape[0] * np.eye(K_uu.shape[0])
    return Zl, tz, K_uu, latent_covariance(Zl, tz, X, tasks, hyper)


def vfe_bound_dense(X, tasks, y, Z, hyper: GPHyper, *, jitter: float = 1e-10) -> float:
    """F from its definition with N × N matrices (the check on :func:`vfe_bound`)."""
    _, _, K_uu, K_uf = _blocks(X, tasks, Z, hyper, jitter)
    Q_ff = K_uf.T @ np.linalg.solve(K_uu, K_uf)
    noise = np.exp(hyper.log_noise)[tasks]
    K_ff_diag = np.diag(latent_covariance(X, tasks, X, tasks, hyper))
    fit = multivariate_normal(cov=Q_ff + np.diag(noise)).logpdf(np.asarray(y) - hyper.mean[tasks])
    return fit - 0.5 * np.sum((K_ff_diag - np.diag(Q_ff)) / noise)


def vfe_bound(X, tasks, y, Z, hyper: GPHyper, *, jitter: float = 1e-10) -> float:
    """F in O(N M² + M³) by the Cholesky factors of the module docstring."""
    _, _, K_uu, K_uf = _blocks(X, tasks, Z, hyper, jitter)
    noise = np.exp(hyper.log_noise)[tasks]
    residual = np.asarray(y, dtype=float) - hyper.mean[tasks]
    C = np.linalg.cholesky(K_uu)
    A = solve_triangular(C, K_uf, lower=True) / np.sqrt(noise)
    D = np.linalg.cholesky(np.eye(A.shape[0]) + A @ A.T)
    c = solve_triangular(D, A @ (residual / np.sqrt(noise)), lower=True)
    log_det = np.log(noise).sum() + 2.0 * np.log(np.diag(D)).sum()
    quadratic = residual @ (residual / noise) - c @ c
    K_ff_diag = np.diag(latent_covariance(X, tasks, X, tasks, hyper))  # only the diagonal is needed
    trace = np.sum(K_ff_diag / noise) - np.sum(A**2)
    return -0.5 * (quadratic + log_det + residual.size * np.log(2.0 * np.pi) + trace)


def vfe_predict(X, tasks, y, Z, hyper: GPHyper, X_new, tasks_new, *, jitter: float = 1e-10):
    """Mean (m,) and latent covariance (m, m) of the VFE posterior at (X_new, tasks_new)."""
    Zl, tz, K_uu, K_uf = _blocks(X, tasks, Z, hyper, jitter)
    noise = np.exp(hyper.log_noise)[tasks]
    residual = np.asarray(y, dtype=float) - hyper.mean[tasks]
    Phi = cho_factor(K_uu + (K_uf / noise) @ K_uf.T, lower=True)
    K_su = latent_covariance(X_new, tasks_new, Zl, tz, hyper)
    mean = hyper.mean[tasks_new] + K_su @ cho_solve(Phi, K_uf @ (residual / noise))
    prior = latent_covariance(X_new, tasks_new, X_new, tasks_new, hyper)
    cov = prior - K_su @ np.linalg.solve(K_uu, K_su.T) + K_su @ cho_solve(Phi, K_su.T)
    return mean, cov
