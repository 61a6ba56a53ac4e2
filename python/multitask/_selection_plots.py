"""Pictures of model selection: cross-validation curves and regularisation paths.

Public through :mod:`multitask.plotting` (which checks that matplotlib is installed
before importing this module).
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._plot_common import new_axes, require

if TYPE_CHECKING:
    from matplotlib.axes import Axes

LOG_SPAN = 100.0  # automatic log axis when the largest positive value exceeds the smallest by more than 2 decades
PATH_KINDS = ("features", "coefficients")
MAX_CURVES = 10  # more curves than this are unreadable (e.g. a randomized search over two continuous parameters)


# --------------------------------------------------------------------------------------------
# Cross-validation curve
# --------------------------------------------------------------------------------------------


class _Unset:
    """A candidate's value of a parameter its grid does not set (a list-of-dicts grid)."""

    def __repr__(self) -> str:
        return "unset"


UNSET = _Unset()


def _equal(a: Any, b: Any) -> bool:
    """Whether two parameter values are the same (arrays compared by content, never by truth value)."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.shape(a) == np.shape(b) and np.array_equal(a, b))
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # values whose == is not a truth value
        return False


def _distinct(values: list[Any]) -> list[Any]:
    """The distinct values in order of first appearance (by :func:`_equal`: values need not be hashable)."""
    found: list[Any] = []
    for value in values:
        if not any(_equal(value, seen) for seen in found):
            found.append(value)
    return found


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


def _format(value: Any) -> str:
    if _is_number(value):
        return f"{float(value):.3g}"
    if isinstance(value, np.ndarray):
        return f"<array {value.shape}>"
    text = repr(value)
    return text if len(text) <= 30 else text[:27] + "..."


def _cv_results(search: Any) -> Mapping[str, Any]:
    if isinstance(search, Mapping):
        results = search
        name = "search"
    else:
        require(search, "cv_results_", "search")
        results, name = search.cv_results_, "search.cv_results_"
    if "params" not in results:
        raise ValueError(f"{name} has no 'params': pass a fitted search or its cv_results_ dict")
    return results


def _metric(search: Any, results: Mapping[str, Any], metric: str | None) -> str:
    """The suffix of the score keys to plot: "score", or one metric of a multi-metric search."""
    available = [key[len("mean_test_"):] for key in results if key.startswith("mean_test_")]
    if not available:
        raise ValueError("search: cv_results_ has no mean_test_* scores")
    if metric is not None:
        if metric not in available:
            raise ValueError(f"metric must be one of {available}, got {metric!r}")
        return metric
    if "score" in available:
        return "score"
    refit = getattr(search, "refit", None)
    if isinstance(refit, str) and refit in available:
        return refit
    raise ValueError(f"metric: the search scored several metrics {available}; choose one with metric=")


def _score_name(search: Any, metric: str) -> str:
    """What the score is, for the axis label."""
    if metric != "score":
        return metric
    scoring = getattr(search, "scoring", None)
    if isinstance(scoring, str):
        return scoring
    if scoring is None:
        return "score"
    return getattr(scoring, "__name__", "score")


def _chosen_index(search: Any, results: Mapping[str, Any], metric: str) -> int | None:
    """The candidate the search chose: ``best_index_`` for its refit metric, else the first of rank 1."""
    best = getattr(search, "best_index_", None)
    if best is not None and metric in ("score", getattr(search, "refit", None)):
        return int(best)
    ranks = results.get(f"rank_test_{metric}")
    return None if ranks is None else int(np.argmin(np.asarray(ranks)))


def _parameter_values(results: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Every parameter's value in every candidate (UNSET where the candidate's grid lacks it), names sorted."""
    candidates = list(results["params"])
    names = sorted({name for candidate in candidates for name in candidate})
    return {name: [candidate.get(name, UNSET) for candidate in candidates] for name in names}


def _default_param(values: dict[str, list[Any]]) -> str:
    """The first numeric parameter that varies; else the first numeric parameter."""
    numeric = [
        name for name, column in values.items()
        if any(value is not UNSET for value in column)
        and all(_is_number(value) for value in column if value is not UNSET)
    ]
    if not numeric:
        raise ValueError(f"param: the search has no numeric parameter to plot against (parameters: {list(values)})")
    varying = [name for name in numeric if len(_distinct(values[name])) > 1]
    return (varying or numeric)[0]


def _selected(values: dict[str, list[Any]], param: str, fixed: Mapping[str, Any] | None) -> NDArray[np.bool_]:
    """The candidates that set ``param`` and match every ``fixed`` value."""
    keep = np.array([value is not UNSET for value in values[param]])
    for name, wanted in (fixed or {}).items():
        if name == param:
            raise ValueError(f"fixed must not hold param {param!r}: it is the x-axis")
        if name not in values:
            raise ValueError(f"fixed: {name!r} is not a parameter of the search (parameters: {list(values)})")
        match = np.array([_equal(value, wanted) for value in values[name]])
        if not np.any(match & keep):
            choices = [_format(value) for value in _distinct(values[name]) if value is not UNSET]
            raise ValueError(f"fixed: no candidate has {name}={_format(wanted)}; its values are {choices}")
        keep &= match
    return keep


def _numeric_x(column: list[Any], param: str) -> NDArray[np.float64]:
    bad = [value for value in column if not _is_number(value)]
    if bad:
        raise ValueError(
            f"param {param!r} has non-numeric values ({_format(bad[0])}); plot a numeric parameter and pass "
            "this one in fixed=, or let it label one curve per value"
        )
    x = np.array([float(value) for value in column])
    if not np.all(np.isfinite(x)):
        raise ValueError(f"param {param!r} has NaN or infinite values")
    return x


def _use_log(x: NDArray[np.float64], log_scale: bool | None, param: str) -> bool:
    if log_scale is None:
        return bool(np.all(x > 0) and x.max() > LOG_SPAN * x.min())
    if log_scale and np.any(x <= 0):
        raise ValueError(f"log_scale=True needs positive values of {param!r}, got {x.min():.3g}")
    return bool(log_scale)


def plot_cv_curve(
    search: Any,
    param: str | None = None,
    *,
    fixed: Mapping[str, Any] | None = None,
    metric: str | None = None,
    ax: Axes | None = None,
    log_scale: bool | None = None,
) -> Axes:
    """Cross-validated score against one parameter: mean ± one standard deviation across the folds.

    For every candidate of the search, ``mean_test_<metric>`` against its value
    of ``param`` (a line with markers, sorted by that value) and the band
    ``mean ± std_test_<metric>`` (a shaded area). The other parameters that
    vary give one curve each per combination of their values, with a legend;
    ``fixed`` restricts the picture to the candidates with the given values.
    The chosen candidate (``best_index_``) is marked by a vertical dotted line
    and a star, when it is among those drawn.

    Parameters
    ----------
    search : fitted search or estimator, or dict
        Anything with ``cv_results_`` in scikit-learn's format (keys ``params``,
        ``mean_test_score``, ``std_test_score``, ``split<k>_test_score``,
        ``rank_test_score``): scikit-learn's or :mod:`multitask.model_selection`'s
        ``GridSearchCV``/``RandomizedSearchCV`` after ``fit``, the ``*CV``
        estimators of multitask, or such a ``cv_results_`` dict itself (the
        candidate of rank 1 is then marked).
    param : str, default=None
        The parameter on the x-axis (its name in ``params``, e.g. ``"alpha"``,
        or ``"ridge__alpha"`` in a Pipeline). None: the first numeric parameter
        that varies, in alphabetical order.
    fixed : dict, default=None
        Values of other parameters: only the candidates with exactly these
        values are drawn (e.g. ``{"l21": 0.1}``).
    metric : str, default=None
        For a multi-metric search, the metric to draw (a key of its ``scoring``
        dict); None: the single metric, or the search's ``refit`` metric.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; None draws on a new figure.
    log_scale : bool, default=None
        Logarithmic x-axis. None: when the values of ``param`` are positive and
        the largest exceeds the smallest by more than a factor 100.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on: one line per curve with the means (in ``ax.lines``,
        before the marks), one band per curve in ``ax.collections``, the
        chosen value's vertical line and star with the gids ``"best-value"``
        and ``"best-point"``.

    Raises
    ------
    ValueError
        Naming the argument: ``search`` without ``cv_results_``
        (NotFittedError, a ValueError, for an estimator not fitted yet), an
        unknown or non-numeric ``param`` (or NaN/infinite values of it), an
        unknown name or unmatched value in ``fixed``, more than 10 curves
        (the other parameters not fixed enough), an unknown ``metric``,
        ``log_scale=True`` with values <= 0.

    Examples
    --------
    >>> import numpy as np
    >>> import multitask as mt
    >>> import multitask.plotting as mtp
    >>> from multitask.model_selection import GridSearchCV
    >>> Xs, ys, _ = mt.datasets.make_multitask_regression(4, 40, 5, random_state=0)
    >>> search = GridSearchCV(mt.KernelCoupledRegressor(), {"alpha": np.logspace(-4, 1, 6)}, cv=3).fit(Xs, ys)
    >>> ax = mtp.plot_cv_curve(search)
    >>> ax.get_xscale(), ax.get_xlabel()
    ('log', 'alpha')
    >>> bool(np.allclose(ax.lines[0].get_ydata(), search.cv_results_["mean_test_score"]))
    True
    """
    results = _cv_results(search)
    metric = _metric(search, results, metric)
    values = _parameter_values(results)
    if param is None:
        param = _default_param(values)
    elif param not in values:
        raise ValueError(f"param {param!r} is not a parameter of the search (parameters: {list(values)})")
    keep = _selected(values, param, fixed)
    rows = np.flatnonzero(keep)
    x = _numeric_x([values[param][i] for i in rows], param)
    mean = np.asarray(results[f"mean_test_{metric}"], dtype=np.float64)[rows]
    std = np.asarray(results[f"std_test_{metric}"], dtype=np.float64)[rows]

    # The other parameters that still vary among the drawn candidates label one curve per combination.
    others = [
        name for name in values
        if name != param and len(_distinct([values[name][i] for i in rows])) > 1
    ]
    combinations = [tuple(values[name][i] for name in others) for i in rows]
    groups = _distinct(combinations)
    if len(groups) > MAX_CURVES:
        raise ValueError(
            f"fixed: the other parameters {others} take {len(groups)} combinations of values among the candidates, "
            f"more than {MAX_CURVES} curves; fix some of them with fixed={{name: value}}"
        )

    ax = new_axes() if ax is None else ax
    chosen = _chosen_index(search, results, metric)
    chosen_colour = None
    for group in groups:
        members = np.array([all(_equal(a, b) for a, b in zip(c, group)) for c in combinations])
        order = np.flatnonzero(members)[np.argsort(x[members], kind="stable")]
        label = ", ".join(f"{name}={_format(value)}" for name, value in zip(others, group)) or "mean ± 1 sd"
        (line,) = ax.plot(x[order], mean[order], marker="o", label=label)
        ax.fill_between(x[order], mean[order] - std[order], mean[order] + std[order], color=line.get_color(),
                        alpha=0.2, linewidth=0)
        if chosen is not None and chosen in rows[order]:
            chosen_colour = line.get_color()
    if chosen_colour is not None:
        position = int(np.flatnonzero(rows == chosen)[0])
        ax.axvline(x[position], color="grey", linestyle=":", gid="best-value")
        ax.plot([x[position]], [mean[position]], marker="*", markersize=14, linestyle="none", color=chosen_colour,
                markeredgecolor="black", gid="best-point", label=f"chosen: {param}={_format(x[position])}", zorder=3)

    if _use_log(x, log_scale, param):
        ax.set_xscale("log")
    n_folds = sum(1 for key in results if key.startswith("split") and key.endswith(f"_test_{metric}"))
    folds = f" over {n_folds} folds" if n_folds else ""
    ax.set_xlabel(param)
    ax.set_ylabel(f"CV {_score_name(search, metric)}: mean ± 1 sd{folds}")
    ax.legend()
    return ax


# --------------------------------------------------------------------------------------------
# Regularisation path
# --------------------------------------------------------------------------------------------


def _path_field(path: Any, key: str) -> NDArray[np.float64]:
    value = path.get(key) if isinstance(path, Mapping) else getattr(path, key, None)
    if value is None:
        raise ValueError(
            f"path has no {key!r}: pass the Bunch returned by multitask.regularization_path "
            "(keys penalty_values and coef)"
        )
    array = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"path.{key} contains NaN or infinity")
    return array


def plot_regularization_path(
    path: Any,
    *,
    kind: str = "features",
    task: int | None = None,
    mark: float | None = None,
    feature_names: ArrayLike | None = None,
    ax: Axes | None = None,
    log_scale: bool = True,
) -> Axes:
    """The coefficients along a regularisation path, against the penalty value decreasing to the right.

    ``kind="features"`` draws, for every feature j, the Euclidean norm of its
    row of W across the tasks, ``||W_j.||_2 = sqrt(sum_t W_tj^2)``: the
    quantity the l21 penalty makes exactly zero, so a line leaves zero where
    feature j enters the model (for every task at once).
    ``kind="coefficients"`` draws every coefficient ``W_tj`` of one task t.
    The x-axis is logarithmic and inverted (the largest penalty, the
    sparsest model, on the left), as in glmnet's and scikit-learn's path plots.

    Parameters
    ----------
    path : Bunch
        The result of :func:`multitask.regularization_path`: its
        ``penalty_values`` (n_values,) and ``coef`` (n_values, T, d) are drawn.
    kind : {"features", "coefficients"}, default="features"
        What each line is: a feature's norm across tasks, or one coefficient
        of task ``task``.
    task : int, default=None
        With ``kind="coefficients"``, the task's position 0..T-1 in ``coef``
        (that of the estimator's ``tasks_``).
    mark : float, default=None
        A penalty value to mark with a vertical dashed line, e.g. one chosen
        by cross-validation.
    feature_names : array-like of shape (d,), default=None
        Names of the features for a legend; None: no legend entry per line.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; None draws on a new figure.
    log_scale : bool, default=True
        Logarithmic x-axis (all penalty values must be positive); False: linear.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on: ``ax.lines[j]`` is feature j's line (x: the
        penalty values); the mark has the gid ``"mark"`` and, for
        ``kind="coefficients"``, the zero line the gid ``"zero"``.

    Raises
    ------
    ValueError
        Naming the argument: ``path`` without ``penalty_values`` or ``coef``,
        of inconsistent shapes or not finite; an unknown ``kind``; ``task``
        missing, out of range or given with ``kind="features"``; a ``mark``
        not finite (or not positive on a log axis); ``feature_names`` of the
        wrong length; penalty values <= 0 on a log axis.

    Examples
    --------
    >>> import numpy as np
    >>> import multitask as mt
    >>> import multitask.plotting as mtp
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 6))
    >>> Y = X[:, :2] @ rng.normal(size=(2, 3)) + 0.1 * rng.normal(size=(50, 3))
    >>> path = mt.regularization_path(mt.KernelCoupledRegressor(alpha=1e-3), X, Y, n_values=10)
    >>> ax = mtp.plot_regularization_path(path, mark=path.penalty_values[5])
    >>> len(ax.lines), bool(ax.xaxis_inverted())
    (7, True)
    >>> bool(np.allclose(ax.lines[0].get_ydata(), np.linalg.norm(path.coef[:, :, 0], axis=1)))
    True
    """
    if kind not in PATH_KINDS:
        raise ValueError(f"kind must be one of {PATH_KINDS}, got {kind!r}")
    values = _path_field(path, "penalty_values")
    coef = _path_field(path, "coef")
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"path.penalty_values must be a non-empty 1-D array, got shape {values.shape}")
    if coef.ndim != 3 or coef.shape[0] != values.size:
        raise ValueError(f"path.coef must have shape (n_values={values.size}, T, d), got {coef.shape}")
    n_tasks, n_features = coef.shape[1:]

    if kind == "features":
        if task is not None:
            raise ValueError("task is used only with kind='coefficients' (kind='features' draws norms across tasks)")
        lines = np.linalg.norm(coef, axis=1)  # (n_values, d): ||W_j.||_2 of every feature j at every value
        ylabel = r"$\Vert W_{j\cdot}\Vert_2$ across tasks (a line per feature j)"
    else:
        if task is None or not isinstance(task, Integral) or isinstance(task, bool) or not 0 <= task < n_tasks:
            raise ValueError(f"task must be an integer in 0..{n_tasks - 1} with kind='coefficients', got {task!r}")
        lines = coef[:, task, :]
        ylabel = f"coefficients W_tj of task {task}"

    if feature_names is not None:
        feature_names = np.asarray(feature_names)
        if feature_names.shape != (n_features,):
            raise ValueError(
                f"feature_names must hold one name per feature ({n_features}), got shape {feature_names.shape}"
            )
    if mark is not None and (not _is_number(mark) or not np.isfinite(mark) or (log_scale and mark <= 0)):
        raise ValueError(f"mark must be a finite{' positive' if log_scale else ''} penalty value, got {mark!r}")
    if log_scale and np.any(values <= 0):
        raise ValueError("path.penalty_values has values <= 0, which a log axis cannot show: pass log_scale=False")

    ax = new_axes() if ax is None else ax
    drawn = ax.plot(values, lines)
    if feature_names is not None:
        for line, name in zip(drawn, feature_names):
            line.set_label(str(name))
    if kind == "coefficients":
        ax.axhline(0.0, color="black", linewidth=0.8, gid="zero")
    if mark is not None:
        ax.axvline(float(mark), color="grey", linestyle="--", gid="mark", label=f"marked: {float(mark):.3g}")
    if log_scale:
        ax.set_xscale("log")
    ax.invert_xaxis()  # the largest penalty (fewest features) on the left
    ax.set_xlabel("penalty value (decreasing to the right)")
    ax.set_ylabel(ylabel)
    if feature_names is not None or mark is not None:
        ax.legend()
    return ax
