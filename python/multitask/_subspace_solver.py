"""The pure-Python solver of SharedSubspaceRegressor: alternating minimisation over U and the heads.

F(U, A, b) (see :class:`~multitask.SharedSubspaceRegressor`) is minimised
alternately over the shared components U, by preconditioned conjugate gradient
on the normal equations (scipy's ``cg``, products through the data or per-task
Gram matrices), and over the heads A and intercepts b, by
:class:`~multitask.KernelCoupledRegressor` on the features z = U^T x. The
estimator validates the input, calls :func:`alternating_minimisation` and
stores what it returns.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse.linalg import LinearOperator, cg
from sklearn.exceptions import ConvergenceWarning

from ._input import TaskBlocks
from ._regressor import KernelCoupledRegressor
from ._sparse_input import is_sparse

__all__ = ["HEADS_TOL", "SubspaceSolution", "alternating_minimisation"]

# Relative residual ||rhs - H vec(U)|| / ||rhs|| at which the CG of the U step stops. CG from the current U
# never increases the (quadratic) objective of the U step, so this only sets how exact each U step is.
CG_RTOL = 1e-10
# The heads step's iterative solver (used by 'auto' only when r * T is large) stops at this relative KKT residual.
HEADS_TOL = 1e-10
# Per-task Gram matrices (T, d, d) replace passes over the data in the U step's products when they are no larger
# than the data (T d <= N) and take at most this many float64 entries.
MAX_GRAM_ENTRIES = 2**25


def _as_float64(block: Any) -> Any:
    """The block in float64 (the U step's conjugate gradient works in float64)."""
    return block if block.dtype == np.float64 else block.astype(np.float64)


def _column_means(X: Any) -> np.ndarray:
    return np.asarray(X.mean(axis=0)).ravel()


def _centred_gram(X: Any, mean: np.ndarray) -> np.ndarray:
    """X~^T X~ with X~ = X - 1 mean^T, without densifying a sparse X."""
    if is_sparse(X):
        return np.asarray((X.T @ X).toarray()) - X.shape[0] * np.outer(mean, mean)
    centred = X - mean
    return centred.T @ centred


def _centred_squared_norms(X: Any, mean: np.ndarray) -> np.ndarray:
    """||X~[:, j]||^2 for every column j (the diagonal of X~^T X~)."""
    if is_sparse(X):
        squares = np.asarray(X.multiply(X).sum(axis=0)).ravel() - X.shape[0] * mean**2
        return np.maximum(squares, 0.0)
    return np.einsum("ij,ij->j", X - mean, X - mean)


class _SeparateDesigns:
    r"""Statistics of the U step for per-task designs X_t (lists and long format).

    With A fixed, F restricted to (U, b) is minimised by the intercepts
    :math:`b_t = \bar y_t - \langle U a_t, \bar x_t \rangle` and by the U solving the normal equations

    .. math::

        \sum_t s_t \tilde X_t^\top \tilde X_t U a_t a_t^\top + \alpha_U U
        = \sum_t s_t \tilde X_t^\top \tilde y_t a_t^\top

    (X~, y~ centred per task when intercepts are fitted, s_t = omega_t / N). The left side is applied through
    per-task Gram matrices G_t = s_t X~_t^T X~_t when they are smaller than the data, otherwise through the data.
    """

    def __init__(self, X: list, y: list, sample_weight: np.ndarray, fit_intercept: bool) -> None:
        self.X = [_as_float64(block) for block in X]
        self.y = [np.asarray(target, dtype=np.float64) for target in y]
        self.s = sample_weight
        n_features, n_total = self.X[0].shape[1], sum(block.shape[0] for block in self.X)
        self.x_mean = np.array([_column_means(block) if fit_intercept else np.zeros(n_features) for block in self.X])
        self.y_mean = np.array([target.mean() if fit_intercept else 0.0 for target in self.y])
        n_tasks = len(self.X)
        # C[:, t] = s_t X~_t^T y~_t  (d, T); X^T y~ = X~^T y~ because y~ sums to zero.
        self.cross = np.column_stack(
            [
                s * np.asarray(block.T @ (target - mean)).ravel()
                for s, block, target, mean in zip(self.s, self.X, self.y, self.y_mean)
            ]
        )
        self.grams = None
        if n_tasks * n_features <= n_total and n_tasks * n_features**2 <= MAX_GRAM_ENTRIES:
            self.grams = np.stack(
                [s * _centred_gram(block, mean) for s, block, mean in zip(self.s, self.X, self.x_mean)]
            )
            self.diagonal_stats = np.einsum("tjj->jt", self.grams)
        else:
            self.diagonal_stats = np.column_stack(
                [s * _centred_squared_norms(block, mean) for s, block, mean in zip(self.s, self.X, self.x_mean)]
            )

    def apply(self, U: np.ndarray, A: np.ndarray) -> np.ndarray:
        """sum_t s_t X~_t^T X~_t U a_t a_t^T, shape (d, r), for U (d, r) and A (r, T)."""
        V = U @ A  # (d, T): column t is w_t = U a_t
        if self.grams is not None:
            products = np.matmul(self.grams, V.T[:, :, None])[:, :, 0].T  # (d, T): G_t w_t
        else:
            products = np.empty_like(V)
            for t, (block, mean) in enumerate(zip(self.X, self.x_mean)):
                # X~ v = X v - (mean . v) 1, and X~^T p = X^T p for p = X~ v (it sums to zero).
                centred = np.asarray(block @ V[:, t]).ravel() - mean @ V[:, t]
                products[:, t] = self.s[t] * np.asarray(block.T @ centred).ravel()
        return products @ A.T

    def project(self, U: np.ndarray) -> list[np.ndarray]:
        """The shared representation Z_t = X_t U of every task."""
        return [np.ascontiguousarray(block @ U) for block in self.X]

    def data_fit(self, Z: list, A: np.ndarray, intercept: np.ndarray) -> float:
        """(1/N) sum_t omega_t sum_i (1/2) (y_ti - <z_ti, a_t> - b_t)^2."""
        return float(
            sum(
                s * 0.5 * np.sum((y - Z_t @ a - b) ** 2)
                for s, y, Z_t, a, b in zip(self.s, self.y, Z, A.T, intercept)
            )
        )

    def fit_heads(self, heads: KernelCoupledRegressor, Z: list) -> KernelCoupledRegressor:
        return heads.fit(Z, self.y)


class _SharedDesign:
    """Statistics of the U step for one design X shared by every task (multi-output form).

    X~ is the same for every task, so the left side of the normal equations is X~^T X~ U (A S A^T), S = diag(s).
    """

    def __init__(self, X: Any, Y: np.ndarray, sample_weight: np.ndarray, fit_intercept: bool, single: bool) -> None:
        self.X = _as_float64(X)
        self.Y = np.asarray(Y, dtype=np.float64)  # (n, T)
        self.s = sample_weight
        self.single = single
        n_samples, n_features = self.X.shape
        self.x_mean = _column_means(self.X) if fit_intercept else np.zeros(n_features)
        self.y_mean = self.Y.mean(axis=0) if fit_intercept else np.zeros(self.Y.shape[1])
        self.cross = np.asarray(self.X.T @ (self.Y - self.y_mean)) * self.s  # (d, T)
        self.gram = _centred_gram(self.X, self.x_mean) if n_features <= n_samples else None
        self.diagonal_stats = np.outer(_centred_squared_norms(self.X, self.x_mean), self.s)  # (d, T)

    def apply(self, U: np.ndarray, A: np.ndarray) -> np.ndarray:
        UM = U @ ((A * self.s) @ A.T)  # U (A S A^T), (d, r)
        if self.gram is not None:
            return self.gram @ UM
        centred = np.asarray(self.X @ UM) - self.x_mean @ UM
        return np.asarray(self.X.T @ centred)

    def project(self, U: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(self.X @ U)

    def data_fit(self, Z: np.ndarray, A: np.ndarray, intercept: np.ndarray) -> float:
        residuals = self.Y - Z @ A - intercept
        return float(0.5 * np.sum(self.s * np.sum(residuals**2, axis=0)))

    def fit_heads(self, heads: KernelCoupledRegressor, Z: np.ndarray) -> KernelCoupledRegressor:
        return heads.fit(Z, self.Y[:, 0] if self.single else self.Y)


def initial_components(
    blocks: TaskBlocks, n_components: int, alpha: float, alpha_u: float, task_weights: Any, fit_intercept: bool
) -> np.ndarray:
    """U_0 = (alpha / alpha_U)^(1/4) P_r Sigma_r^(1/2) from the SVD of the independent ridge solutions."""
    ridge = KernelCoupledRegressor(
        coupling="identity", alpha=alpha, task_weights=task_weights, fit_intercept=fit_intercept
    )
    with warnings.catch_warnings():
        # Only a starting point: an inexact ridge solution does no harm.
        warnings.simplefilter("ignore", ConvergenceWarning)
        if blocks.form in ("shared", "single"):
            ridge.fit(blocks.X[0], blocks.y[0] if blocks.form == "single" else np.column_stack(blocks.y))
        else:
            ridge.fit(blocks.X, blocks.y)
    left, singular_values, _ = np.linalg.svd(ridge.coef_.T, full_matrices=True)  # W_0 = ridge.coef_^T (d, T)
    r = n_components
    scales = np.zeros(r)
    rank = min(r, singular_values.size)
    scales[:rank] = np.sqrt(singular_values[:rank])
    return (alpha / alpha_u) ** 0.25 * left[:, :r] * scales


def heads_step(
    problem: _SeparateDesigns | _SharedDesign,
    heads: KernelCoupledRegressor,
    U: np.ndarray,
    coupling: np.ndarray,
    alpha: float,
    alpha_u: float,
) -> tuple[np.ndarray, np.ndarray, float]:
    """argmin_(A, b) F(U, A, b): the kernel-coupled regressor on z = U^T x; returns (A, b, F)."""
    Z = problem.project(U)
    problem.fit_heads(heads, Z)
    A, intercept = heads.coef_.T.copy(), heads.intercept_.copy()
    objective = (
        problem.data_fit(Z, A, intercept)
        + 0.5 * alpha * float(np.sum((A @ coupling) * A))
        + 0.5 * alpha_u * float(np.sum(U**2))
    )
    return A, intercept, objective


def components_step(
    problem: _SeparateDesigns | _SharedDesign, U: np.ndarray, A: np.ndarray, alpha_u: float
) -> tuple[np.ndarray, int]:
    """argmin_U F(U, A, .) by preconditioned CG on vec(U), from the current U; returns (U, CG iterations)."""
    n_features, r = U.shape
    size = n_features * r

    def matvec(u: np.ndarray) -> np.ndarray:
        U_vec = u.reshape(n_features, r)
        return (problem.apply(U_vec, A) + alpha_u * U_vec).ravel()

    # Jacobi preconditioner: diag of sum_t s_t X~_t^T X~_t (x) a_t a_t^T + alpha_U I.
    inverse_diagonal = 1.0 / (problem.diagonal_stats @ (A**2).T + alpha_u).ravel()
    operator = LinearOperator((size, size), matvec=matvec, dtype=np.float64)
    preconditioner = LinearOperator((size, size), matvec=lambda v: inverse_diagonal * v.ravel(), dtype=np.float64)
    rhs = (problem.cross @ A.T).ravel()
    count = [0]

    def callback(_: np.ndarray) -> None:
        count[0] += 1

    solution, _ = cg(
        operator, rhs, x0=U.ravel(), rtol=CG_RTOL, atol=0.0, maxiter=10 * size, M=preconditioner,
        callback=callback,
    )
    return solution.reshape(n_features, r), count[0]


def problem_statistics(
    blocks: TaskBlocks, sample_weight: np.ndarray, fit_intercept: bool
) -> _SeparateDesigns | _SharedDesign:
    """The U step's statistics for the input form of ``blocks``."""
    if blocks.form in ("shared", "single"):
        Y = np.column_stack(blocks.y)
        return _SharedDesign(blocks.X[0], Y, sample_weight, fit_intercept, blocks.form == "single")
    return _SeparateDesigns(blocks.X, blocks.y, sample_weight, fit_intercept)


@dataclass(frozen=True)
class SubspaceSolution:
    """What :func:`alternating_minimisation` returns.

    Attributes
    ----------
    components : ndarray of shape (d, r)
        U.
    heads : ndarray of shape (r, T)
        A.
    intercept : ndarray of shape (T,)
        b.
    history : list of float
        F at the initial point, then after every outer iteration.
    converged : bool
        Whether the relative decrease of F reached ``tol``.
    decrease : float
        The relative decrease of F over the last outer iteration.
    inexact_heads : int
        Heads steps whose iterative solver stopped before :data:`HEADS_TOL`.
    """

    components: np.ndarray
    heads: np.ndarray
    intercept: np.ndarray
    history: list[float]
    converged: bool
    decrease: float
    inexact_heads: int


def alternating_minimisation(
    blocks: TaskBlocks,
    sample_weight: np.ndarray,
    coupling: np.ndarray,
    *,
    n_components: int,
    alpha: float,
    alpha_u: float,
    task_weights: Any,
    fit_intercept: bool,
    tol: float,
    max_iter: int,
    verbose: int = 0,
    name: str = "SharedSubspaceRegressor",
) -> SubspaceSolution:
    """Minimise F(U, A, b) alternately over U and (A, b) from the ridge initialisation.

    Parameters
    ----------
    blocks : TaskBlocks
        The validated training data.
    sample_weight : ndarray of shape (T,)
        s_t = omega_t / N.
    coupling : ndarray of shape (T, T)
        K, positive definite.
    n_components : int
        r.
    alpha, alpha_u : float
        The penalties on the heads and on U.
    task_weights : {"uniform", "balanced"} or array-like of shape (T,)
        For the inner regressors.
    fit_intercept : bool
        Fit unpenalised intercepts.
    tol : float
        Stop when the relative decrease of F over an outer iteration is at most ``tol``.
    max_iter : int
        Maximum number of outer iterations, >= 1.
    verbose : int, default=0
        Print one line per outer iteration when positive.
    name : str, default="SharedSubspaceRegressor"
        Prefix of those lines.

    Returns
    -------
    solution : SubspaceSolution
        The factors, the intercepts and how the iterations ended.
    """
    problem = problem_statistics(blocks, sample_weight, fit_intercept)
    U = initial_components(blocks, n_components, alpha, alpha_u, task_weights, fit_intercept)
    heads = KernelCoupledRegressor(
        coupling=coupling, alpha=alpha, task_weights=task_weights, fit_intercept=fit_intercept,
        solver="auto", tol=HEADS_TOL, max_iter=1000, warm_start=True,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        A, intercept, objective = heads_step(problem, heads, U, coupling, alpha, alpha_u)
        history = [objective]
        converged = False
        for iteration in range(1, max_iter + 1):
            U, cg_iterations = components_step(problem, U, A, alpha_u)
            A, intercept, objective = heads_step(problem, heads, U, coupling, alpha, alpha_u)
            history.append(objective)
            decrease = (history[-2] - objective) / history[-2] if history[-2] > 0 else 0.0
            if verbose:
                print(
                    f"[{name}] iteration {iteration}: objective {objective:.10e}, "
                    f"relative decrease {decrease:.2e}, CG iterations {cg_iterations}"
                )
            if decrease <= tol:
                converged = True
                break
    inexact_heads = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    for other in caught:  # anything else the inner fits warned about goes on to the caller
        if not issubclass(other.category, ConvergenceWarning):
            warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
    return SubspaceSolution(U, A, intercept, history, converged, decrease, inexact_heads)
