"""The core call of SharedSubspaceRegressor: its objective minimised in C++ on the Gram statistics.

The objective F(U, A, b) (see :class:`~multitask.SharedSubspaceRegressor`) is
minimised by the core's ``fit_shared_subspace_f64``
(``cpp/include/multitask/fit_shared_subspace.hpp``): the data are read once, to
form the per-task Gram statistics, then a few alternating sweeps (exact over U,
then exact over the heads) are followed by trust-region Newton iterations on
f(U) = min_A F(U, A), each costing O(T d^2 r) whatever the number of samples.
The estimator validates the input, calls :func:`fit_subspace` and stores what
it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._fit_result import core_function
from ._input import TaskBlocks
from ._sparse_input import core_blocks

__all__ = ["SubspaceSolution", "fit_subspace"]


@dataclass(frozen=True)
class SubspaceSolution:
    """What :func:`fit_subspace` returns.

    Attributes
    ----------
    components : ndarray of shape (d, r)
        U.
    heads : ndarray of shape (r, T)
        A.
    intercept : ndarray of shape (T,)
        b.
    history : ndarray
        F at the start (U_0 with its optimal heads), then after every iteration
        (F at W = 0 twice when that is certified optimal).
    n_iter : int
        Iterations run: alternating sweeps, then trust-region Newton iterations
        (1 when W = 0 is certified optimal).
    converged : bool
        Whether the relative gradient reached ``tol``.
    relative_gradient : float
        ||grad_U F||_F / (alpha_U ||U||_F) at the end (the heads are exact at every iterate).
    alternating_sweeps : int
        How many of the iterations were alternating sweeps.
    hessian_products : int
        Hessian-vector products of the Newton iterations.
    zero_solution : bool
        W = 0 was certified optimal (||C K^-1/2||_2 <= sqrt(alpha alpha_U)) and returned without iterating.
    """

    components: np.ndarray
    heads: np.ndarray
    intercept: np.ndarray
    history: np.ndarray
    n_iter: int
    converged: bool
    relative_gradient: float
    alternating_sweeps: int
    hessian_products: int
    zero_solution: bool


def fit_subspace(
    blocks: TaskBlocks,
    sample_weight: np.ndarray,
    coupling: np.ndarray,
    *,
    n_components: int,
    alpha: float,
    alpha_u: float,
    fit_intercept: bool,
    tol: float,
    max_iter: int,
    n_threads: int = 1,
    initial_components: np.ndarray | None = None,
) -> SubspaceSolution:
    """Minimise F(U, A, b) in the core.

    Parameters
    ----------
    blocks : TaskBlocks
        The validated training data (any input form; dense or sparse).
    sample_weight : ndarray of shape (T,)
        s_t = omega_t / N.
    coupling : ndarray of shape (T, T)
        K, positive definite.
    n_components : int
        r, 1 <= r <= d.
    alpha, alpha_u : float
        The penalties on the heads and on U, both positive.
    fit_intercept : bool
        Fit unpenalised intercepts.
    tol : float
        Stop when ||grad_U F||_F <= tol * alpha_U ||U||_F.
    max_iter : int
        Maximum number of iterations (sweeps plus Newton iterations).
    n_threads : int, default=1
        Threads for forming the Gram statistics.
    initial_components : ndarray of shape (d, r), default=None
        Start from this U instead of the ridge start.

    Returns
    -------
    solution : SubspaceSolution
        The factors, the intercepts and how the iterations ended.
    """
    start = None if initial_components is None else np.ascontiguousarray(initial_components, dtype=np.float64)
    result = core_function("fit_shared_subspace", blocks.X[0].dtype)(
        X=core_blocks(blocks.X),
        y=blocks.y,
        sample_weight=np.asarray(sample_weight, dtype=np.float64),
        coupling=np.asarray(coupling, dtype=np.float64),
        alpha=float(alpha),
        alpha_u=float(alpha_u),
        n_components=int(n_components),
        fit_intercept=bool(fit_intercept),
        shared_design=blocks.form in ("shared", "single"),
        tol=float(tol),
        max_iter=int(max_iter),
        n_threads=int(n_threads),
        initial_components=start,
    )
    history, n_iter = np.asarray(result["objective_history"]), int(result["n_iter"])
    if result["zero_solution"]:
        # The certificate counts as the one iteration (scikit-learn expects n_iter_ >= 1 of a fit): F(0) twice.
        history, n_iter = np.repeat(history, 2), 1
    return SubspaceSolution(
        components=result["components"],
        heads=result["heads"],
        intercept=result["intercept"],
        history=history,
        n_iter=n_iter,
        converged=bool(result["converged"]),
        relative_gradient=float(result["residual"]),
        alternating_sweeps=int(result["alternating_sweeps"]),
        hessian_products=int(result["hessian_products"]),
        zero_solution=bool(result["zero_solution"]),
    )
