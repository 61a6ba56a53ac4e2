"""Input kernels of the multi-task Gaussian process reference, written from the formulas.

Parametrisation (shared by every kernel): **unit signal variance** — the scale of each
latent process lives in the task kernel B = L Lᵀ + diag(κ), so a kernel's amplitude and B's
scale are never both free (they would be unidentifiable: c k and B / c give the same model).
The only input-kernel hyperparameters are log length-scales θ_j = log l_j, either one per
input dimension (ARD, ``theta.shape == (d,)``) or one shared by all dimensions (isotropic,
``theta.shape == (1,)``). With Δ_j = x_j − x′_j and the scaled distance

    r² = Σ_j Δ_j² / l_j²,

the kernels and their derivatives with respect to θ_j (using ∂r²/∂θ_j = −2 Δ_j²/l_j²) are

    rbf          k = exp(−r²/2)                         ∂k/∂θ_j = k Δ_j²/l_j²
    matern32     k = (1 + √3 r) exp(−√3 r)              ∂k/∂θ_j = 3 exp(−√3 r) Δ_j²/l_j²
    matern52     k = (1 + √5 r + 5r²/3) exp(−√5 r)      ∂k/∂θ_j = (5/3)(1 + √5 r) exp(−√5 r) Δ_j²/l_j²
    linear       k = Σ_j x_j x′_j / l_j²                ∂k/∂θ_j = −2 x_j x′_j / l_j²

(the Matérn derivatives follow from ∂k/∂r = −3 r e^(−√3 r) and −(5/3) r (1 + √5 r) e^(−√5 r)
and ∂r/∂θ_j = −Δ_j²/(l_j² r): the 1/r cancels, so they are smooth at r = 0).
The linear kernel also accepts ``theta.shape == (0,)``: the plain dot product ⟨x, x′⟩ with no
hyperparameter (its only scale, an isotropic l, would duplicate B's). For an isotropic θ the
derivative is the sum of the per-dimension ones (chain rule through l_j = l for every j).
These are scikit-learn's ``RBF``, ``Matern(nu=1.5 | 2.5)`` and ``DotProduct(sigma_0=0)`` with
``length_scale = l``, which the tests use as an independent check.
"""

from __future__ import annotations

import numpy as np

KERNELS = ("rbf", "matern32", "matern52", "linear")


def _check(kernel: str, X1: np.ndarray, X2: np.ndarray, theta: np.ndarray) -> tuple:
    """Validate the arguments; return float arrays (X1, X2, theta)."""
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    X1 = np.atleast_2d(np.asarray(X1, dtype=float))
    X2 = np.atleast_2d(np.asarray(X2, dtype=float))
    theta = np.atleast_1d(np.asarray(theta, dtype=float))
    if X1.shape[1] != X2.shape[1]:
        raise ValueError(f"X1 has {X1.shape[1]} columns but X2 has {X2.shape[1]}")
    allowed = (0, 1, X1.shape[1]) if kernel == "linear" else (1, X1.shape[1])
    if theta.ndim != 1 or theta.size not in allowed:
        raise ValueError(f"theta for {kernel!r} must have length in {allowed}, got shape {theta.shape}")
    return X1, X2, theta


def _scaled_squares(X1: np.ndarray, X2: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """S[j, a, b] = (x_aj − x′_bj)² / l_j², shape (d, n1, n2) (explicit, no expansion trick)."""
    lengths = np.broadcast_to(np.exp(theta), (X1.shape[1],))
    diff = (X1[:, None, :] - X2[None, :, :]) / lengths
    return np.moveaxis(diff**2, 2, 0)


def _profile(kernel: str, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(k(r), g(r)) for the stationary kernels, with ∂k/∂θ_j = g(r) Δ_j²/l_j²."""
    if kernel == "rbf":
        k = np.exp(-0.5 * r**2)
        return k, k
    if kernel == "matern32":
        e = np.exp(-np.sqrt(3.0) * r)
        return (1.0 + np.sqrt(3.0) * r) * e, 3.0 * e
    e = np.exp(-np.sqrt(5.0) * r)
    return (1.0 + np.sqrt(5.0) * r + 5.0 * r**2 / 3.0) * e, (5.0 / 3.0) * (1.0 + np.sqrt(5.0) * r) * e


def kernel_matrix(kernel: str, X1: np.ndarray, X2: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """k(X1, X2; θ), shape (n1, n2), for ``kernel`` in :data:`KERNELS` (formulas: module docstring)."""
    X1, X2, theta = _check(kernel, X1, X2, theta)
    if kernel == "linear":
        if theta.size == 0:
            return X1 @ X2.T
        inv_sq = np.broadcast_to(np.exp(-2.0 * theta), (X1.shape[1],))
        return (X1 * inv_sq) @ X2.T
    r = np.sqrt(_scaled_squares(X1, X2, theta).sum(axis=0))
    return _profile(kernel, r)[0]


def kernel_gradient(kernel: str, X1: np.ndarray, X2: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """∂k(X1, X2; θ)/∂θ_j for every log length-scale θ_j, shape (len(θ), n1, n2)."""
    X1, X2, theta = _check(kernel, X1, X2, theta)
    if kernel == "linear":
        if theta.size == 0:
            return np.zeros((0, X1.shape[0], X2.shape[0]))
        inv_sq = np.broadcast_to(np.exp(-2.0 * theta), (X1.shape[1],))
        per_dim = -2.0 * inv_sq[:, None, None] * X1.T[:, :, None] * X2.T[:, None, :]
    else:
        squares = _scaled_squares(X1, X2, theta)
        per_dim = _profile(kernel, np.sqrt(squares.sum(axis=0)))[1] * squares
    return per_dim.sum(axis=0, keepdims=True) if theta.size == 1 else per_dim
