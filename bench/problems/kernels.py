"""Kernel machines: task kernels, RBF Grams and the data of K1-K5.

The GP posterior mean with kernel B_st k(x, x') and noise s2 is kernel ridge with alpha N = s2
(uniform weights, no intercept): every route of K1 and K2 solves (M + s2 I) c = y.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist

LENGTHSCALE, NOISE = 0.5, 0.1
GAMMA = 1.0 / (2 * LENGTHSCALE**2)


def task_kernel(T: int, seed: int) -> np.ndarray:
    """A positive definite B with unit diagonal and correlations up to about 0.8."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(T, 2))
    B = A @ A.T + 0.2 * np.eye(T)
    scale = 1 / np.sqrt(np.diag(B))
    return B * np.outer(scale, scale)


def rbf(X1: np.ndarray, X2: np.ndarray, gamma: float = GAMMA) -> np.ndarray:
    """exp(-gamma ||x - x'||^2) through scipy's cdist."""
    return np.exp(-gamma * cdist(X1, X2, "sqeuclidean"))


def task_index(Xs: list) -> np.ndarray:
    """The task of every stacked sample."""
    return np.repeat(np.arange(len(Xs)), [X.shape[0] for X in Xs])


def smooth_target(X: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
    """sin(2 x_0) cos(x_1) + 0.3 t + N(0, 0.1^2): the targets of tasks at their own inputs."""
    return np.sin(2 * X[:, 0]) * np.cos(X[:, 1]) + 0.3 * t + 0.1 * rng.normal(size=len(X))


def own_inputs(T: int, n_t: int, n_test: int, seed: int) -> tuple[list, list, list]:
    """T tasks at their own uniform inputs in [-2, 2]^2, and ``n_test`` test inputs per task."""
    rng = np.random.default_rng(seed)
    Xs = [rng.uniform(-2, 2, size=(n_t, 2)) for _ in range(T)]
    ys = [smooth_target(X, t, rng) for t, X in enumerate(Xs)]
    return Xs, ys, [rng.uniform(-2, 2, size=(n_test, 2)) for _ in range(T)]


def shared_inputs(n: int, T: int, offset: float, seed: int, n_test: int = 200) -> tuple:
    """T tasks at the same n inputs: Y[:, t] = sin(2 x_0 + t) cos(x_1) + offset t + noise."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 2))
    Y = np.column_stack([np.sin(2 * X[:, 0] + t) * np.cos(X[:, 1]) + offset * t + 0.1 * rng.normal(size=n)
                         for t in range(T)])
    return X, Y, rng.uniform(-2, 2, size=(n_test, 2))
