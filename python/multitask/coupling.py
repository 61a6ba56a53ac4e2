r"""Coupling matrices K: the T x T positive semidefinite "kernel over tasks".

The coupling enters the multi-task objective as the penalty

.. math::

    \frac{\alpha}{2} \sum_{s,t} K_{st} \langle w_s, w_t \rangle
    = \frac{\alpha}{2} \operatorname{tr}(W K W^\top),
    \qquad W = [w_1, \dots, w_T] \in \mathbb{R}^{d \times T}.

Every builder here returns a float64, C-contiguous, exactly symmetric (T, T)
array that can be passed as the ``coupling`` of an estimator:

* :func:`identity` -- independent ridge regression per task;
* :func:`mean_regularized` -- tasks pulled towards their mean (Evgeniou & Pontil 2004);
* :func:`graph_laplacian`, :func:`chain` -- tasks pulled towards their neighbours
  in a task graph (MALSAR's ``Least_SRMTL``, RMTL's ``Regularization="Graph"``;
  :func:`graph_laplacian` gives their parameters in this package's scale);
* :func:`from_task_kernel`, :func:`task_kernel` -- the multi-task kernel view,
  K = B^{-1} for a similarity kernel B between tasks.

:func:`validate_coupling` checks a user-supplied matrix and
:func:`resolve_coupling` turns an estimator's ``coupling`` parameter into K.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike, NDArray
from scipy.spatial.distance import cdist
from sklearn.utils._param_validation import StrOptions, validate_params

from ._validation import NON_NEGATIVE_REAL, POSITIVE_INT, POSITIVE_REAL

__all__ = [
    "identity",
    "mean_regularized",
    "graph_laplacian",
    "chain",
    "from_task_kernel",
    "task_kernel",
    "validate_coupling",
    "resolve_coupling",
    "BUILDER_NAMES",
]

KERNELS = ("rbf", "linear", "polynomial")


# --------------------------------------------------------------------------------------------
# Argument checks shared by the builders
# --------------------------------------------------------------------------------------------


def _as_real_array(value: Any, name: str) -> NDArray[np.float64]:
    """``value`` as a finite real float64 array; ValueError naming ``name`` for other dtypes or NaN/inf."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:  # e.g. ragged nested lists
        raise ValueError(f"{name} must be a numeric array: {error}") from None
    if array.dtype.kind == "c":
        raise ValueError(f"{name} must be real, got complex dtype {array.dtype}")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a real numeric array, got dtype {array.dtype}")
    array = array.astype(np.float64)  # always a copy: callers may modify it
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return array


def _as_square_matrix(value: Any, name: str) -> NDArray[np.float64]:
    """``value`` as a finite real non-empty square float64 matrix; ValueError naming ``name``."""
    array = _as_real_array(value, name)
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise ValueError(f"{name} must be a square 2-D matrix, got shape {array.shape}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    return array


def _check_symmetric(matrix: NDArray[np.float64], name: str, tol: float) -> None:
    """Reject ``matrix`` when max_ij |M_ij - M_ji| > tol * max_ij |M_ij|."""
    with np.errstate(over="ignore"):  # a difference beyond the float range is an (infinite) asymmetry
        asymmetry = float(np.max(np.abs(matrix - matrix.T)))
    scale = float(np.max(np.abs(matrix)))
    if asymmetry > tol * scale:
        raise ValueError(
            f"{name} must be symmetric; its largest asymmetry max |{name}_ij - {name}_ji| is "
            f"{asymmetry:.6g} (relative to max |{name}_ij| = {scale:.6g}, tolerance {tol:g})"
        )


def _check_positive_definite(matrix: NDArray[np.float64], name: str, purpose: str = "") -> None:
    """Reject a symmetric ``matrix`` that is not numerically positive definite.

    Positive definite here means ``lambda_min > T * eps * max_i |lambda_i|``: below
    that, Cholesky may still succeed on round-off, but the inverse is dominated
    by it. ``purpose`` (e.g. " to be inverted") is appended to "must be positive definite".
    """
    eigenvalues = np.linalg.eigvalsh(matrix)
    largest = float(np.abs(eigenvalues).max())
    threshold = matrix.shape[0] * np.finfo(np.float64).eps * largest
    if not eigenvalues[0] > threshold:
        raise ValueError(
            f"{name} must be positive definite{purpose}; its smallest eigenvalue is {eigenvalues[0]:.6g} "
            f"(largest {eigenvalues[-1]:.6g})"
        )


def _symmetrised(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """(M + M^T) / 2 as a C-contiguous array: symmetric to the last bit."""
    # Halving first is exact and cannot overflow for entries near the float range.
    return np.ascontiguousarray(0.5 * matrix + 0.5 * matrix.T)


# --------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------


@validate_params({"n_tasks": [POSITIVE_INT]}, prefer_skip_nested_validation=True)
def identity(n_tasks: int) -> NDArray[np.float64]:
    """Coupling K = I: independent ridge regression for every task.

    With K = I the penalty is ``(alpha/2) tr(W W^T) = (alpha/2) sum_t ||w_t||^2``,
    which does not couple the tasks at all: each task is an ordinary ridge
    regression. It is the baseline that any coupling should beat.

    Parameters
    ----------
    n_tasks : int
        Number of tasks T, >= 1.

    Returns
    -------
    K : ndarray of shape (T, T), dtype float64
        The identity matrix.

    Raises
    ------
    ValueError
        If ``n_tasks`` is not a positive integer.
    """
    return np.eye(int(n_tasks), dtype=np.float64)


@validate_params({"n_tasks": [POSITIVE_INT], "mu": [NON_NEGATIVE_REAL]}, prefer_skip_nested_validation=True)
def mean_regularized(n_tasks: int, mu: float = 0.1) -> NDArray[np.float64]:
    r"""Coupling of mean-regularised multi-task learning, K = I - 11^T/T + mu I.

    With the mean model ``wbar = (1/T) sum_t w_t`` (Evgeniou & Pontil, KDD 2004),

    .. math::

        \operatorname{tr}(W K W^\top)
        = \sum_t \|w_t - \bar w\|^2 + \mu \sum_t \|w_t\|^2,

    because ``I - 11^T/T`` is the projection that removes the mean of the
    tasks. Task models are pulled towards their mean; ``mu`` is a ridge on every
    model (``mu > 0`` makes K positive definite: its eigenvalues are ``mu``,
    along the all-ones direction, and ``1 + mu``, with multiplicity T - 1).

    Parameters
    ----------
    n_tasks : int
        Number of tasks T, >= 1. For T = 1 there is no mean to pull towards and
        K = [[mu]].
    mu : float, default=0.1
        Ridge on every task model, finite and >= 0.

    Returns
    -------
    K : ndarray of shape (T, T), dtype float64
        The coupling ``I - 11^T/T + mu I``, exactly symmetric.

    Raises
    ------
    ValueError
        If ``n_tasks`` is not a positive integer or ``mu`` is negative or not finite.
    """
    n_tasks, mu = int(n_tasks), float(mu)
    # Centring projection P = I - 11^T/T, then the ridge mu I on its diagonal.
    centring = np.eye(n_tasks) - np.full((n_tasks, n_tasks), 1.0 / n_tasks)
    return _symmetrised(centring + mu * np.eye(n_tasks))


@validate_params({"adjacency": ["array-like"], "ridge": [NON_NEGATIVE_REAL]}, prefer_skip_nested_validation=True)
def graph_laplacian(adjacency: ArrayLike, ridge: float = 0.1) -> NDArray[np.float64]:
    r"""Coupling of graph-regularised multi-task learning, K = L + ridge I with L = D - A.

    For a weighted, undirected task graph with symmetric non-negative
    adjacency ``A`` and degree matrix ``D = diag(sum_t A_st)``, the Laplacian
    ``L = D - A`` satisfies

    .. math::

        \operatorname{tr}(W L W^\top) = \sum_{s<t} A_{st} \|w_s - w_t\|^2,

    so tasks joined by a heavy edge are pulled together, and
    ``tr(W K W^T) = sum_{s<t} A_st ||w_s - w_t||^2 + ridge sum_t ||w_t||^2``.

    **Correspondence with MALSAR and RMTL.** Both describe the graph by a
    T x E matrix R (MALSAR's ``R``, RMTL's ``G``) whose column e holds
    ``+sqrt(A_st)`` in row s and ``-sqrt(A_st)`` in row t for the edge
    e = (s, t). Then ``R R^T = L`` and
    ``||W R||_F^2 = tr(W R R^T W^T) = tr(W L W^T)``. Their data terms are sums
    over the samples (MALSAR) or over the tasks of per-task means (RMTL), not
    this package's mean over all N samples, so the parameters map with a
    factor N or T (n_t: samples of task t; both checked by fitting the
    package against numpy minimisers of their objectives, in
    ``tests/test_peer_mappings.py``):

    * MALSAR's ``Least_SRMTL(X, Y, R, rho1, rho2)`` with ``opts.rho_L2``
      minimises, without intercepts,
      ``sum_t 1/2 ||X_t w_t - y_t||^2 + rho1 ||W R||_F^2 + rho_L2 ||W||_F^2
      + rho2 ||W||_1``. That is N times the objective of
      ``KernelCoupledRegressor(coupling=graph_laplacian(A, ridge=rho_L2 / rho1),
      alpha=2 * rho1 / N, l1=rho2 / N, fit_intercept=False)`` with uniform task
      weights (for any other R, e.g. MALSAR's mean-regularised
      ``R = I - 11^T/T``, the coupling is ``R R^T + (rho_L2 / rho1) I``).
    * RMTL's ``MTL(X, Y, type="Regression", Regularization="Graph",
      Lam1=lam1, Lam2=lam2, G=R)`` minimises
      ``sum_t 1/(2 n_t) ||y_t - X_t w_t - c_t||^2 + lam1 ||W G||_F^2
      + lam2 ||W||_F^2`` with unpenalised intercepts c_t. That is T times the
      objective of ``KernelCoupledRegressor(coupling=graph_laplacian(A,
      ridge=lam2 / lam1), alpha=2 * lam1 / T, task_weights="balanced")``.

    The diagonal of ``adjacency`` (self-loops) is **ignored**: a self-loop
    ``||w_t - w_t||^2`` contributes nothing to the penalty, so any diagonal
    values are accepted and discarded.

    Parameters
    ----------
    adjacency : array-like of shape (T, T)
        Symmetric edge weights, finite and non-negative off the diagonal
        (0 = no edge). The diagonal is ignored.
    ridge : float, default=0.1
        Added to the diagonal, finite and >= 0. ``ridge > 0`` makes K positive
        definite; with ``ridge = 0``, K is singular (constant across every
        connected component of the graph).

    Returns
    -------
    K : ndarray of shape (T, T), dtype float64
        The coupling ``L + ridge I``, exactly symmetric.

    Raises
    ------
    ValueError
        If ``adjacency`` is not a finite real square matrix, is not symmetric,
        or has a negative off-diagonal weight, or if ``ridge`` is negative or
        not finite.
    """
    weights = _as_square_matrix(adjacency, "adjacency")
    ridge = float(ridge)
    np.fill_diagonal(weights, 0.0)  # self-loops carry no penalty: ignore them
    _check_symmetric(weights, "adjacency", 1e-12)
    smallest = float(weights.min())
    if smallest < 0:
        raise ValueError(
            f"adjacency must have non-negative weights; its smallest off-diagonal entry is {smallest:.6g}"
        )
    weights = _symmetrised(weights)
    # L = D - A, with D the diagonal matrix of weighted degrees.
    laplacian = np.diag(weights.sum(axis=1)) - weights
    return _symmetrised(laplacian + ridge * np.eye(weights.shape[0]))


@validate_params({"n_tasks": [POSITIVE_INT], "ridge": [NON_NEGATIVE_REAL]}, prefer_skip_nested_validation=True)
def chain(n_tasks: int, ridge: float = 0.1) -> NDArray[np.float64]:
    """Coupling of a chain of tasks: the Laplacian of the path 0 - 1 - ... - (T-1) plus ridge I.

    ``tr(W K W^T) = sum_{t=0}^{T-2} ||w_{t+1} - w_t||^2 + ridge sum_t ||w_t||^2``:
    neighbouring tasks (consecutive time periods, adjacent dose levels, ...)
    are pulled together. This is :func:`graph_laplacian` of the path graph with
    unit weights, i.e. the tridiagonal matrix with diagonal
    ``(1, 2, ..., 2, 1) + ridge`` and off-diagonals -1.

    Parameters
    ----------
    n_tasks : int
        Number of tasks T, >= 1. For T = 1 there are no edges and K = [[ridge]].
    ridge : float, default=0.1
        Added to the diagonal, finite and >= 0.

    Returns
    -------
    K : ndarray of shape (T, T), dtype float64
        The tridiagonal coupling, exactly symmetric.

    Raises
    ------
    ValueError
        If ``n_tasks`` is not a positive integer or ``ridge`` is negative or not finite.
    """
    n_tasks = int(n_tasks)
    path = np.eye(n_tasks, k=1) + np.eye(n_tasks, k=-1)  # A_{t,t+1} = A_{t+1,t} = 1
    return graph_laplacian(path, ridge=ridge)


@validate_params({"B": ["array-like"], "name": [str]}, prefer_skip_nested_validation=True)
def from_task_kernel(B: ArrayLike, *, name: str = "B") -> NDArray[np.float64]:
    """Coupling K = B^{-1} for a symmetric positive definite kernel B between tasks.

    In the multi-task kernel view (Evgeniou, Micchelli & Pontil, JMLR 2005),
    the kernel-coupled linear model with a positive definite K is kernel ridge
    regression with the kernel ``k((x, s), (x', t)) = B_st <x, x'>``,
    ``B = K^{-1}``: tasks with a large similarity ``B_st`` get similar models.
    Equivalently, the penalty is the negative log-density of the matrix-normal
    prior in which every row of W is drawn from N(0, B).

    The inverse is computed from the Cholesky factorisation ``B = L L^T`` and
    symmetrised, ``K = (B^{-1} + B^{-T}) / 2``.

    Parameters
    ----------
    B : array-like of shape (T, T)
        Symmetric positive definite task kernel (e.g. from :func:`task_kernel`,
        plus a small ridge if that kernel is singular).
    name : str, default="B"
        Name of the argument in error messages (the inverse of a coupling K is
        computed by the same function: ``from_task_kernel(K, name="coupling")``).

    Returns
    -------
    K : ndarray of shape (T, T), dtype float64
        The inverse ``B^{-1}``, exactly symmetric.

    Raises
    ------
    ValueError
        If ``B`` is not a finite real square matrix, is not symmetric within
        round-off (relative tolerance 1e-10), or is not numerically positive
        definite (its smallest eigenvalue is not above ``T * eps * max eigenvalue``;
        the message gives the eigenvalue).
    """
    kernel = _as_square_matrix(B, name)
    _check_symmetric(kernel, name, 1e-10)
    kernel = _symmetrised(kernel)
    _check_positive_definite(kernel, name)
    try:
        factor = scipy.linalg.cho_factor(kernel, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        raise ValueError(f"{name} must be positive definite; its Cholesky factorisation failed") from None
    # B^{-1} = L^{-T} L^{-1}: solve B X = I with the factor.
    inverse = scipy.linalg.cho_solve(factor, np.eye(kernel.shape[0]), check_finite=False)
    return _symmetrised(inverse)


@validate_params(
    {
        "task_features": ["array-like"],
        "kernel": [StrOptions(set(KERNELS))],
        "gamma": [POSITIVE_REAL, None],
        "degree": [POSITIVE_INT],
        "coef0": [NON_NEGATIVE_REAL],
    },
    prefer_skip_nested_validation=True,
)
def task_kernel(
    task_features: ArrayLike,
    kernel: str = "rbf",
    gamma: float | None = None,
    degree: int = 3,
    coef0: float = 1.0,
) -> NDArray[np.float64]:
    """Kernel matrix B between tasks, computed from a descriptor vector per task.

    With task descriptors ``a_s`` (rows of ``task_features``, e.g. a school's
    size, intake and type):

    * ``"rbf"``: ``B_st = exp(-gamma ||a_s - a_t||^2)``;
    * ``"linear"``: ``B_st = <a_s, a_t>``;
    * ``"polynomial"``: ``B_st = (gamma <a_s, a_t> + coef0)^degree``.

    All three are positive semidefinite. The rbf kernel of distinct
    descriptors is positive definite; the linear kernel has rank at most p.
    Pass B to :func:`from_task_kernel` (adding ``eps * I`` if it is singular)
    to obtain the coupling ``K = B^{-1}``.

    Parameters
    ----------
    task_features : array-like of shape (T, p)
        One row of finite real descriptors per task.
    kernel : {"rbf", "linear", "polynomial"}, default="rbf"
        Kernel function.
    gamma : float, default=None
        Positive scale of the rbf and polynomial kernels; ``1 / p`` when None.
        Ignored by the linear kernel (but still validated).
    degree : int, default=3
        Degree of the polynomial kernel, a positive integer.
    coef0 : float, default=1.0
        Constant of the polynomial kernel, finite and >= 0 (a negative constant
        can make the kernel indefinite).

    Returns
    -------
    B : ndarray of shape (T, T), dtype float64
        Exactly symmetric.

    Raises
    ------
    ValueError
        If ``task_features`` is not a non-empty finite real 2-D array, or
        ``kernel``, ``gamma``, ``degree`` or ``coef0`` is invalid (the message
        names the argument).
    """
    features = _as_real_array(task_features, "task_features")
    if features.ndim != 2 or features.shape[0] == 0 or features.shape[1] == 0:
        raise ValueError(
            f"task_features must be a non-empty 2-D array of shape (n_tasks, n_descriptors), got shape "
            f"{features.shape}; use task_features.reshape(-1, 1) for a single descriptor"
        )
    gamma = 1.0 / features.shape[1] if gamma is None else float(gamma)
    degree, coef0 = int(degree), float(coef0)

    if kernel == "rbf":
        # Squared distances computed from differences: exact zeros on the diagonal.
        squared_distances = cdist(features, features, metric="sqeuclidean")
        gram = np.exp(-gamma * squared_distances)
    elif kernel == "linear":
        gram = features @ features.T
    else:
        gram = (gamma * (features @ features.T) + coef0) ** degree
    return _symmetrised(gram)


# --------------------------------------------------------------------------------------------
# Validation of user-supplied couplings
# --------------------------------------------------------------------------------------------


@validate_params(
    {"K": ["array-like"], "n_tasks": [POSITIVE_INT, None], "name": [str], "tol": [NON_NEGATIVE_REAL]},
    prefer_skip_nested_validation=True,
)
def validate_coupling(
    K: ArrayLike,
    n_tasks: int | None = None,
    *,
    name: str = "coupling",
    tol: float = 1e-10,
) -> NDArray[np.float64]:
    r"""Check a coupling matrix and return it as an exactly symmetric float64 array.

    K must be a real, finite, square matrix, of size ``n_tasks`` when that is
    given, symmetric within round-off,

    .. math::

        \max_{ij} |K_{ij} - K_{ji}| \le \mathrm{tol} \cdot \max_{ij} |K_{ij}|,

    and positive semidefinite within round-off,

    .. math::

        \lambda_{\min}(K) \ge -\mathrm{tol} \cdot \max_i |\lambda_i(K)|,

    both relative to the matrix's own scale, so that a tiny indefinite K (entries
    of 1e-12, say) is rejected like a large one.

    Parameters
    ----------
    K : array-like of shape (T, T)
        Candidate coupling matrix (integer, boolean and floating dtypes are accepted).
    n_tasks : int, default=None
        Number of tasks in the data; K's size must equal it when given.
    name : str, default="coupling"
        Name of the argument, used in error messages.
    tol : float, default=1e-10
        Relative tolerance of the symmetry and semidefiniteness checks, finite and >= 0.

    Returns
    -------
    K : ndarray of shape (T, T), dtype float64
        A new C-contiguous array equal to ``(K + K^T) / 2``.

    Raises
    ------
    ValueError
        If K is not 2-D and square, is empty, has a complex, object or other
        non-numeric dtype, contains NaN or infinity, does not have ``n_tasks``
        rows, is not symmetric (the message gives the largest asymmetry) or has
        an eigenvalue below the tolerance (the message gives it); or if
        ``n_tasks`` or ``tol`` is invalid. Messages start with ``name``.
    """
    matrix = _as_square_matrix(K, name)
    if n_tasks is not None and matrix.shape[0] != n_tasks:
        raise ValueError(f"{name} has shape {matrix.shape} but the data has {n_tasks} tasks")
    _check_symmetric(matrix, name, tol)
    matrix = _symmetrised(matrix)
    # A positive definite matrix (the common case) is recognised by a cheap Cholesky factorisation.
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        eigenvalues = np.linalg.eigvalsh(matrix)
        largest = float(np.abs(eigenvalues).max())
        if eigenvalues[0] < -tol * largest:
            raise ValueError(
                f"{name} must be positive semidefinite; its smallest eigenvalue is {eigenvalues[0]:.6g} "
                f"(largest in magnitude {largest:.6g})"
            ) from None
    return matrix


BUILDER_NAMES = ("identity", "mean_regularized", "chain")
"""Builder names accepted by :func:`resolve_coupling` (applied with their default parameters)."""

_BUILDERS = {"identity": identity, "mean_regularized": mean_regularized, "chain": chain}


@validate_params(
    {"coupling": [StrOptions(set(BUILDER_NAMES)), "array-like"], "n_tasks": [POSITIVE_INT]},
    prefer_skip_nested_validation=True,
)
def resolve_coupling(coupling: str | ArrayLike, n_tasks: int) -> NDArray[np.float64]:
    """The coupling matrix K for an estimator's ``coupling`` parameter.

    Parameters
    ----------
    coupling : {"identity", "mean_regularized", "chain"} or array-like of shape (T, T)
        A builder name, applied to ``n_tasks`` with its default parameters
        (``mean_regularized(n_tasks, mu=0.1)``, ``chain(n_tasks, ridge=0.1)``),
        or a matrix, checked by :func:`validate_coupling`.
    n_tasks : int
        Number of tasks in the data.

    Returns
    -------
    K : ndarray of shape (T, T), dtype float64
        The builder's matrix, or the validated matrix (a symmetric copy).

    Raises
    ------
    ValueError
        If ``coupling`` is an unknown name (the message lists the valid ones)
        or an invalid matrix, or ``n_tasks`` is not a positive integer.
    """
    if isinstance(coupling, str):
        return _BUILDERS[coupling](n_tasks)
    return validate_coupling(coupling, n_tasks=n_tasks, name="coupling")
