"""Multi-task Gaussian process: ICM hyperparameters and the data of G1 and G2.

The model is the intrinsic coregionalisation model (ICM)

    Cov(f_t(x), f_s(x')) = B[t, s] k(x, x'),   B = W W^T + diag(kappa),   y_ti = f_t(x_ti) + eps,  eps ~ N(0, s2_t),

with the RBF input kernel of unit variance and one length-scale per input dimension (ARD),
k(x, x') = exp(-sum_j (x_j - x'_j)^2 / (2 l_j^2)): the scale of the processes lives in B. This is GPy's
``ICM(kernel=RBF(ARD=True))`` with the RBF variance fixed at 1, and our estimator's ``kernel="rbf"``.

The data are drawn from a planted ICM (exact Gaussian samples, numpy only) and centred per task: both
fits compared are zero-mean GPs (GPy has no mean; ours runs with ``mean="zero"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import cholesky

JITTER = 1e-6  # relative to the mean prior variance: the RBF Gram of dense inputs is numerically singular


@dataclass(frozen=True)
class ICMHyper:
    """ICM hyperparameters in natural units: W (T, r), kappa (T,), length-scales (d,), noise variances (T,)."""

    W: np.ndarray
    kappa: np.ndarray
    lengthscale: np.ndarray
    noise: np.ndarray

    @property
    def B(self) -> np.ndarray:
        """The task covariance W W^T + diag(kappa), (T, T)."""
        return self.W @ self.W.T + np.diag(self.kappa)

    def to_theta(self, size: int) -> np.ndarray:
        """Our estimator's hyperparameter vector (one ICM term).

        Order: W row-major (T r), log kappa (T), log length-scales (d), log noise variances (T), then
        ``size`` minus that many per-task means, set to 0 (the zero-mean model).
        """
        core = np.concatenate([self.W.ravel(), np.log(self.kappa), np.log(self.lengthscale), np.log(self.noise)])
        if size < core.size:
            raise ValueError(f"size must be at least {core.size}, got {size}")
        return np.concatenate([core, np.zeros(size - core.size)])

    @classmethod
    def from_theta(cls, theta: np.ndarray, n_tasks: int, rank: int, n_dims: int) -> "ICMHyper":
        """The inverse of ``to_theta`` (trailing means ignored)."""
        theta = np.asarray(theta, dtype=float)
        T, r, d = n_tasks, rank, n_dims
        if theta.ndim != 1 or theta.size < T * r + 2 * T + d:
            raise ValueError(f"theta must be a vector of at least {T * r + 2 * T + d} entries, got shape {theta.shape}")
        position = T * r
        W = theta[:position].reshape(T, r)
        kappa = np.exp(theta[position : position + T])
        lengthscale = np.exp(theta[position + T : position + T + d])
        noise = np.exp(theta[position + T + d : position + 2 * T + d])
        return cls(W, kappa, lengthscale, noise)


def rbf_ard(X1: np.ndarray, X2: np.ndarray, lengthscale: np.ndarray) -> np.ndarray:
    """exp(-||(x - x') / l||^2 / 2), (n1, n2)."""
    A, C = X1 / lengthscale, X2 / lengthscale
    squared = (A**2).sum(1)[:, None] + (C**2).sum(1)[None, :] - 2.0 * A @ C.T
    return np.exp(-0.5 * np.maximum(squared, 0.0))


def planted(n_tasks: int, rank: int, n_dims: int, seed: int) -> ICMHyper:
    """A planted ICM: W with rows of norm about 1, small kappa, length-scales 0.6 ... 1.2, noise 0.01 ... 0.05."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(n_tasks, rank)) / np.sqrt(rank)
    return ICMHyper(W, np.full(n_tasks, 0.05), np.linspace(0.6, 1.2, n_dims), np.linspace(0.01, 0.05, n_tasks))


def own_inputs(n_tasks: int, n_per_task: int, n_dims: int, rank: int, seed: int) -> tuple[list, list, ICMHyper]:
    """G1: every task at its own uniform inputs in [-2, 2]^d, targets drawn from the planted ICM.

    Returns
    -------
    Xs, ys : list of ndarray
        Inputs (n_per_task, d) and centred targets (n_per_task,) per task.
    truth : ICMHyper
        The planted hyperparameters.
    """
    rng = np.random.default_rng(seed)
    truth = planted(n_tasks, rank, n_dims, seed + 1)
    Xs = [rng.uniform(-2.0, 2.0, size=(n_per_task, n_dims)) for _ in range(n_tasks)]
    X = np.vstack(Xs)
    tasks = np.repeat(np.arange(n_tasks), n_per_task)
    # f ~ N(0, B[t, t'] k(x, x')), sampled through a Cholesky factor (JITTER keeps it positive definite).
    covariance = truth.B[np.ix_(tasks, tasks)] * rbf_ard(X, X, truth.lengthscale)
    covariance[np.diag_indices_from(covariance)] += JITTER * np.trace(covariance) / len(covariance)
    f = cholesky(covariance, lower=True) @ rng.normal(size=len(X))
    y = f + np.sqrt(truth.noise[tasks]) * rng.normal(size=len(X))
    ys = [part - part.mean() for part in np.split(y, n_tasks)]
    return Xs, ys, truth


def shared_inputs(n_tasks: int, n: int, n_dims: int, rank: int, seed: int) -> tuple[np.ndarray, np.ndarray, ICMHyper]:
    """G2: every task at the same n inputs, Y (n, T) = F + noise with vec(F) ~ N(0, B (x) K_x), centred per task.

    F = C_x Z C_B^T for Z (n, T) standard normal and Cholesky factors C_x C_x^T = K_x, C_B C_B^T = B.
    """
    rng = np.random.default_rng(seed)
    truth = planted(n_tasks, rank, n_dims, seed + 1)
    X = rng.uniform(-2.0, 2.0, size=(n, n_dims))
    Kx = rbf_ard(X, X, truth.lengthscale)
    Kx[np.diag_indices_from(Kx)] += JITTER  # unit diagonal
    F = cholesky(Kx, lower=True) @ rng.normal(size=(n, n_tasks)) @ cholesky(truth.B, lower=True).T
    Y = F + np.sqrt(truth.noise) * rng.normal(size=(n, n_tasks))
    return X, Y - Y.mean(axis=0), truth
