r"""Sparse multi-task Gaussian process: Titsias' collapsed variational (VFE) bound.

The inducing inputs Z (m, d) are shared by the tasks: the inducing variables are
u = (f_t(z_j)) for every task t and every z_j, task-major, M = m T of them. With the latent
covariance K (the LCM Σ_q B_q[t, t′] k_q(x, x′), supplied by a :class:`CovarianceFunctions`),
the noise Σ = diag(σ²_{t_i}) and the residual r = y − m_t (per-task constant means m),

    K_uu = Cov(u, u) (+ jitter),   K_uf = Cov(u, f(X, tasks)),   Q = K_fu K_uu⁻¹ K_uf,
    F = log N(r | 0, Q + Σ) − ½ Σ_i (K_ff[i, i] − Q_ii) / σ²_{t_i}   ≤   log p(y).

F is maximised over the same hyperparameters as the exact marginal likelihood (ML-II); the gap
log p(y) − F is the KL divergence from the variational to the exact posterior, zero when every
(x_i, t_i) is an inducing point. Nothing N × N is formed: with the Cholesky factors

    K_uu = C Cᵀ,  A = C⁻¹ K_uf Σ^(−½) (M, N),  H = I + A Aᵀ = D Dᵀ,  ρ = Σ^(−½) r,  c = D⁻¹ A ρ,

    log|Q + Σ| = Σ_i log σ²_{t_i} + 2 Σ log D_kk,   rᵀ(Q + Σ)⁻¹ r = ‖ρ‖² − ‖c‖²,
    Σ_i Q_ii / σ²_{t_i} = ‖A‖²_F,

in O(N M² + M³).

**Gradient.** With P = (Q + Σ)⁻¹, β = P r = Σ^(−½)(ρ − Aᵀ H⁻¹ A ρ), Φ = K_uu + K_uf Σ⁻¹ K_fu
= C H Cᵀ and b = K_uf β, differentiating F through Q = K_fu K_uu⁻¹ K_uf (dF/dQ = ½(ββᵀ − P + Σ⁻¹))
and using K_uf P = K_uu Φ⁻¹ K_uf Σ⁻¹ gives, as the weights W of Σ_ab W_ab ∂K_ab/∂η,

    ∂F/∂K_uf = K_uu⁻¹ b βᵀ − Φ⁻¹ K_uf Σ⁻¹ + K_uu⁻¹ K_uf Σ⁻¹
             = C⁻ᵀ v βᵀ + G K_uf Σ⁻¹,      v = C⁻¹ b,   G = K_uu⁻¹ − Φ⁻¹ = C⁻ᵀ (I − H⁻¹) C⁻¹,
    ∂F/∂K_uu = −½ K_uu⁻¹ b bᵀ K_uu⁻¹ + ½ (K_uu⁻¹ − Φ⁻¹) − ½ K_uu⁻¹ K_uf Σ⁻¹ K_fu K_uu⁻¹
             = C⁻ᵀ [ −½ v vᵀ + I − ½ H⁻¹ − ½ H ] C⁻¹,
    ∂F/∂K_ff[i, i] = −1 / (2σ²_{t_i}),
    ∂F/∂σ²_i = ½ β_i² − ½ P_ii + ½ (K_ff[i, i] − Q_ii) / σ⁴_i,
               P_ii = (1 − [Aᵀ H⁻¹ A]_ii) / σ²_i,   Q_ii = σ²_i ‖A_{:, i}‖²,
               [Aᵀ H⁻¹ A]_ii = ‖A_{:, i}‖² − [K_fu G K_uf]_ii / σ²_i,
    ∂F/∂m_t = Σ_{i: t_i = t} β_i.

F depends on K_uu only through K_uu⁻¹ in Q, so ∂F/∂K_uu above is the derivative with respect to
every entry taken as free; summed against ∂K_uu/∂η over all pairs (a, b) it is the chain rule
for the symmetric K_uu. The jitter ε tr(K_uu)/M added to the diagonal depends on η too: it adds
(ε/M) tr(W_uu) I to W_uu, so the gradient is that of the value actually computed.

**Profiled means.** F depends on m only through the Gaussian term, a concave quadratic, so for
given covariance and noise it is maximised by the generalised least-squares means under Q + Σ,

    m* = (Eᵀ P E)⁻¹ Eᵀ P y,     E (N, T) the task indicators,
    Eᵀ P [E | y] = Sᵀ S − Jᵀ J,   S = Σ^(−½) [E | y] (N, T+1),   J = D⁻¹ A S (M, T+1),

(the exact route's ``gls_means`` with Q + Σ for K), at O(N M T) on top of the factors; then
c = J[:, y] − J[:, E] m*. With ``profile_mean`` the objective is F(η, m*(η)) and, by the envelope
theorem (∂F/∂m = 0 at m*), its gradient is the partial one above at m = m*.

**Prediction** from the optimal q(u) (the latent f; the caller adds the noise for targets):

    mean = m_{t*} + K_*u Φ⁻¹ K_uf Σ⁻¹ r = m_{t*} + K_*u C⁻ᵀ D⁻ᵀ c,
    cov  = K_** − K_*u K_uu⁻¹ K_u* + K_*u Φ⁻¹ K_u* = K_** − K_*u G K_u*.

**Cost.** C⁻¹ is formed explicitly (LAPACK trtri) so that every product with it is a matrix
product: K_uf → A, G K_uf, and the M × M products are gemm/syrk calls; per evaluation about
5 M²N + 9 M³ flops of level-3 BLAS, plus the covariance functions' O(M (M + N)) pair passes.

References: Titsias (2009), "Variational learning of inducing variables in sparse Gaussian
processes"; Álvarez et al. (2010) for inducing points shared across outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np
from scipy.linalg import LinAlgError, blas, cholesky, lapack, solve_triangular
from sklearn.cluster import kmeans_plusplus
from sklearn.utils import check_random_state

from ._errors import NumericalError

__all__ = [
    "CovarianceFunctions",
    "VFEPosterior",
    "choose_inducing_inputs",
    "inducing_long_format",
    "vfe_objective",
    "vfe_predict",
]


class CovarianceFunctions(Protocol):
    """The latent covariance K = Σ_q B_q[t1, t2] k_q(X1, X2) at fixed hyperparameters.

    The "covariance hyperparameters" η are, per term q: L_q row-major, log κ_q, the log
    length-scales θ_q (the noise and the means are not among them).
    """

    def covariance(self, X1: np.ndarray, t1: np.ndarray, X2: np.ndarray, t2: np.ndarray) -> np.ndarray:
        """K(X1, X2), shape (n1, n2)."""

    def diagonal(self, X: np.ndarray, t: np.ndarray) -> np.ndarray:
        """diag K(X, X), shape (n,)."""

    def gradient(
        self, X1: np.ndarray, t1: np.ndarray, X2: np.ndarray, t2: np.ndarray, W: np.ndarray
    ) -> np.ndarray:
        """Σ_ab W_ab ∂K(X1, X2)_ab / ∂η for every covariance hyperparameter η, shape (n_cov,)."""

    def diagonal_gradient(self, X: np.ndarray, t: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Σ_a w_a ∂K(X, X)_aa / ∂η for every covariance hyperparameter η, shape (n_cov,)."""


def inducing_long_format(Z: np.ndarray, n_tasks: int) -> tuple[np.ndarray, np.ndarray]:
    """The inducing points (every row of Z for every task, task-major): inputs (m T, d) and tasks."""
    return np.tile(Z, (n_tasks, 1)), np.repeat(np.arange(n_tasks), Z.shape[0])


def choose_inducing_inputs(X: np.ndarray, n_inducing: int, random_state=None) -> np.ndarray:
    """Inducing inputs: k-means++ seeding on the distinct rows of X, deterministic given the seed.

    Why k-means++ rather than a uniform subset: the D² sampling spreads the points over the
    inputs (a point close to one already chosen is unlikely), so the Nyström approximation
    K_fu K_uu⁻¹ K_uf covers sparse regions that a uniform draw leaves to chance, at O(N m d).
    Each distinct row is weighted by its multiplicity, so dense regions still get more points.
    The columns are standardised first: the length-scales are not known before the fit, and
    the result should not depend on the units of each input. Duplicated inducing inputs would
    make K_uu singular, so at most the number of distinct rows are returned.

    Parameters
    ----------
    X : ndarray of shape (N, d)
        Training inputs (all tasks together).
    n_inducing : int
        Requested number m of inducing inputs, ≥ 1.
    random_state : int, RandomState instance or None
        Seed of the D² sampling.

    Returns
    -------
    ndarray of shape (min(m, number of distinct rows), d)
        Rows of X, in the order they were chosen.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X must be a non-empty 2-d array, got shape {X.shape}")
    if isinstance(n_inducing, bool) or not isinstance(n_inducing, (int, np.integer)) or n_inducing < 1:
        raise ValueError(f"n_inducing must be an integer >= 1, got {n_inducing!r}")
    distinct, counts = np.unique(X, axis=0, return_counts=True)
    n_points = min(int(n_inducing), distinct.shape[0])
    scale = distinct.std(axis=0)
    scale[scale == 0.0] = 1.0
    standardised = (distinct - distinct.mean(axis=0)) / scale
    _, indices = kmeans_plusplus(
        standardised, n_points, sample_weight=counts.astype(float), random_state=check_random_state(random_state)
    )
    # A zero-distance (already chosen) row has zero probability; the unique() is a guard only.
    _, first = np.unique(indices, return_index=True)
    return distinct[indices[np.sort(first)]]


class _Factors(NamedTuple):
    """The fit-time quantities of the module docstring, shared by the bound and the posterior."""

    Zl: np.ndarray  # inducing inputs, long format (M, d)
    tz: np.ndarray  # their tasks (M,)
    K_uf: np.ndarray  # (M, N)
    C_inv: np.ndarray  # C⁻¹, C the lower Cholesky factor of K_uu + jitter (M, M)
    A: np.ndarray  # C⁻¹ K_uf Σ^(−½) (M, N)
    H: np.ndarray  # I + A Aᵀ (M, M)
    D: np.ndarray  # lower Cholesky factor of H
    noise: np.ndarray  # σ²_{t_i} (N,)
    rho: np.ndarray  # Σ^(−½) r (N,)
    c: np.ndarray  # D⁻¹ A ρ (M,)
    jitter_scale: float  # ε / M: the jitter added is jitter_scale · tr(K_uu)


def _check_data(X, tasks, y, Z, log_noise, mean, jitter, profile_mean: bool = False) -> tuple:
    """Float/int arrays of consistent shapes, or a ValueError naming the argument."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-d array, got shape {X.shape}")
    log_noise = np.asarray(log_noise, dtype=float)
    if log_noise.ndim != 1 or log_noise.size == 0 or not np.all(np.isfinite(log_noise)):
        raise ValueError(f"log_noise must be a finite 1-d array with one entry per task, got {log_noise!r}")
    n_tasks = log_noise.size
    if not profile_mean:
        mean = np.asarray(mean, dtype=float)
        if mean.shape != (n_tasks,) or not np.all(np.isfinite(mean)):
            raise ValueError(f"mean must be a finite array of shape ({n_tasks},), got shape {np.shape(mean)}")
    tasks = np.asarray(tasks)
    if tasks.shape != (X.shape[0],) or tasks.dtype.kind not in "iu":
        raise ValueError(f"tasks must be integers of shape ({X.shape[0]},), got {tasks.dtype} {tasks.shape}")
    if tasks.size and (tasks.min() < 0 or tasks.max() >= n_tasks):
        raise ValueError(f"tasks must lie in [0, {n_tasks}) (one log_noise entry per task)")
    if profile_mean and np.unique(tasks).size != n_tasks:
        raise ValueError("tasks must hold every task at least once to profile the means (profile_mean=True)")
    y = np.asarray(y, dtype=float)
    if y.shape != tasks.shape:
        raise ValueError(f"y must have shape {tasks.shape}, got {y.shape}")
    Z = np.asarray(Z, dtype=float)
    if Z.ndim != 2 or Z.shape[0] == 0 or Z.shape[1] != X.shape[1]:
        raise ValueError(f"Z must have shape (m, {X.shape[1]}) with m >= 1, got {Z.shape}")
    if not (np.isfinite(jitter) and jitter >= 0.0):
        raise ValueError(f"jitter must be a finite number >= 0, got {jitter!r}")
    return X, tasks.astype(np.intp), y, Z, log_noise, mean


def _cholesky(matrix: np.ndarray, what: str) -> np.ndarray:
    """Lower Cholesky factor, or a NumericalError saying which matrix is not positive definite."""
    try:
        return cholesky(matrix, lower=True, check_finite=False)
    except LinAlgError as error:
        raise NumericalError(
            f"{what} is not numerically positive definite ({error}); increase the jitter, "
            "or use fewer / less clustered inducing inputs"
        ) from None


def _inverse_from_factor(D: np.ndarray) -> np.ndarray:
    """(D Dᵀ)⁻¹ from its lower Cholesky factor: LAPACK potri, a third of the flops of solving for I."""
    inverse, info = lapack.dpotri(D, lower=1)
    if info != 0:
        raise NumericalError(f"LAPACK dpotri failed with info = {info}")
    return np.tril(inverse) + np.tril(inverse, -1).T


def _triangular_inverse(C: np.ndarray) -> np.ndarray:
    """C⁻¹ of a lower-triangular C (LAPACK trtri, M³/3 flops).

    Why an explicit inverse: every product with C⁻¹ below has M or N right-hand sides, and a
    matrix product runs several times faster than the triangular solve of the same flop count
    (measured with OpenBLAS: C⁻¹ K_uf by trsm 2.2 × the time of a gemm twice its flops). The
    forward error of either is of order cond(C) ε, with cond(C) = cond(K_uu)^½ ≤ (M/jitter)^½.
    """
    inverse, info = lapack.dtrtri(C, lower=1)
    if info != 0:
        raise NumericalError(f"LAPACK dtrtri failed with info = {info}")
    return np.tril(inverse)


def _gram(A: np.ndarray) -> np.ndarray:
    """A Aᵀ by a symmetric rank-k update (half the flops of a product; Aᵀ is Fortran-ordered)."""
    upper = blas.dsyrk(1.0, A.T, trans=1, lower=0)
    return np.triu(upper) + np.triu(upper, 1).T


def _factorise(functions: CovarianceFunctions, X, tasks, y, Z, log_noise, mean, jitter: float,
               profile_mean: bool = False) -> tuple[_Factors, np.ndarray]:
    """Everything the bound, its gradient and the posterior share, and the means used
    (``mean``, or the GLS means m* with ``profile_mean``; module docstring)."""
    n_tasks = log_noise.size
    Zl, tz = inducing_long_format(Z, n_tasks)
    n_inducing = tz.size
    K_uu, K_uf = functions.covariance(Zl, tz, Zl, tz), functions.covariance(Zl, tz, X, tasks)
    jitter_scale = jitter / n_inducing
    K_uu[np.diag_indices_from(K_uu)] += jitter_scale * np.trace(K_uu)
    C_inv = _triangular_inverse(_cholesky(K_uu, "K_uu (the covariance of the inducing variables)"))
    noise = np.exp(log_noise)[tasks]
    root = np.sqrt(noise)
    A = C_inv @ K_uf
    A /= root
    H = _gram(A)
    H[np.diag_indices_from(H)] += 1.0
    D = _cholesky(H, "I + A Aᵀ")
    if profile_mean:
        S = np.column_stack([tasks[:, None] == np.arange(n_tasks), y]) / root[:, None]
        J = solve_triangular(D, A @ S, lower=True, check_finite=False)
        gram = S.T @ S - J.T @ J  # Eᵀ P [E | y] in its first T rows
        mean = np.linalg.solve(gram[:n_tasks, :n_tasks], gram[:n_tasks, n_tasks])
        c = J[:, n_tasks] - J[:, :n_tasks] @ mean
    rho = (y - mean[tasks]) / root
    if not profile_mean:
        c = solve_triangular(D, A @ rho, lower=True, check_finite=False)
    return _Factors(Zl, tz, K_uf, C_inv, A, H, D, noise, rho, c, jitter_scale), mean


def vfe_objective(
    functions: CovarianceFunctions,
    X: np.ndarray,
    tasks: np.ndarray,
    y: np.ndarray,
    Z: np.ndarray,
    log_noise: np.ndarray,
    mean: np.ndarray | None,
    *,
    eval_gradient: bool = False,
    jitter: float = 1e-8,
    profile_mean: bool = False,
):
    """Titsias' collapsed bound F ≤ log p(y) and its gradient (formulas: module docstring).

    Parameters
    ----------
    functions : CovarianceFunctions
        The latent covariance at the current covariance hyperparameters.
    X : ndarray of shape (N, d)
        Training inputs, long format.
    tasks : ndarray of shape (N,)
        Task index in [0, T) of each row.
    y : ndarray of shape (N,)
        Targets.
    Z : ndarray of shape (m, d)
        Inducing inputs, shared by the T tasks (M = m T inducing variables).
    log_noise : ndarray of shape (T,)
        log σ²_t.
    mean : ndarray of shape (T,) or None
        Per-task constant means m_t (ignored, and may be None, with ``profile_mean``).
    eval_gradient : bool, default=False
        Also return the gradient.
    jitter : float, default=1e-8
        ε: ε tr(K_uu)/M is added to the diagonal of K_uu (a relative ridge, as in
        tests/gp_reference_sparse.py); it is part of the objective and of its gradient.
    profile_mean : bool, default=False
        Use the maximiser m* of F over the means (GLS under Q + Σ) instead of ``mean``, and
        return it. Every task needs at least one sample.

    Returns
    -------
    F : float
    gradient : ndarray of shape (n_cov + 2T,)
        Only with ``eval_gradient``: ∂F/∂η for the covariance hyperparameters (in the order of
        ``functions``), then ∂F/∂ log σ²_t, then ∂F/∂m_t (zero up to rounding with
        ``profile_mean``: the partial derivatives at m*, which are the profiled ones).
    mean : ndarray of shape (T,)
        Only with ``profile_mean``: m*.

    Raises
    ------
    NumericalError
        When K_uu + jitter is not numerically positive definite.
    """
    X, tasks, y, Z, log_noise, mean = _check_data(X, tasks, y, Z, log_noise, mean, jitter, profile_mean)
    f, mean = _factorise(functions, X, tasks, y, Z, log_noise, mean, jitter, profile_mean)
    K_ff_diag = functions.diagonal(X, tasks)
    log_det = np.log(f.noise).sum() + 2.0 * np.log(np.diag(f.D)).sum()
    quadratic = f.rho @ f.rho - f.c @ f.c
    trace = np.sum(K_ff_diag / f.noise) - np.sum(f.A**2)
    value = -0.5 * (quadratic + log_det + y.size * np.log(2.0 * np.pi) + trace)
    if not eval_gradient:
        return (value, mean) if profile_mean else value
    gradient = _gradient(functions, X, tasks, f, K_ff_diag, log_noise.size)
    return (value, gradient, mean) if profile_mean else (value, gradient)


def _gradient(functions: CovarianceFunctions, X, tasks, f: _Factors, K_ff_diag, n_tasks: int) -> np.ndarray:
    """[∂F/∂η, ∂F/∂ log σ², ∂F/∂m] from the factors (module docstring, "Gradient")."""
    root = np.sqrt(f.noise)
    # β = Σ^(−½)(ρ − Aᵀ H⁻¹ A ρ), with H⁻¹ A ρ = D⁻ᵀ c.
    beta = (f.rho - f.A.T @ solve_triangular(f.D, f.c, lower=True, trans="T", check_finite=False)) / root
    v = f.A @ (root * beta)  # C⁻¹ K_uf β
    H_inv = _inverse_from_factor(f.D)
    # G = C⁻ᵀ (I − H⁻¹) C⁻¹ = K_uu⁻¹ − Φ⁻¹, so C⁻ᵀ (I − H⁻¹) A Σ^(−½) = G K_uf Σ⁻¹.
    reduction = -H_inv
    reduction[np.diag_indices_from(reduction)] += 1.0
    # Memory: besides the factors, one more (M, N) array, W_uf, built in place.
    W_uf = _sandwich(f.C_inv, reduction) @ f.K_uf  # G K_uf
    A_norms = np.einsum("ij,ij->j", f.A, f.A)
    Q_diag = f.noise * A_norms
    # [Aᵀ H⁻¹ A]_ii = [K_fu Φ⁻¹ K_uf]_ii / σ²_i = ‖A_{:, i}‖² − [K_fu G K_uf]_ii / σ²_i.
    P_diag = (1.0 - A_norms + np.einsum("ij,ij->j", f.K_uf, W_uf) / f.noise) / f.noise
    W_uf /= f.noise
    W_uf = blas.dger(1.0, beta, f.C_inv.T @ v, a=W_uf.T, overwrite_a=1).T  # += (C⁻ᵀ v) βᵀ, in place
    inner = -0.5 * (np.outer(v, v) + H_inv + f.H)
    inner[np.diag_indices_from(inner)] += 1.0
    W_uu = _sandwich(f.C_inv, inner)
    W_uu[np.diag_indices_from(W_uu)] += f.jitter_scale * np.trace(W_uu)
    covariance_part = (
        functions.gradient(f.Zl, f.tz, f.Zl, f.tz, W_uu)
        + functions.gradient(f.Zl, f.tz, X, tasks, W_uf)
        + functions.diagonal_gradient(X, tasks, -0.5 / f.noise)
    )
    d_noise = 0.5 * (beta**2 - P_diag + (K_ff_diag - Q_diag) / f.noise**2)
    noise_part = np.bincount(tasks, weights=f.noise * d_noise, minlength=n_tasks)
    mean_part = np.bincount(tasks, weights=beta, minlength=n_tasks)
    return np.concatenate([np.asarray(covariance_part, dtype=float), noise_part, mean_part])


def _sandwich(C_inv: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """C⁻ᵀ inner C⁻¹ for a symmetric ``inner``, symmetrised against rounding."""
    out = C_inv.T @ (inner @ C_inv)
    return 0.5 * (out + out.T)


@dataclass(frozen=True)
class VFEPosterior:
    """The VFE posterior of the latent f, stored once after a fit (formulas: module docstring).

    Attributes
    ----------
    functions : CovarianceFunctions
        The latent covariance at the fitted hyperparameters.
    inducing_inputs : ndarray of shape (M, d)
        The inducing points in the long format (Z for every task, task-major).
    inducing_tasks : ndarray of shape (M,)
        Their tasks.
    mean : ndarray of shape (T,)
        The per-task constant means.
    reduction : ndarray of shape (M, M)
        K_uu⁻¹ − Φ⁻¹ = C⁻ᵀ (I − H⁻¹) C⁻¹: the covariance is K_** − K_*u · reduction · K_u*.
    weights : ndarray of shape (M,)
        C⁻ᵀ D⁻ᵀ c = Φ⁻¹ K_uf Σ⁻¹ r: the predictive mean is m_{t*} + K_*u · weights.
    """

    functions: CovarianceFunctions
    inducing_inputs: np.ndarray
    inducing_tasks: np.ndarray
    mean: np.ndarray
    reduction: np.ndarray
    weights: np.ndarray

    @classmethod
    def from_data(
        cls,
        functions: CovarianceFunctions,
        X: np.ndarray,
        tasks: np.ndarray,
        y: np.ndarray,
        Z: np.ndarray,
        log_noise: np.ndarray,
        mean: np.ndarray,
        *,
        jitter: float = 1e-8,
    ) -> "VFEPosterior":
        """Factorise once; the arguments are those of :func:`vfe_objective`."""
        X, tasks, y, Z, log_noise, mean = _check_data(X, tasks, y, Z, log_noise, mean, jitter)
        f, _ = _factorise(functions, X, tasks, y, Z, log_noise, mean, jitter)
        weights = f.C_inv.T @ solve_triangular(f.D, f.c, lower=True, trans="T", check_finite=False)
        reduction = -_inverse_from_factor(f.D)
        reduction[np.diag_indices_from(reduction)] += 1.0
        return cls(functions, f.Zl, f.tz, mean, _sandwich(f.C_inv, reduction), weights)

    def _checked(self, X_new, tasks_new) -> tuple[np.ndarray, np.ndarray]:
        X_new = np.asarray(X_new, dtype=float)
        if X_new.ndim != 2 or X_new.shape[1] != self.inducing_inputs.shape[1]:
            raise ValueError(f"X_new must have shape (n, {self.inducing_inputs.shape[1]}), got {X_new.shape}")
        tasks_new = np.asarray(tasks_new)
        n_tasks = self.mean.size
        if tasks_new.shape != (X_new.shape[0],) or tasks_new.dtype.kind not in "iu" or (
            tasks_new.size and (tasks_new.min() < 0 or tasks_new.max() >= n_tasks)
        ):
            raise ValueError(f"tasks_new must be integers in [0, {n_tasks}) of shape ({X_new.shape[0]},)")
        return X_new, tasks_new.astype(np.intp)

    def predict_mean(self, X_new: np.ndarray, tasks_new: np.ndarray) -> np.ndarray:
        """The posterior mean alone, shape (n,): O(n M) after the kernel."""
        X_new, tasks_new = self._checked(X_new, tasks_new)
        out = np.empty(X_new.shape[0])
        for rows in _chunks(X_new.shape[0]):
            K_us = self.functions.covariance(self.inducing_inputs, self.inducing_tasks, X_new[rows], tasks_new[rows])
            out[rows] = self.mean[tasks_new[rows]] + K_us.T @ self.weights
        return out

    def predict(self, X_new: np.ndarray, tasks_new: np.ndarray, *, full_cov: bool = False):
        """Mean and variance (or covariance with ``full_cov``) of the latent f at (X_new, tasks_new).

        Without ``full_cov`` the points are processed in blocks, so the memory is O(M · block)
        whatever n.

        Returns
        -------
        mean : ndarray of shape (n,)
        variance : ndarray of shape (n,), or covariance of shape (n, n) with ``full_cov``
            Latent (no noise). Variances are clipped at 0 against round-off.
        """
        X_new, tasks_new = self._checked(X_new, tasks_new)
        if full_cov:
            K_us = self.functions.covariance(self.inducing_inputs, self.inducing_tasks, X_new, tasks_new)
            cov = self.functions.covariance(X_new, tasks_new, X_new, tasks_new) - K_us.T @ (self.reduction @ K_us)
            return self.mean[tasks_new] + K_us.T @ self.weights, 0.5 * (cov + cov.T)
        mean, variance = np.empty(X_new.shape[0]), np.empty(X_new.shape[0])
        for rows in _chunks(X_new.shape[0]):
            K_us = self.functions.covariance(self.inducing_inputs, self.inducing_tasks, X_new[rows], tasks_new[rows])
            mean[rows] = self.mean[tasks_new[rows]] + K_us.T @ self.weights
            prior = self.functions.diagonal(X_new[rows], tasks_new[rows])
            variance[rows] = prior - np.einsum("ij,ij->j", K_us, self.reduction @ K_us)
        return mean, np.maximum(variance, 0.0)


def _chunks(n: int, size: int = 4096):
    """Row slices of at most ``size`` rows covering range(n)."""
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def vfe_predict(
    functions: CovarianceFunctions,
    X: np.ndarray,
    tasks: np.ndarray,
    y: np.ndarray,
    Z: np.ndarray,
    log_noise: np.ndarray,
    mean: np.ndarray,
    X_new: np.ndarray,
    tasks_new: np.ndarray,
    *,
    full_cov: bool = False,
    jitter: float = 1e-8,
):
    """:meth:`VFEPosterior.predict` of :meth:`VFEPosterior.from_data` (one-off predictions)."""
    posterior = VFEPosterior.from_data(functions, X, tasks, y, Z, log_noise, mean, jitter=jitter)
    return posterior.predict(X_new, tasks_new, full_cov=full_cov)
