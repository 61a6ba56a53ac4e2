r"""MultiTaskKernelRidge refitted for many alphas at once, after one reduction of the kernel matrix.

The dual system (M + alpha N Omega^{-1}) c = y changes with alpha only by a
multiple of a fixed diagonal, so with D = (Omega / N)^{1/2} it is
D^{-1} (D M D + alpha I) D^{-1} c = y: one reduction of D M D to band form (or,
for a shared design, of k(X, X) to tridiagonal form, the task kernel being
diagonalised once in the same scaled basis) serves every alpha, each then
costing O(N^2) instead of a new O(N^3) factorisation. The C++ core (kernel_ridge_path.hpp) does the work.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.utils import Bunch
from sklearn.utils._param_validation import StrOptions, validate_params

from ._core import core
from ._kernel_ridge import MultiTaskKernelRidge
from ._threads import effective_n_threads

__all__ = ["kernel_ridge_path"]

METHODS = ("auto", "band", "tridiagonal", "per_alpha")


def _check_alphas(alphas: Any) -> np.ndarray:
    """alphas as a float64 1-D array of finite positive numbers; ValueError naming ``alphas`` otherwise."""
    try:
        values = np.asarray(alphas, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"alphas must be a 1-D array of positive numbers, got {alphas!r}") from None
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"alphas must be a non-empty 1-D array, got shape {values.shape}")
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(f"alphas must be finite and > 0, got {values[~(np.isfinite(values) & (values > 0))][:3]}")
    return values


@validate_params(
    {
        "estimator": [MultiTaskKernelRidge],
        "X": ["array-like"],
        "y": ["array-like", None],
        "tasks": ["array-like", None],
        "alphas": ["array-like"],
        "method": [StrOptions(set(METHODS))],
    },
    # The path validates the estimator's parameters itself (on its clone): nothing is skipped.
    prefer_skip_nested_validation=False,
)
def kernel_ridge_path(
    estimator: MultiTaskKernelRidge,
    X: Any,
    y: Any = None,
    *,
    tasks: Any = None,
    alphas: Any,
    method: str = "auto",
) -> Bunch:
    r"""Fit ``estimator`` at every regularisation strength of ``alphas`` at once.

    Every entry is the model ``clone(estimator).set_params(alpha=a).fit(X, y)``
    (with ``solver="cholesky"`` or ``"kronecker"``: the path is exact, whatever
    ``estimator.solver`` says), but the kernel matrix is computed and reduced
    once: for per-task inputs, with :math:`D = (\Omega/N)^{1/2}`, the system is
    :math:`D^{-1}(D M D + \alpha I) D^{-1} c = y` and one reduction
    :math:`D M D = P B P^\top` to a symmetric band matrix :math:`B` (block
    Householder, :math:`\tfrac43 N^3` flops in matrix-matrix products) leaves
    :math:`O(N^2)` work per alpha; for a shared design (``fit(X, Y)``) the
    reduction is of :math:`k(X, X)` (n, n) to tridiagonal form, and :math:`R^{-1/2} B R^{-1/2}` has the
    same eigenvectors at every alpha (its eigenvalues scale as 1/alpha), so each
    alpha costs :math:`O(n^2 T + n T^2)`. Intercepts are exact (Schur complement of
    the bordered system) at every alpha.

    Parameters
    ----------
    estimator : MultiTaskKernelRidge
        Supplies the kernel, task kernel or coupling, task weights and
        ``fit_intercept``; not fitted, not modified. Its ``alpha``, ``solver``,
        ``tol`` and ``max_iter`` are not used.
    X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
        Training inputs in any of the three input forms of
        ``MultiTaskKernelRidge.fit`` (kernel values for ``kernel="precomputed"``).
    y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T), default=None
        Targets in the form matching ``X``.
    tasks : array-like of shape (n_samples,), default=None
        Task label of every row (long format).
    alphas : array-like of shape (n_alphas,)
        Regularisation strengths, finite and > 0, in any order (kept).
    method : {"auto", "band", "tridiagonal", "per_alpha"}, default="auto"
        "band" (per-task inputs only): one reduction to band form, then every
        alpha in O(N^2); "tridiagonal": one reduction to tridiagonal form, then
        every alpha in O(N^2) (O(n^2 T) for a shared design), as fast per alpha
        but a slower reduction (memory-bound) for per-task inputs;
        "per_alpha": a Cholesky factorisation per alpha (per task direction for
        a shared design), the kernel matrix computed once, cheaper for a few
        alphas; "auto": the reduction ("band" for per-task inputs,
        "tridiagonal" for a shared design) when it replaces more factorisations
        (n_alphas, times T for a shared design) than it is worth, measured on
        one thread as 5 factorisations for the band reduction and m / 250 for
        the tridiagonal one of an (m, m) matrix, times n_threads (the
        reductions run on one thread, the factorisations on all).

    Returns
    -------
    path : Bunch
        Dictionary-like object with the keys

        - ``alphas``: ndarray of shape (n_alphas,), as given;
        - ``dual_coef``: ndarray of shape (n_alphas, N) or (n_alphas,
          n_samples, T), ``dual_coef_`` of every model in the shape of the fit;
        - ``intercept``: ndarray of shape (n_alphas, T);
        - ``estimators``: list of MultiTaskKernelRidge, the fitted models
          (``alpha`` set, ``solver_`` = "path-" + method), ready to
          ``predict`` or ``score``;
        - ``method``: str, the method used ("band", "tridiagonal" or "per_alpha").

    Notes
    -----
    The path computes in float64 (float32 input is converted), sharing the
    training inputs between the returned models. Memory: the (N, N) kernel
    matrix and its reduction, as a ``"cholesky"`` fit (the (n, n) input Gram for
    a shared design).

    Examples
    --------
    >>> import numpy as np, multitask as mt
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.normal(size=(50, 2)), rng.normal(size=(50, 3))
    >>> path = mt.kernel_ridge_path(mt.MultiTaskKernelRidge(kernel="rbf"), X, Y, alphas=np.logspace(-4, 0, 20))
    >>> path.dual_coef.shape, path.intercept.shape
    ((20, 50, 3), (20, 3))
    >>> best = max(path.estimators, key=lambda model: model.score(X, Y))
    """
    alphas = _check_alphas(alphas)
    # The path solves the exact dual whatever the estimator's solver says (an approximate
    # solver would also skip forming the Gram of a callable kernel).
    model = clone(estimator).set_params(solver="cholesky")
    model._validate_params()
    problem = model._dual_problem(X, y, tasks)
    result = core.kernel_ridge_path_f64(
        **model._core_arguments(problem, np.float64),
        unit_ridge=problem.unit_ridge,
        y=np.ascontiguousarray(np.concatenate(problem.blocks.y), dtype=np.float64),
        fit_intercept=bool(model.fit_intercept),
        alphas=alphas,
        method=method,
        n_threads=effective_n_threads(model.n_jobs),
    )
    estimators = []
    for alpha, dual_coef, intercept in zip(alphas, result["dual_coefs"], result["intercepts"]):
        fitted = clone(model).set_params(alpha=float(alpha))
        fitted._validate_feature_names(X, tasks)
        fitted.n_features_in_ = model.n_features_in_
        fitted._store_result(
            {
                "dual_coef": dual_coef,
                "intercept": intercept,
                "solver": f"path-{result['method']}",
                "n_iter": 1,
                "residual": float("nan"),
                "converged": True,
            },
            problem,
            float(model.tol),
        )
        estimators.append(fitted)
    return Bunch(
        alphas=alphas,
        dual_coef=np.stack([fitted.dual_coef_ for fitted in estimators]),
        intercept=result["intercepts"],
        estimators=estimators,
        method=str(result["method"]),
    )
