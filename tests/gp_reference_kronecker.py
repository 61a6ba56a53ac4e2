"""Shared-design (Kronecker) route of the multi-task GP: O(n³ + T³) per likelihood evaluation.

Every task observed at the same inputs X (n, d), targets Y (n, T), one ICM term (Q = 1):
in task-major order (vec stacks the columns of Y) the training covariance is

    K = B ⊗ K_x + S ⊗ I_n,     S = diag(σ²_1, …, σ²_T),  K_x = k(X, X).

With per-task noise, B ⊗ K_x and S ⊗ I_n do not share eigenvectors; whiten the noise first:

    K = (S^½ ⊗ I) (B̃ ⊗ K_x + I) (S^½ ⊗ I),    B̃ = S^(−½) B S^(−½) = U diag(λ) Uᵀ,  K_x = V diag(δ) Vᵀ,

so B̃ ⊗ K_x + I = (U ⊗ V) diag(λ_k δ_j + 1) (U ⊗ V)ᵀ. Write Δ[j, k] = λ_k δ_j + 1 (n, T) and
R = Y − 1 mᵀ (per-task means m). Then, with Z = Vᵀ R S^(−½) U and A = Z / Δ (elementwise),

    α  = vec(α_mat),  α_mat = V A Uᵀ S^(−½)          (α = K⁻¹ vec(R))
    rᵀ K⁻¹ r = Σ Z² / Δ,     log|K| = n Σ_t log σ²_t + Σ log Δ,
    log p = −½ rᵀK⁻¹r − ½ log|K| − (nT/2) log 2π.

Gradient (½ αᵀ ∂K α − ½ tr(K⁻¹ ∂K) per parameter), every trace reduced to the eigenbases:

* B (any symmetric perturbation ∂B, ∂K = ∂B ⊗ K_x): ∂ log p = Σ (G_B ∘ ∂B) with
  G_B = ½ α_matᵀ K_x α_mat − ½ S^(−½) U diag(c) Uᵀ S^(−½),  c_k = Σ_j δ_j / Δ[j, k];
  hence ∂/∂L = 2 G_B L and ∂/∂ log κ_t = κ_t G_B[t, t].
* log σ²_t (∂K = σ²_t e_t e_tᵀ ⊗ I): ½ σ²_t ‖α_mat[:, t]‖² − ½ Σ_k U[t, k]² h_k,  h_k = Σ_j 1/Δ[j, k].
* θ (∂K = B ⊗ ∂K_x): ½ Σ (∂K_x ∘ (α_mat B α_matᵀ − V diag(e) Vᵀ)),  e_j = Σ_k λ_k / Δ[j, k].
* m_t: Σ_i α_mat[i, t].

Prediction at X* (m, d) for every task, with P = Vᵀ k(X, X*) (n, m) and G[k, t] = λ_k U[t, k] σ_t
(the rotated cross-covariance: Uᵀ S^(−½) B = diag(λ) Uᵀ S^½):

    mean[a, t] = m_t + (k(X*, X) α_mat B)[a, t],
    Cov[(t, a), (s, b)] = B[t, s] k(x*_a, x*_b) − Σ_{k, j} G[k, t] G[k, s] P[j, a] P[j, b] / Δ[j, k].

LCM (Q > 1) has no such joint diagonalisation in general; it takes the dense route.
"""

from __future__ import annotations

import numpy as np

from gp_reference import GPHyper
from gp_reference_kernels import kernel_gradient, kernel_matrix


def _decompose(X, hyper: GPHyper):
    """Eigen-decompositions of the whitened B̃ and of K_x (the O(T³ + n³) part)."""
    if len(hyper.terms) != 1:
        raise ValueError(f"the Kronecker route needs exactly one ICM term, got {len(hyper.terms)}")
    term = hyper.terms[0]
    X = np.atleast_2d(np.asarray(X, dtype=float))
    Kx = kernel_matrix(term.kernel, X, X, term.theta)
    sigma = np.exp(0.5 * hyper.log_noise)
    lam, U = np.linalg.eigh(term.B / np.outer(sigma, sigma))
    delta, V = np.linalg.eigh(Kx)
    return term, X, Kx, sigma, lam, U, delta, V, np.outer(delta, lam) + 1.0


def _alpha(Y, hyper, sigma, U, V, Delta):
    """(Z, α_mat): rotated whitened residuals and K⁻¹ vec(R) as an (n, T) matrix."""
    Y = np.asarray(Y, dtype=float)
    Z = V.T @ ((Y - hyper.mean) / sigma) @ U
    return Z, (V @ (Z / Delta) @ U.T) / sigma


def kronecker_log_marginal_likelihood(X, Y, hyper: GPHyper, eval_gradient: bool = False):
    """log p(vec Y) for a shared design and, with ``eval_gradient``, its gradient (vector order)."""
    term, X, Kx, sigma, lam, U, delta, V, Delta = _decompose(X, hyper)
    n, T = Delta.shape
    if np.shape(Y) != (n, T):
        raise ValueError(f"Y must have shape ({n}, {T}), got {np.shape(Y)}")
    Z, alpha = _alpha(Y, hyper, sigma, U, V, Delta)
    log_det = n * hyper.log_noise.sum() + np.log(Delta).sum()
    value = -0.5 * np.sum(Z**2 / Delta) - 0.5 * log_det - 0.5 * n * T * np.log(2.0 * np.pi)
    if not eval_gradient:
        return value
    c = (delta[:, None] / Delta).sum(axis=0)
    US = U / sigma[:, None]  # S^(−½) U
    G_B = 0.5 * alpha.T @ Kx @ alpha - 0.5 * (US * c) @ US.T
    grad_L = 2.0 * G_B @ term.L
    grad_log_kappa = np.exp(term.log_kappa) * np.diag(G_B)
    e = (lam / Delta).sum(axis=1)
    W_x = alpha @ term.B @ alpha.T - (V * e) @ V.T
    grad_theta = [0.5 * np.sum(dKx * W_x) for dKx in kernel_gradient(term.kernel, X, X, term.theta)]
    h = (1.0 / Delta).sum(axis=0)
    grad_log_noise = 0.5 * sigma**2 * (alpha**2).sum(axis=0) - 0.5 * (U**2) @ h
    grad_mean = alpha.sum(axis=0)
    gradient = np.concatenate([grad_L.ravel(), grad_log_kappa, grad_theta, grad_log_noise, grad_mean])
    return value, gradient


def kronecker_predict(X, Y, hyper: GPHyper, X_new, *, include_noise: bool = False):
    """Posterior mean (m, T) and covariance (T m, T m), task-major, of every task at X_new (m, d).

    ``include_noise`` adds σ²_t on the diagonal of task t's block (new noisy targets).
    """
    term, X, Kx, sigma, lam, U, delta, V, Delta = _decompose(X, hyper)
    _, alpha = _alpha(Y, hyper, sigma, U, V, Delta)
    X_new = np.atleast_2d(np.asarray(X_new, dtype=float))
    K_cross = kernel_matrix(term.kernel, X_new, X, term.theta)
    mean = hyper.mean + K_cross @ alpha @ term.B
    P = V.T @ K_cross.T
    G = lam[:, None] * U.T * sigma[None, :]
    # Σ_j P[j, a] P[j, b] / Δ[j, k] for each task direction k: (T, m, m).
    C = np.einsum("ja,jk,jb->kab", P, 1.0 / Delta, P)
    reduction = np.einsum("kt,ks,kab->tasb", G, G, C)
    prior = np.einsum("ts,ab->tasb", term.B, kernel_matrix(term.kernel, X_new, X_new, term.theta))
    m, T = X_new.shape[0], hyper.n_tasks
    cov = (prior - reduction).reshape(T * m, T * m)
    if include_noise:
        cov = cov + np.diag(np.repeat(sigma**2, m))
    return mean, cov
