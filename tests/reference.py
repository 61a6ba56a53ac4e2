"""Independent dense references for the kernel-coupled least-squares objective.

Everything here is plain numpy on the data, written from the definitions in
DESIGN.md §1, without any of the package's code paths.
"""

from __future__ import annotations

import numpy as np


def random_problem(rng, n_per_task, n_features, *, coupling="random", shift=0.0):
    """Per-task data with unequal sizes and a random positive definite coupling."""
    Xs = [rng.normal(size=(n, n_features)) + shift for n in n_per_task]
    ys = [X @ rng.normal(size=n_features) + rng.normal(size=X.shape[0]) + 2.0 for X in Xs]
    T = len(n_per_task)
    if coupling == "random":
        A = rng.normal(size=(T, T))
        K = A @ A.T / T + 0.2 * np.eye(T)
    else:
        K = np.asarray(coupling, dtype=float)
    return Xs, ys, K


def omega(task_weights, n_per_task):
    n = np.asarray(n_per_task, dtype=float)
    if isinstance(task_weights, str):
        return np.ones_like(n) if task_weights == "uniform" else n.sum() / (n.size * n)
    return np.asarray(task_weights, dtype=float)


def objective(Xs, ys, coef, intercept, K, alpha, task_weights="uniform"):
    """F(W, b) = (1/N) sum_t omega_t sum_i 1/2 (y - X w_t - b_t)^2 + alpha/2 tr(W K W^T)."""
    n = [X.shape[0] for X in Xs]
    w = omega(task_weights, n)
    loss = sum(w[t] * 0.5 * np.sum((ys[t] - Xs[t] @ coef[t] - intercept[t]) ** 2) for t in range(len(Xs)))
    return loss / sum(n) + 0.5 * alpha * np.trace(coef.T @ K @ coef)


def kronecker_system(Xs, ys, K, alpha, task_weights="uniform", fit_intercept=True):
    """H = blockdiag(A_t) + alpha K (x) I_d and c = vec(C), tasks stacked."""
    T, d = len(Xs), Xs[0].shape[1]
    n = [X.shape[0] for X in Xs]
    s = omega(task_weights, n) / sum(n)
    H = alpha * np.kron(K, np.eye(d))
    c = np.zeros(T * d)
    for t, (X, y) in enumerate(zip(Xs, ys)):
        if fit_intercept:
            X, y = X - X.mean(axis=0), y - y.mean()
        H[t * d : (t + 1) * d, t * d : (t + 1) * d] += s[t] * X.T @ X
        c[t * d : (t + 1) * d] = s[t] * X.T @ y
    return H, c


def dense_solution(Xs, ys, K, alpha, task_weights="uniform", fit_intercept=True):
    """Coefficients (T, d) and intercepts (T,) from a dense solve of the Kronecker system."""
    H, c = kronecker_system(Xs, ys, K, alpha, task_weights, fit_intercept)
    coef = np.linalg.solve(H, c).reshape(len(Xs), -1)
    if fit_intercept:
        intercept = np.array([y.mean() - X.mean(axis=0) @ w for X, y, w in zip(Xs, ys, coef)])
    else:
        intercept = np.zeros(len(Xs))
    return coef, intercept


def numerical_gradient(f, x, step=1e-6):
    """Central finite differences of a scalar function of an array."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[index] = step
        grad[index] = (f(x + e) - f(x - e)) / (2 * step)
    return grad
