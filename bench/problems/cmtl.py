"""Clustered multi-task learning (convex relaxation) in MALSAR's formulation: objective, M step, checks.

MALSAR's ``Least_CMTL`` (Zhou, Chen and Ye 2011; the relaxation of Jacob, Bach and Vert 2008) minimises,
over W (d x T, column t = task t) and the T x T matrix M,

    F(W, M) = sum_t 1/2 ||X_t w_t - y_t||^2 + c tr(W (eta I + M)^{-1} W^T)
    s.t. tr M = k, 0 <= M <= I (eigenvalues),   eta = rho2 / rho1,  c = rho1 eta (1 + eta),

a summed squared loss without intercepts. ``multitask.TaskRelationRegressor(relation="clusters",
fit_intercept=False, alpha=rho1/N, beta=rho2/N, n_clusters=k)`` minimises F / N (N = sum_t n_t).

For fixed W the minimising M is closed form (``cluster_step``): with W^T W = U diag(s) U^T,
M = U diag(g) U^T where g_i = clip(theta sqrt(s_i) - eta, 0, 1) and theta makes sum g = k (the
stationarity condition s_i / (eta + g_i)^2 = 1/theta^2 of the free g_i). ``profiled_objective`` is
F(W, M*(W)): a function of W alone, convex, and at most F(W, M) for every feasible M.

Everything here is numpy only and evaluated on the data (not on Grams): the one objective every
solver's (W, M) is scored with.
"""

from __future__ import annotations

import numpy as np


def coupling_constants(rho1: float, rho2: float) -> tuple[float, float]:
    """(eta, c) = (rho2 / rho1, rho1 eta (1 + eta))."""
    eta = rho2 / rho1
    return eta, rho1 * eta * (1.0 + eta)


def loss(Xs: list, ys: list, W: np.ndarray) -> float:
    """sum_t 1/2 ||X_t w_t - y_t||^2 for W of shape (d, T)."""
    return 0.5 * sum(float(np.sum((X @ W[:, t] - y) ** 2)) for t, (X, y) in enumerate(zip(Xs, ys)))


def penalty(W: np.ndarray, M: np.ndarray, rho1: float, rho2: float) -> float:
    """c tr(W (eta I + M)^{-1} W^T), M symmetrised first."""
    eta, c = coupling_constants(rho1, rho2)
    T = W.shape[1]
    S = 0.5 * (M + M.T) + eta * np.eye(T)
    return c * float(np.sum(W.T * np.linalg.solve(S, W.T)))


def objective(Xs: list, ys: list, W: np.ndarray, M: np.ndarray, rho1: float, rho2: float) -> float:
    """F(W, M) of the module docstring (MALSAR's units). Feasibility of M: see ``feasibility``."""
    return loss(Xs, ys, W) + penalty(W, M, rho1, rho2)


def feasibility(M: np.ndarray, k: float) -> dict:
    """How far M is from the constraint set: |tr M - k|, eigenvalues below 0 and above 1, asymmetry."""
    eigenvalues = np.linalg.eigvalsh(0.5 * (M + M.T))
    return dict(trace_error=abs(float(np.trace(M)) - k), below_zero=max(0.0, -float(eigenvalues[0])),
                above_one=max(0.0, float(eigenvalues[-1]) - 1.0),
                asymmetry=float(np.max(np.abs(M - M.T))) if M.size else 0.0)


def capped_levels(r: np.ndarray, eta: float, k: float) -> np.ndarray:
    """g = clip(theta r - eta, 0, 1) with the theta >= 0 that makes sum g = k (r >= 0, 0 < k <= len(r)).

    h(theta) = sum_i clip(theta r_i - eta, 0, 1) is piecewise linear and non-decreasing, with breaks at
    eta / r_i and (1 + eta) / r_i: it is evaluated at every break and interpolated linearly (exact, no
    bisection tolerance). If fewer than k of the r_i are positive, h never reaches k: those tasks get
    g = 1 and the rest k - (their number) is spread evenly over the others (any split is optimal then).
    """
    r = np.asarray(r, dtype=np.float64)
    positive = r > 0
    if np.count_nonzero(positive) <= k:
        g = np.where(positive, 1.0, 0.0)
        rest = k - g.sum()
        if rest > 0:
            g[~positive] = rest / np.count_nonzero(~positive)
        return g
    rp = r[positive]
    breaks = np.unique(np.concatenate([eta / rp, (1.0 + eta) / rp]))
    levels = np.clip(breaks[:, None] * rp[None, :] - eta, 0.0, 1.0).sum(axis=1)  # h at every break
    j = int(np.searchsorted(levels, k))  # levels[j - 1] < k <= levels[j]
    if j == 0:
        theta = breaks[0]
    else:
        lo, hi = breaks[j - 1], breaks[j]
        theta = lo + (k - levels[j - 1]) * (hi - lo) / (levels[j] - levels[j - 1])
    g = np.zeros_like(r)
    g[positive] = np.clip(theta * rp - eta, 0.0, 1.0)
    return g


def cluster_step(W: np.ndarray, eta: float, k: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The M minimising tr(W (eta I + M)^{-1} W^T) s.t. tr M = k, 0 <= M <= I, for W (d, T).

    Returns
    -------
    M : ndarray of shape (T, T)
    U : ndarray of shape (T, T)
        Eigenvectors of W^T W (and of M).
    g : ndarray of shape (T,)
        Eigenvalues of M (M = U diag(g) U^T).
    """
    s, U = np.linalg.eigh(W.T @ W)
    g = capped_levels(np.sqrt(np.maximum(s, 0.0)), eta, k)
    return (U * g) @ U.T, U, g


def profiled_objective(Xs: list, ys: list, W: np.ndarray, rho1: float, rho2: float, k: float) -> float:
    """min over feasible M of F(W, M): sum_t 1/2 ||X_t w_t - y_t||^2 + c sum_i s_i / (eta + g_i)."""
    eta, c = coupling_constants(rho1, rho2)
    s = np.maximum(np.linalg.eigvalsh(W.T @ W), 0.0)
    g = capped_levels(np.sqrt(s), eta, k)
    return loss(Xs, ys, W) + c * float(np.sum(s / (eta + g)))


def planted_clusters(T: int, n_t: int, d: int, n_clusters: int, seed: int = 0,
                     noise: float = 1.0) -> tuple[list, list, np.ndarray]:
    """Per-task Gaussian X_t (n_t, d), y_t = X_t w_t + noise, w_t = the centre of its cluster + a small spread.

    Returns
    -------
    Xs, ys : lists of T arrays
    labels : ndarray of shape (T,)
        The planted cluster of every task.
    """
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, d))
    labels = np.arange(T) % n_clusters
    coef = centres[labels] + 0.1 * rng.normal(size=(T, d))
    Xs = [rng.normal(size=(n_t, d)) for _ in range(T)]
    ys = [X @ w + noise * rng.normal(size=n_t) for X, w in zip(Xs, coef)]
    return Xs, ys, labels
