"""Least squares with a task coupling: F(W, b) of the README ("The objective"), uniform task weights.

    F(W, b) = sum_t ||y_t - X_t w_t - b_t||^2 / (2N) + alpha/2 tr(W K W^T),   N = sum_t n_t
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Relative objective gap (F - F*) / |F*| every least-squares method must reach.
GAP_TARGET = 1e-10


@dataclass
class Problem:
    """Per-task data with its coupling.

    Parameters
    ----------
    Xs, ys : list of ndarray
        Per-task designs (n_t, d) and targets (n_t,).
    K : ndarray of shape (T, T)
        The coupling matrix.
    alpha : float
        The coupling strength.
    """

    Xs: list
    ys: list
    K: np.ndarray
    alpha: float

    @property
    def n_total(self) -> int:
        """N, the number of samples over all tasks."""
        return sum(X.shape[0] for X in self.Xs)

    @property
    def shape(self) -> tuple[int, int]:
        """(T, d)."""
        return len(self.Xs), self.Xs[0].shape[1]

    def objective(self, coef: np.ndarray, intercept: np.ndarray) -> float:
        """F(W, b) on the data, for coef (T, d) and intercept (T,)."""
        loss = sum(float(np.sum((y - X @ w - b) ** 2)) for X, y, w, b in zip(self.Xs, self.ys, coef, intercept))
        return 0.5 * loss / self.n_total + 0.5 * self.alpha * float(np.sum(coef * (self.K @ coef)))

    def optimal_intercepts(self, coef: np.ndarray) -> np.ndarray:
        """b_t = mean(y_t) - mean(X_t) w_t: the optimal intercepts for given coef."""
        return np.array([y.mean() - X.mean(axis=0) @ w for X, y, w in zip(self.Xs, self.ys, coef)])

    def gap(self, coef: np.ndarray, intercept: np.ndarray | None, optimum: float) -> float:
        """Relative objective gap (F - F*) / |F*| (optimal intercepts when ``intercept`` is None)."""
        if intercept is None:
            intercept = self.optimal_intercepts(coef)
        return (self.objective(coef, intercept) - optimum) / abs(optimum)

    def centred_statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """A (T, d, d) with A_t = X~_t^T X~_t / N and C (T, d) with c_t = X~_t^T y~_t / N.

        What any Gram-space method must form first: the floor of the Gram-space peers.
        """
        T, d = self.shape
        grams, rhs = np.empty((T, d, d)), np.empty((T, d))
        scale = 1.0 / self.n_total
        for t, (X, y) in enumerate(zip(self.Xs, self.ys)):
            Xc = X - X.mean(axis=0)
            np.multiply(Xc.T @ Xc, scale, out=grams[t])  # Xc.T @ Xc: numpy calls syrk
            np.multiply(Xc.T @ (y - y.mean()), scale, out=rhs[t])
        return grams, rhs


def gaussian_tasks(T: int, n: int, d: int, K: np.ndarray, alpha: float = 1.0, seed: int = 0) -> Problem:
    """Per-task Gaussian designs, y_t = X_t v_t + noise with a fresh N(0, I) v_t per task."""
    rng = np.random.default_rng(seed)
    Xs = [rng.normal(size=(n, d)) for _ in range(T)]
    ys = [X @ rng.normal(size=d) + rng.normal(size=n) for X in Xs]
    return Problem(Xs, ys, K, alpha=alpha)


def shared_design(n: int, d: int, T: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A shared Gaussian design X (n, d) and targets Y (n, T) = X V + noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, X @ rng.normal(size=(d, T)) + rng.normal(size=(n, T))


def relative_difference(coef: np.ndarray, reference: np.ndarray) -> float:
    """max |coef - reference| / max |reference|."""
    return float(np.abs(coef - reference).max() / np.abs(reference).max())
