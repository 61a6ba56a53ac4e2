"""Coupling matrices K: the T x T positive semidefinite "kernel over tasks".

The coupling enters the objective as ``(alpha/2) sum_{s,t} K_st <w_s, w_t> =
(alpha/2) tr(W K W^T)`` with ``W = [w_1 ... w_T]``. Every builder returns a
float64 (T, T) array.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg

__all__ = [
    "identity",
    "mean_regularized",
    "graph_laplacian",
    "chain",
    "from_task_kernel",
    "task_kernel",
    "validate_coupling",
    "resolve_coupling",
]


def _check_n_tasks(n_tasks: Any) -> int:
    if isinstance(n_tasks, bool) or not isinstance(n_tasks, (int, np.integer)) or n_tasks < 1:
        raise ValueError(f"n_tasks must be a positive integer, got {n_tasks!r}")
    return int(n_tasks)


def _check_nonnegative(value: Any, name: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a non-negative number, got {value!r}") from None
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be finite and non-negative, got {value!r}")
    return value


def _real_square_matrix(matrix: Any, name: str) -> np.ndarray:
    """A finite real 2-D square float64 array; ValueError naming ``name`` otherwise."""
    array = np.asarray(matrix)
    if array.dtype.kind == "c":
        raise ValueError(f"{name} is complex; it must be real")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}")
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise ValueError(f"{name} must be a square 2-D matrix, got shape {array.shape}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinity")
    return array


def _check_symmetric(array: np.ndarray, name: str, tol: float) -> None:
    scale = max(np.abs(array).max(), np.finfo(np.float64).tiny)
    asymmetry = np.abs(array - array.T).max()
    if asymmetry > tol * scale:
        raise ValueError(f"{name} must be symmetric; its largest asymmetry |K_ij - K_ji| is {asymmetry:.3g}")


def identity(n_tasks: int) -> np.ndarray:
    """K = I: independent ridge regression for every task.

    Parameters
    ----------
    n_tasks : int
        Number of tasks T.

    Returns
    -------
    ndarray of shape (T, T)
    """
    return np.eye(_check_n_tasks(n_tasks))


def mean_regularized(n_tasks: int, mu: float = 0.1) -> np.ndarray:
    """K = I - 11^T/T + mu I: mean-regularised multi-task learning.

    ``tr(W K W^T) = sum_t ||w_t - wbar||^2 + mu sum_t ||w_t||^2`` with ``wbar``
    the mean task model (Evgeniou & Pontil, KDD 2004): tasks are pulled towards
    their mean, and ``mu`` shrinks the mean itself.

    Parameters
    ----------
    n_tasks : int
        Number of tasks T.
    mu : float, default=0.1
        Ridge on every task model, >= 0 (``mu > 0`` makes K positive definite).

    Returns
    -------
    ndarray of shape (T, T)
    """
    n_tasks = _check_n_tasks(n_tasks)
    mu = _check_nonnegative(mu, "mu")
    return (1.0 + mu) * np.eye(n_tasks) - np.full((n_tasks, n_tasks), 1.0 / n_tasks)


def graph_laplacian(adjacency: Any, ridge: float = 0.1) -> np.ndarray:
    """K = L + ridge I with L = D - A the Laplacian of a weighted task graph.

    ``tr(W L W^T) = sum_{s<t} a_st ||w_s - w_t||^2``: tasks joined by an edge are
    pulled together. This is MALSAR's SRMTL and RMTL's "Graph" penalty
    ``||W R||_F^2`` with R the (weighted) incidence matrix, since ``R R^T = L``;
    with the ``alpha/2`` convention here, their penalty ``rho ||W R||_F^2``
    corresponds to ``K = L`` and ``alpha = 2 rho``. The diagonal of the
    adjacency (self-loops) is ignored.

    Parameters
    ----------
    adjacency : array-like of shape (T, T)
        Symmetric non-negative edge weights.
    ridge : float, default=0.1
        Added to the diagonal, >= 0 (> 0 makes K positive definite).

    Returns
    -------
    ndarray of shape (T, T)
    """
    A = _real_square_matrix(adjacency, "adjacency")
    _check_symmetric(A, "adjacency", 1e-12)
    ridge = _check_nonnegative(ridge, "ridge")
    A = A.copy()
    np.fill_diagonal(A, 0.0)
    if np.any(A < 0):
        raise ValueError("adjacency must have non-negative weights")
    A = (A + A.T) / 2
    return np.diag(A.sum(axis=1)) - A + ridge * np.eye(A.shape[0])


def chain(n_tasks: int, ridge: float = 0.1) -> np.ndarray:
    """K = L + ridge I for the path graph 0 - 1 - ... - (T-1) with unit weights.

    Neighbouring tasks (e.g. consecutive time periods) are pulled together:
    ``tr(W L W^T) = sum_t ||w_{t+1} - w_t||^2``.

    Parameters
    ----------
    n_tasks : int
        Number of tasks T.
    ridge : float, default=0.1
        Added to the diagonal, >= 0.

    Returns
    -------
    ndarray of shape (T, T)
    """
    n_tasks = _check_n_tasks(n_tasks)
    adjacency = np.eye(n_tasks, k=1) + np.eye(n_tasks, k=-1)
    return graph_laplacian(adjacency, ridge=ridge)


def from_task_kernel(B: Any) -> np.ndarray:
    """K = B^{-1} for a symmetric positive definite kernel B between tasks.

    In the multi-task kernel view, the coupled linear model is kernel ridge
    regression with k((x, s), (x', t)) = B_st <x, x'> (Evgeniou, Micchelli &
    Pontil, JMLR 2005): similar tasks (large B_st) get similar models.

    Parameters
    ----------
    B : array-like of shape (T, T)
        Symmetric positive definite task kernel.

    Returns
    -------
    ndarray of shape (T, T)

    Raises
    ------
    ValueError
        If B is not square, finite, symmetric or positive definite.
    """
    B = _real_square_matrix(B, "B")
    _check_symmetric(B, "B", 1e-10)
    B = (B + B.T) / 2
    try:
        factor = scipy.linalg.cho_factor(B, lower=True)
    except np.linalg.LinAlgError:
        smallest = np.linalg.eigvalsh(B)[0]
        raise ValueError(f"B must be positive definite; its smallest eigenvalue is {smallest:.3g}") from None
    K = scipy.linalg.cho_solve(factor, np.eye(B.shape[0]))
    return (K + K.T) / 2


def task_kernel(
    task_features: Any,
    kernel: str = "rbf",
    gamma: float | None = None,
    degree: int = 3,
    coef0: float = 1.0,
) -> np.ndarray:
    """A kernel B between tasks from descriptors of the tasks.

    Parameters
    ----------
    task_features : array-like of shape (T, p)
        One row of descriptors per task (e.g. a school's size and type).
    kernel : {"rbf", "linear", "polynomial"}, default="rbf"
        ``exp(-gamma ||a - b||^2)``, ``<a, b>`` or ``(gamma <a, b> + coef0)^degree``.
    gamma : float, default=None
        Positive scale; ``1 / p`` when None.
    degree : int, default=3
        Degree of the polynomial kernel, >= 1.
    coef0 : float, default=1.0
        Constant of the polynomial kernel, >= 0.

    Returns
    -------
    ndarray of shape (T, T)
        Symmetric positive semidefinite; pass it to :func:`from_task_kernel`
        (after adding a small ridge if it is singular) to get a coupling.
    """
    F = np.asarray(task_features)
    if F.dtype.kind not in "biuf":
        raise ValueError(f"task_features must be numeric, got dtype {F.dtype}")
    if F.ndim != 2 or F.shape[0] == 0 or F.shape[1] == 0:
        raise ValueError(f"task_features must be a non-empty 2-D array (n_tasks, n_descriptors), got shape {F.shape}")
    F = F.astype(np.float64)
    if not np.all(np.isfinite(F)):
        raise ValueError("task_features contains NaN or infinity")
    if gamma is None:
        gamma = 1.0 / F.shape[1]
    elif not (np.isfinite(gamma) and gamma > 0):
        raise ValueError(f"gamma must be positive, got {gamma!r}")
    if kernel == "rbf":
        squared_norms = np.sum(F**2, axis=1)
        distances = np.maximum(squared_norms[:, None] + squared_norms[None, :] - 2 * F @ F.T, 0.0)
        B = np.exp(-gamma * distances)
    elif kernel == "linear":
        B = F @ F.T
    elif kernel == "polynomial":
        if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 1:
            raise ValueError(f"degree must be a positive integer, got {degree!r}")
        coef0 = _check_nonnegative(coef0, "coef0")
        B = (gamma * (F @ F.T) + coef0) ** degree
    else:
        raise ValueError(f"kernel must be 'rbf', 'linear' or 'polynomial', got {kernel!r}")
    return (B + B.T) / 2


def validate_coupling(K: Any, n_tasks: int | None = None, *, name: str = "coupling", tol: float = 1e-10) -> np.ndarray:
    """Check a coupling matrix and return it as a symmetric float64 C-contiguous array.

    Parameters
    ----------
    K : array-like of shape (T, T)
    n_tasks : int, default=None
        Number of tasks in the data; checked against K's size when given.
    name : str, default="coupling"
        Argument name used in error messages.
    tol : float, default=1e-10
        Relative tolerance for symmetry and positive semidefiniteness.

    Returns
    -------
    ndarray of shape (T, T)

    Raises
    ------
    ValueError
        If K is not a finite real square matrix, does not match ``n_tasks``, is
        not symmetric, or has a negative eigenvalue beyond round-off.
    """
    array = _real_square_matrix(K, name)
    if n_tasks is not None and array.shape[0] != n_tasks:
        raise ValueError(f"{name} has shape {array.shape} but the data has {n_tasks} tasks")
    _check_symmetric(array, name, tol)
    array = np.ascontiguousarray((array + array.T) / 2)
    # Positive definite (the common case) is settled by a cheap Cholesky factorisation.
    try:
        np.linalg.cholesky(array)
        return array
    except np.linalg.LinAlgError:
        pass
    eigenvalues = np.linalg.eigvalsh(array)
    if eigenvalues[0] < -tol * max(1.0, np.abs(eigenvalues).max()):
        raise ValueError(
            f"{name} must be positive semidefinite; its smallest eigenvalue is {eigenvalues[0]:.3g}"
        )
    return array


_BUILDERS = {"identity": identity, "mean_regularized": mean_regularized, "chain": chain}


def resolve_coupling(coupling: Any, n_tasks: int) -> np.ndarray:
    """The coupling matrix for an estimator's ``coupling`` parameter.

    Parameters
    ----------
    coupling : {"identity", "mean_regularized", "chain"} or array-like of shape (T, T)
        A builder name (applied with its default parameters) or a matrix.
    n_tasks : int
        Number of tasks in the data.

    Returns
    -------
    ndarray of shape (T, T)
    """
    if isinstance(coupling, str):
        if coupling not in _BUILDERS:
            raise ValueError(f"coupling must be one of {sorted(_BUILDERS)} or a matrix, got {coupling!r}")
        return _BUILDERS[coupling](n_tasks)
    return validate_coupling(coupling, n_tasks)
