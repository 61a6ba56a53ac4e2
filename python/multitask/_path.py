"""Regularisation paths for the structure penalties (l1, l21, trace norm).

The smallest penalty with W = 0 optimal, ``penalty_max``, follows from the
optimality condition at W = 0: with G0 the gradient of the smooth part of F at
W = 0 (intercepts at their optimum for W = 0; the coupling term contributes
nothing there), W = 0 is optimal exactly when -G0 lies in the subdifferential
of the penalty at 0:

* l21 (with l1 = rho_1 fixed): rho_21 >= max_j ||S_rho1(G0[:, j])||_2
  (S: soft-thresholding; rows of W are features, here columns of the (T, d) G0);
* l1 (with l21 = rho_21 fixed): rho_1 >= max_j c_j, c_j the smallest c with
  ||S_c(G0[:, j])|| <= rho_21 (max |G0| when rho_21 = 0);
* trace norm: rho_* >= ||G0||_2, the largest singular value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.utils import Bunch

from ._input import to_task_blocks
from ._task_weights import per_sample_weights

__all__ = ["penalty_max", "regularization_path"]

PENALTIES = ("l21", "l1", "trace_norm")


def _loss_derivative(y: np.ndarray, f: float, loss: str) -> np.ndarray:
    """dl/df (y_i, f) for a constant prediction f."""
    if loss == "squared":
        return f - y
    if loss == "logistic":
        return -y / (1 + np.exp(y * f))
    return -2 * y * np.maximum(0.0, 1 - y * f)


def _best_constant(y: np.ndarray, loss: str) -> float:
    """The intercept b minimising sum_i l(y_i, b) (labels -1/+1 for the classification losses)."""
    if loss == "squared":
        return float(np.mean(y))
    positive = float(np.mean(y > 0))
    if loss == "logistic":  # sigma(b) = fraction of +1
        return float(np.log(positive / (1 - positive)))
    return 2 * positive - 1  # squared hinge: n+(1 - b)^2 + n-(1 + b)^2 on [-1, 1]


def _gradient_at_zero(estimator: Any, X: Any, y: Any, tasks: Any) -> np.ndarray:
    """G0 (T, d): the smooth part's gradient at W = 0, intercepts at their optimum for W = 0."""
    is_classifier = hasattr(estimator, "loss")
    blocks = to_task_blocks(X, y, tasks, accept_sparse=True, labels=is_classifier)
    if is_classifier:
        from ._classifier import encode_labels

        _, targets = encode_labels(blocks, np.float64)
        loss = estimator.loss
    else:
        targets, loss = [np.asarray(target, dtype=np.float64) for target in blocks.y], "squared"
    s = per_sample_weights(estimator.task_weights, [block.shape[0] for block in blocks.X])
    rows = []
    for t, (block, target) in enumerate(zip(blocks.X, targets)):
        intercept = _best_constant(target, loss) if estimator.fit_intercept else 0.0
        rows.append(s[t] * np.asarray(block.T @ _loss_derivative(target, intercept, loss)).ravel())
    return np.vstack(rows)


def _smallest_l1(row: np.ndarray, l21: float) -> float:
    """The smallest c >= 0 with ||S_c(row)||_2 <= l21 (bisection; exact when l21 = 0)."""
    magnitudes = np.abs(row)
    if l21 == 0 or magnitudes.max() == 0:
        return float(magnitudes.max())
    low, high = 0.0, float(magnitudes.max())
    for _ in range(200):
        mid = (low + high) / 2
        if np.linalg.norm(np.maximum(magnitudes - mid, 0.0)) > l21:
            low = mid
        else:
            high = mid
    return high


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
    if penalty not in PENALTIES:
        raise ValueError(f"penalty must be one of {PENALTIES}, got {penalty!r}")
    others = {name: getattr(estimator, name) for name in PENALTIES if name != penalty}
    if penalty == "trace_norm" and (others["l1"] > 0 or others["l21"] > 0):
        raise ValueError("the trace-norm path needs l1 = l21 = 0 (the penalties are not combined)")
    if penalty != "trace_norm" and others["trace_norm"] > 0:
        raise ValueError(f"the {penalty} path needs trace_norm = 0 (the penalties are not combined)")
    G0 = _gradient_at_zero(estimator, X, y, tasks)
    if penalty == "trace_norm":
        return float(np.linalg.norm(G0, ord=2))
    if penalty == "l21":
        return float(max(np.linalg.norm(np.maximum(np.abs(G0[:, j]) - others["l1"], 0.0)) for j in range(G0.shape[1])))
    return max(_smallest_l1(G0[:, j], others["l21"]) for j in range(G0.shape[1]))


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
    if penalty not in PENALTIES:
        raise ValueError(f"penalty must be one of {PENALTIES}, got {penalty!r}")
    value_max = float("nan")
    if values is None:
        if not (isinstance(n_values, (int, np.integer)) and n_values >= 1):
            raise ValueError(f"n_values must be a positive integer, got {n_values!r}")
        if not 0 < min_ratio <= 1:
            raise ValueError(f"min_ratio must be in (0, 1], got {min_ratio!r}")
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
