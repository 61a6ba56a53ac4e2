"""Regularisation paths for the structure penalties (l1, l21, trace norm).

The smallest penalty with W = 0 optimal, ``penalty_max``, follows from the
optimality condition at W = 0 and is computed by the core for every loss: with
G0 the gradient of the smooth part of F at W = 0 (intercepts at their optimum
for W = 0; the coupling term contributes nothing there), W = 0 is optimal
exactly when -G0 lies in the subdifferential of the penalty at 0:

* l21 (with l1 = rho_1 fixed): rho_21 >= max_j ||S_rho1(G0[:, j])||_2
  (S: soft-thresholding; rows of W are features, here columns of the (T, d) G0);
* l1 (with l21 = rho_21 fixed): rho_1 >= max_j c_j, c_j the smallest c with
  ||S_c(G0[:, j])|| <= rho_21 (max |G0| when rho_21 = 0);
* trace norm: rho_* >= ||G0||_2, the largest singular value.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.utils import Bunch
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params

from ._input import to_task_blocks
from ._sparse_input import core_blocks, is_sparse
from ._task_weights import per_sample_weights
from ._validation import POSITIVE_INT

__all__ = ["penalty_max", "regularization_path"]

PENALTIES = ("l21", "l1", "trace_norm")


def _core_penalty_max(estimator: Any, X: Any, y: Any, tasks: Any, penalty: str, others: dict) -> float:
    """penalty_max from the core: G0 and the smallest weight there, for the estimator's loss."""
    from ._classifier import KernelCoupledClassifier, encode_labels

    is_classifier = isinstance(estimator, KernelCoupledClassifier)
    blocks = to_task_blocks(X, y, tasks, accept_sparse=True, labels=is_classifier)
    if is_classifier:
        _, targets = encode_labels(blocks, np.float64)
    else:
        targets = [np.ascontiguousarray(target, dtype=np.float64) for target in blocks.y]
    designs = [
        block.astype(np.float64, copy=False) if is_sparse(block) else np.ascontiguousarray(block, dtype=np.float64)
        for block in blocks.X
    ]
    from ._core import core

    return float(
        core.penalty_max(
            X=core_blocks(designs),
            y=targets,
            sample_weight=per_sample_weights(estimator.task_weights, [block.shape[0] for block in blocks.X]),
            fit_intercept=bool(estimator.fit_intercept),
            loss=getattr(estimator, "loss", "squared"),
            loss_parameter=float(getattr(estimator, "epsilon", 0.0)),
            l1=float(others.get("l1", 0.0)),
            l21=float(others.get("l21", 0.0)),
            penalty=penalty,
        )
    )


_CONSTRAINTS = {
    "estimator": [HasMethods(["fit", "get_params"])],
    "X": ["array-like", "sparse matrix"],
    "y": ["array-like", "sparse matrix", None],
    "tasks": ["array-like", None],
    "penalty": [StrOptions(set(PENALTIES))],
}


@validate_params(_CONSTRAINTS, prefer_skip_nested_validation=True)
def penalty_max(estimator: Any, X: Any, y: Any = None, *, tasks: Any = None, penalty: str = "l21") -> float:
    """The smallest value of ``penalty`` for which W = 0 is optimal, exactly.

    Parameters
    ----------
    estimator : KernelCoupledRegressor or KernelCoupledClassifier
        Supplies the loss, ``task_weights``, ``fit_intercept`` and the other
        penalty weights (held fixed). Not fitted, not modified.
    X : list of array-like or sparse (n_t, d), or array-like or sparse of shape (n_samples, d)
        Training data in any of the three input forms, as for the estimator's ``fit``.
    y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T), default=None
        Targets (labels for a classifier) in the form matching ``X``.
    tasks : array-like of shape (n_samples,), default=None
        Task label of every row (long format).
    penalty : {"l21", "l1", "trace_norm"}, default="l21"
        The penalty whose smallest zero-solution value is computed; the other
        two keep the estimator's values.

    Returns
    -------
    value_max : float
        The smallest value of ``penalty`` at which W = 0 (with the intercepts
        at their optimum for W = 0) minimises the objective.
    """
    others = {name: getattr(estimator, name) for name in PENALTIES if name != penalty}
    if penalty == "trace_norm" and (others["l1"] > 0 or others["l21"] > 0):
        raise ValueError("the trace-norm path needs l1 = l21 = 0 (the penalties are not combined)")
    if penalty != "trace_norm" and others["trace_norm"] > 0:
        raise ValueError(f"the {penalty} path needs trace_norm = 0 (the penalties are not combined)")
    return _core_penalty_max(estimator, X, y, tasks, penalty, others)


@validate_params(
    {
        **_CONSTRAINTS,
        "values": ["array-like", None],
        "n_values": [POSITIVE_INT],
        "min_ratio": [Interval(Real, 0, 1, closed="right")],
        "verbose": ["verbose"],
    },
    # The path fits clones of the estimator: their own parameter validation must run.
    prefer_skip_nested_validation=False,
)
def regularization_path(
    estimator: Any,
    X: Any,
    y: Any = None,
    *,
    tasks: Any = None,
    penalty: str = "l21",
    values: Any = None,
    n_values: int = 50,
    min_ratio: float = 1e-2,
    verbose: bool = False,
) -> Bunch:
    """Fit ``estimator`` along a decreasing grid of one penalty, with warm starts.

    Parameters
    ----------
    estimator : KernelCoupledRegressor or KernelCoupledClassifier
        Cloned; its other parameters (coupling, alpha, the other penalties,
        solver, tol, ...) are kept.
    X : list of array-like or sparse (n_t, d), or array-like or sparse of shape (n_samples, d)
        Training data in any of the three input forms, as for the estimator's ``fit``.
    y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T), default=None
        Targets (labels for a classifier) in the form matching ``X``.
    tasks : array-like of shape (n_samples,), default=None
        Task label of every row (long format).
    penalty : {"l21", "l1", "trace_norm"}, default="l21"
        The penalty that varies along the path.
    values : array-like, default=None
        The penalty values, fitted from the largest down. Default: ``n_values``
        values log-spaced from :func:`penalty_max` down to ``min_ratio`` times it.
    n_values : int, default=50
        Number of values of the default grid (ignored when ``values`` is given).
    min_ratio : float, default=1e-2
        Smallest value of the default grid relative to :func:`penalty_max`, in (0, 1].
    verbose : bool, default=False
        Print one line per value.

    Returns
    -------
    path : Bunch
        Dictionary-like object with the keys (one entry per penalty value):

        - ``penalty_values``: ndarray of shape (n_values,), the values
          fitted, decreasing (not named ``values``, which a dict-based Bunch
          reserves for its method);
        - ``value_max``: float, :func:`penalty_max` (NaN when ``values`` is given);
        - ``coef``: ndarray of shape (n_values, T, d), ``coef_`` of every fit;
        - ``intercept``: ndarray of shape (n_values, T), ``intercept_``;
        - ``dual_gap``: ndarray of shape (n_values,), ``dual_gap_`` (NaN
          where the solver has none);
        - ``n_iter``: ndarray of shape (n_values,), ``n_iter_``;
        - ``objective``: ndarray of shape (n_values,), ``objective_``.
    """
    value_max = float("nan")
    if values is None:
        value_max = penalty_max(estimator, X, y, tasks=tasks, penalty=penalty)
        values = value_max * np.logspace(0, np.log10(min_ratio), n_values)
    values = np.sort(np.asarray(values, dtype=np.float64).ravel())[::-1]
    if values.size == 0 or not np.all(np.isfinite(values)) or values.min() < 0:
        raise ValueError("values must be a non-empty array of finite non-negative numbers")
    model = clone(estimator).set_params(warm_start=True)
    coefs, intercepts, gaps, iters, objectives = [], [], [], [], []
    fit_params = {} if tasks is None else {"tasks": tasks}
    for k, value in enumerate(values):
        model.set_params(**{penalty: float(value)}).fit(X, y, **fit_params)
        coefs.append(model.coef_.copy())
        intercepts.append(model.intercept_.copy())
        gaps.append(model.dual_gap_)
        iters.append(model.n_iter_)
        objectives.append(model.objective_)
        if verbose:
            nonzero = int(np.sum(np.any(model.coef_ != 0, axis=0)))
            print(f"[{k + 1}/{values.size}] {penalty}={value:.3e}: {nonzero} non-zero features, {model.n_iter_} iterations")
    return Bunch(
        penalty_values=values,
        value_max=value_max,
        coef=np.stack(coefs),
        intercept=np.stack(intercepts),
        dual_gap=np.asarray(gaps),
        n_iter=np.asarray(iters),
        objective=np.asarray(objectives),
    )
