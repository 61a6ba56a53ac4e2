"""L2,1 (group lasso over tasks): data and ONE duality gap for every method.

Ours minimises F(W, b) = (1/N) sum_t 1/2 ||y_t - X_t w_t - b_t||^2 + rho sum_j ||W[:, j]||_2. Every gap
is evaluated on the scale of scikit-learn's MultiTaskLasso and mutar's GroupLasso, P = T F with
a = T rho (n = N / T samples per task), on per-task centred data (intercepts at their optimum):

    P(W)     = 1/(2n) sum_t ||r_t||^2 + a sum_j ||W[:, j]||_2,   r_t = y~_t - X~_t w_t
    theta_t  = r_t / max(n, max_j ||(x~_tj^T r_t)_t||_2 / a)      (dual feasible)
    D(theta) = 1/(2n) sum_t ||y~_t||^2 - n/2 sum_t ||theta_t - y~_t / n||^2
    gap      = P(W) - D(theta) >= P(W) - P*

Target for every method: gap <= GAP_FACTOR ||Y~||_F^2 / n (the scale of scikit-learn's and celer's tol).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

GAP_FACTOR = 1e-6
AR_CORRELATION = 0.9
PENALTY_RATIO = 1e-2  # rho = rho_max / 100


def ar1_features(rng: np.random.Generator, n: int, d: int, rho: float = AR_CORRELATION) -> np.ndarray:
    """(n, d): X_0 = e_0, X_j = rho X_{j-1} + sqrt(1 - rho^2) e_j with e iid N(0, 1)."""
    noise = rng.standard_normal((n, d))
    X = np.empty((n, d))
    X[:, 0] = noise[:, 0]
    scale = np.sqrt(1.0 - rho * rho)
    for j in range(1, d):
        X[:, j] = rho * X[:, j - 1] + scale * noise[:, j]
    return X


def active_features(d: int) -> int:
    """Number of features active in every task of the planted W."""
    return max(2, d // 10)


def planted_coef(rng: np.random.Generator, n_tasks: int, n_features: int) -> np.ndarray:
    """(T, d) row-sparse W^T: ``active_features(d)`` evenly spread features, N(0, 1) entries."""
    coef = np.zeros((n_tasks, n_features))
    support = np.linspace(0, n_features - 1, active_features(n_features)).round().astype(int)
    coef[:, support] = rng.standard_normal((n_tasks, support.size))
    return coef


def make_shared(n: int, d: int, T: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Shared design X (n, d) and Y (n, T) = X W + 1 b^T + E with ||X W||_F = ||E||_F (SNR 1)."""
    rng = np.random.default_rng(seed)
    X = ar1_features(rng, n, d)
    signal = X @ planted_coef(rng, T, d).T
    noise = rng.standard_normal((n, T))
    noise *= np.linalg.norm(signal) / np.linalg.norm(noise)
    return X, signal + noise + rng.standard_normal(T)  # task intercepts: fitting them matters


def make_per_task(T: int, n_t: int, d: int, seed: int = 0) -> tuple[list, list]:
    """Per-task AR(1) X_t, y_t = X_t w_t + b_t + e_t with SNR 1 over all tasks."""
    rng = np.random.default_rng(seed)
    Xs = [ar1_features(rng, n_t, d) for _ in range(T)]
    coef = planted_coef(rng, T, d)
    signals = [X @ w for X, w in zip(Xs, coef)]
    noises = [rng.standard_normal(n_t) for _ in range(T)]
    ratio = np.sqrt(sum(float(s @ s) for s in signals) / sum(float(e @ e) for e in noises))
    intercepts = rng.standard_normal(T)
    return Xs, [s + ratio * e + b for s, e, b in zip(signals, noises, intercepts)]


def centred(Xs: list, ys: list) -> tuple[list, list]:
    """Per-task centred copies."""
    return [X - X.mean(axis=0) for X in Xs], [y - y.mean() for y in ys]


def duality_gap(Xcs: list, ycs: list, coef: np.ndarray, a: float) -> dict:
    """The common duality gap (module docstring) of coef (T, d) on centred per-task data.

    Shared design: pass ``[Xc] * T`` and the columns of Y~.

    Returns
    -------
    dict
        gap, primal, dual, and target = GAP_FACTOR ||Y~||_F^2 / n.
    """
    coef = np.asarray(coef, dtype=np.float64)
    T = len(Xcs)
    n = sum(X.shape[0] for X in Xcs) / T
    residuals = [y - X @ w for X, y, w in zip(Xcs, ycs, coef)]
    correlations = np.array([X.T @ r for X, r in zip(Xcs, residuals)])  # (T, d): x~_tj^T r_t
    dual_norm = float(np.max(np.linalg.norm(correlations, axis=0)))
    scale = max(n, dual_norm / a)
    norm_y2 = sum(float(y @ y) for y in ycs)
    primal = 0.5 / n * sum(float(r @ r) for r in residuals) + a * float(np.sum(np.linalg.norm(coef, axis=0)))
    dual = 0.5 / n * norm_y2 - 0.5 * n * sum(float(np.sum((r / scale - y / n) ** 2))
                                               for r, y in zip(residuals, ycs))
    return dict(gap=primal - dual, primal=primal, dual=dual, target=GAP_FACTOR * norm_y2 / n)


def block_diagonal(Xcs: list) -> sp.csc_matrix:
    """(N, d T) CSC block-diagonal design, feature-major: column j T + t holds task t's feature j."""
    T, d = len(Xcs), Xcs[0].shape[1]
    task_major = sp.block_diag(Xcs, format="csc")  # column t d + j
    order = (np.arange(T)[None, :] * d + np.arange(d)[:, None]).ravel()  # position j T + t <- t d + j
    Z = sp.csc_matrix(task_major[:, order])
    Z.sort_indices()
    Z.indices = Z.indices.astype(np.int32)
    Z.indptr = Z.indptr.astype(np.int32)
    return Z


def coef_from_groups(beta: np.ndarray, T: int) -> np.ndarray:
    """beta (d T,) in feature-major order -> coef (T, d)."""
    return np.asarray(beta).reshape(-1, T).T
