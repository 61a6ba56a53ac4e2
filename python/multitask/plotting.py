"""Pictures of fitted multi-task models: task relations, objective history, per-task scores, model selection.

Needs matplotlib, an optional dependency (``pip install "multitask[plot]"``);
``import multitask`` does not import it, ``import multitask.plotting`` does.
Every ``plot_*`` function draws on the given ``ax`` (or on a new figure's axes)
and returns the axes (:func:`plot_cv_curve` and :func:`plot_regularization_path`,
the pictures of model selection, are defined in ``multitask._selection_plots``);
:func:`task_order`, :func:`task_scores` and
:func:`task_score_differences` compute what the pictures show, without matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import squareform
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score
from sklearn.utils.validation import check_consistent_length, check_is_fitted

try:
    import matplotlib  # noqa: F401 - pyplot itself is imported by the functions that open a figure
except ImportError as error:
    raise ImportError(
        'multitask.plotting needs matplotlib, an optional dependency: pip install "multitask[plot]"'
    ) from error

from ._plot_common import new_axes as _new_axes
from ._plot_common import require as _require
from ._relation_steps import correlation
from ._selection_plots import plot_cv_curve, plot_regularization_path
from ._input import as_task_list, check_tasks, group_rows
from .coupling import _as_square_matrix, _check_symmetric, _symmetrised, from_task_kernel
from .model_selection import _task_targets

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "plot_cv_curve",
    "plot_objective_history",
    "plot_regularization_path",
    "plot_task_relations",
    "plot_task_score_differences",
    "task_order",
    "task_score_differences",
    "task_scores",
]

MAX_TICK_LABELS = 40  # tasks beyond this many get no tick labels (they would overlap)

ORDERS = ("clusters", None)

SCORINGS: dict[str, Callable[[Any, Any], float]] = {
    "r2": r2_score,
    "neg_mean_squared_error": lambda y_true, y_pred: -mean_squared_error(y_true, y_pred),
    "accuracy": accuracy_score,
}


# --------------------------------------------------------------------------------------------
# Task relations
# --------------------------------------------------------------------------------------------


def _is_estimator(relations: Any) -> bool:
    return any(hasattr(relations, name) for name in ("fit", "task_correlation_", "coupling_"))


def _relation_matrix(relations: Any) -> tuple[NDArray[np.float64], bool]:
    """The (T, T) matrix to show and whether it is a correlation matrix (entries in [-1, 1])."""
    if not _is_estimator(relations):
        matrix = _as_square_matrix(relations, "relations")
        _check_symmetric(matrix, "relations", 1e-10)
        matrix = _symmetrised(matrix)
        return matrix, bool(np.max(np.abs(matrix)) <= 1.0)
    if hasattr(relations, "task_correlation_"):
        matrix = _as_square_matrix(relations.task_correlation_, "relations.task_correlation_")
        _check_symmetric(matrix, "relations.task_correlation_", 1e-10)
        return _symmetrised(matrix), True
    if hasattr(relations, "coupling_"):
        try:
            covariance = from_task_kernel(relations.coupling_, name="coupling_")
        except ValueError as error:
            raise ValueError(
                f"relations: its task covariance B = K^-1 needs an invertible coupling_ K ({error}); pass a task "
                "correlation matrix instead"
            ) from None
        return correlation(covariance), True
    check_is_fitted(relations)  # NotFittedError (a ValueError) for an estimator not fitted yet
    raise ValueError(
        f"relations: {type(relations).__name__} has neither task_correlation_ nor coupling_; pass a fitted "
        "multi-task estimator or a (T, T) matrix"
    )


def _cluster_labels(relations: Any, clusters: ArrayLike | None, n_tasks: int) -> NDArray[np.intp] | None:
    """Cluster index 0..k-1 of every task (from ``clusters`` or the estimator's ``clusters_``), or None."""
    name = "clusters"
    if clusters is None and _is_estimator(relations) and hasattr(relations, "clusters_"):
        clusters, name = relations.clusters_, "relations.clusters_"
    if clusters is None:
        return None
    labels = np.asarray(clusters)
    if labels.ndim != 1 or labels.shape[0] != n_tasks:
        raise ValueError(f"{name} must hold one cluster label per task ({n_tasks}), got shape {labels.shape}")
    if labels.dtype.kind in "fc" and not np.all(np.isfinite(labels)):
        raise ValueError(f"{name} contains NaN or infinity")
    try:
        return np.unique(labels, return_inverse=True)[1].reshape(-1)
    except TypeError as error:
        raise ValueError(f"{name} must hold labels of one sortable type: {error}") from None


def _hierarchical_order(correlation: NDArray[np.float64]) -> NDArray[np.intp]:
    """Leaf order of average-linkage clustering on the distance 1 - correlation (optimal leaf ordering)."""
    n_tasks = correlation.shape[0]
    if n_tasks < 3:
        return np.arange(n_tasks)
    distance = np.clip(1.0 - correlation, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(_symmetrised(distance), checks=False), method="average", optimal_ordering=True)
    return leaves_list(tree).astype(np.intp)


def _order(matrix: NDArray[np.float64], clusters: NDArray[np.intp] | None) -> NDArray[np.intp]:
    if clusters is not None:
        return np.argsort(clusters, kind="stable")
    return _hierarchical_order(correlation(matrix))


def task_order(relations: Any, clusters: ArrayLike | None = None) -> NDArray[np.intp]:
    """The order of the tasks that groups related tasks: the permutation :func:`plot_task_relations` uses.

    With cluster labels (``clusters``, or else the estimator's ``clusters_``),
    the tasks grouped by cluster in increasing label order, tasks within a
    cluster in their original order (a stable sort). Without, the leaf order of
    scipy's average-linkage hierarchical clustering of the tasks on the distance
    ``1 - correlation`` (``linkage(..., optimal_ordering=True)``, which also
    puts neighbouring leaves close), so that blocks of correlated tasks come
    out contiguous.

    Parameters
    ----------
    relations : estimator or array-like of shape (T, T)
        A fitted estimator with ``task_correlation_`` (used as it is) or
        ``coupling_`` K (the correlation of the task covariance B = K^-1), or a
        symmetric matrix of task relations (normalised to unit diagonal for the
        distance).
    clusters : array-like of shape (T,), default=None
        Cluster label of every task; None uses the estimator's ``clusters_``
        when it has them.

    Returns
    -------
    order : ndarray of shape (T,)
        A permutation of 0..T-1: ``order[i]`` is the task shown at position i.

    Raises
    ------
    ValueError
        Naming the argument: ``relations`` not a finite symmetric square matrix,
        an estimator with neither attribute or with a singular ``coupling_``;
        ``clusters`` of the wrong length.
    """
    matrix, _ = _relation_matrix(relations)
    return _order(matrix, _cluster_labels(relations, clusters, matrix.shape[0]))


def _task_labels(relations: Any, labels: ArrayLike | None, n_tasks: int) -> NDArray[Any]:
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (n_tasks,):
            raise ValueError(f"labels must hold one label per task ({n_tasks}), got shape {labels.shape}")
        return labels
    tasks = getattr(relations, "tasks_", None) if _is_estimator(relations) else None
    if tasks is not None and np.shape(tasks) == (n_tasks,):
        return np.asarray(tasks)
    return np.arange(n_tasks)


def _set_task_ticks(ax: Axes, names: NDArray[Any], axes: str) -> None:
    """Tick labels ``names`` on the given axes ("x" or "xy"); none for more than MAX_TICK_LABELS tasks."""
    show = names.size <= MAX_TICK_LABELS
    positions = np.arange(names.size) if show else []
    text = [str(name) for name in names] if show else []
    ax.set_xticks(positions, text, rotation=90)
    if "y" in axes:
        ax.set_yticks(positions, text)


def plot_task_relations(
    relations: Any,
    *,
    clusters: ArrayLike | None = None,
    labels: ArrayLike | None = None,
    order: str | None = "clusters",
    ax: Axes | None = None,
    cmap: Any = "RdBu_r",
) -> Axes:
    """Heatmap of the relations between tasks, related tasks side by side.

    The matrix is drawn with ``imshow`` (tasks in the order of
    :func:`task_order`, or as given), with a colorbar; a correlation (any
    matrix with entries in [-1, 1]) on the fixed colour range [-1, 1], another
    matrix on [-m, m] with m its largest absolute entry. With cluster labels,
    lines separate the clusters.

    Parameters
    ----------
    relations : estimator or array-like of shape (T, T)
        A fitted estimator with ``task_correlation_`` (e.g.
        ``TaskRelationRegressor``) or with ``coupling_`` K (any kernel-coupled
        estimator: the correlation of the task covariance B = K^-1 is shown),
        or a symmetric matrix of task relations.
    clusters : array-like of shape (T,), default=None
        Cluster label of every task; None uses the estimator's ``clusters_``
        when it has them.
    labels : array-like of shape (T,), default=None
        Tick label of every task; None uses the estimator's ``tasks_``
        (0..T-1 for a matrix). Ticks are labelled only for T <= 40.
    order : {"clusters"} or None, default="clusters"
        ``"clusters"``: the order of :func:`task_order` (grouped by cluster, or
        by hierarchical clustering without cluster labels). None: as given.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; None draws on a new figure.
    cmap : str or matplotlib.colors.Colormap, default="RdBu_r"
        The colormap.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on; ``ax.images[0].get_array()`` is the reordered matrix.

    Raises
    ------
    ValueError
        Naming the argument: ``relations`` not a finite symmetric square matrix,
        an estimator with neither attribute or with a singular ``coupling_``;
        ``clusters`` or ``labels`` of the wrong length; an unknown ``order``.

    Examples
    --------
    >>> import numpy as np
    >>> import multitask.plotting as mtp
    >>> correlation = np.array([[1.0, 0.1, 0.8], [0.1, 1.0, 0.2], [0.8, 0.2, 1.0]])
    >>> ax = mtp.plot_task_relations(correlation, clusters=[0, 1, 0])
    >>> ax.images[0].get_array()[0, 1].item()  # tasks 0 and 2 side by side
    0.8
    """
    if order not in ORDERS:
        raise ValueError(f"order must be 'clusters' or None, got {order!r}")
    matrix, is_correlation = _relation_matrix(relations)
    n_tasks = matrix.shape[0]
    cluster_index = _cluster_labels(relations, clusters, n_tasks)
    names = _task_labels(relations, labels, n_tasks)
    permutation = _order(matrix, cluster_index) if order == "clusters" else np.arange(n_tasks)
    shown = matrix[np.ix_(permutation, permutation)]

    ax = _new_axes() if ax is None else ax
    limit = 1.0 if is_correlation else float(np.max(np.abs(matrix))) or 1.0
    image = ax.imshow(shown, cmap=cmap, vmin=-limit, vmax=limit, interpolation="nearest")
    ax.figure.colorbar(image, ax=ax, label="correlation" if is_correlation else None)
    if cluster_index is not None and order == "clusters":
        sorted_clusters = cluster_index[permutation]
        for boundary in np.flatnonzero(np.diff(sorted_clusters)) + 0.5:
            ax.axhline(boundary, color="black", linewidth=1.0)
            ax.axvline(boundary, color="black", linewidth=1.0)
    _set_task_ticks(ax, names[permutation], "xy")
    ax.set_xlabel("task")
    ax.set_ylabel("task")
    return ax


# --------------------------------------------------------------------------------------------
# Objective history
# --------------------------------------------------------------------------------------------


def plot_objective_history(model: Any, *, ax: Axes | None = None, relative: bool = True) -> Axes:
    """The objective F of a fit, entry by entry of its ``objective_history_``.

    Parameters
    ----------
    model : estimator
        A fitted estimator with ``objective_history_`` (per solver iteration
        for the kernel-coupled estimators, per outer iteration for those that
        alternate).
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; None draws on a new figure.
    relative : bool, default=True
        Plot the gap ``F_k - min_k F_k`` on a log scale, gaps below
        ``eps * max(|min F|, tiny)`` (the minimum's own entry among them) drawn
        at that floor. False: F itself on a linear scale.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on; ``ax.lines[0]`` holds the curve (x: the entry index k).

    Raises
    ------
    ValueError
        If ``model`` has no ``objective_history_`` (NotFittedError before
        ``fit``), or it is empty, not 1-D or not finite.
    """
    _require(model, "objective_history_", "model")
    history = np.asarray(model.objective_history_, dtype=np.float64)
    if history.ndim != 1 or history.size == 0:
        raise ValueError(f"model.objective_history_ must be a non-empty 1-D array, got shape {history.shape}")
    if not np.all(np.isfinite(history)):
        raise ValueError("model.objective_history_ contains NaN or infinity")

    ax = _new_axes() if ax is None else ax
    iterations = np.arange(history.size)
    marker = "o" if history.size <= 50 else None
    if relative:
        smallest = float(history.min())
        floor = max(np.finfo(np.float64).eps * abs(smallest), np.finfo(np.float64).tiny)
        ax.semilogy(iterations, np.maximum(history - smallest, floor), marker=marker)
        ax.set_ylabel("F_k - min F")
    else:
        ax.plot(iterations, history, marker=marker)
        ax.set_ylabel("objective F")
    ax.set_xlabel("k (entry of objective_history_)")
    ax.set_title(f"{type(model).__name__}: {history.size} entries")
    return ax


# --------------------------------------------------------------------------------------------
# Per-task scores
# --------------------------------------------------------------------------------------------


def _metric(scoring: Any) -> Callable[[Any, Any], float]:
    if callable(scoring):
        return scoring
    if isinstance(scoring, str) and scoring in SCORINGS:
        return SCORINGS[scoring]
    raise ValueError(f"scoring must be one of {sorted(SCORINGS)} or a callable (y_true, y_pred), got {scoring!r}")


def _per_task_pairs(model: Any, X: Any, y: Any, tasks: Any) -> list[tuple[Any, Any]]:
    """(y_t, prediction_t) of every task of ``model.tasks_``, in that order, for the three input forms."""
    predictions = model.predict(X) if tasks is None else model.predict(X, tasks=tasks)
    n_tasks = len(model.tasks_)
    if isinstance(predictions, list):  # lists: X[t] is task t
        targets = _task_targets(y, [prediction.shape[0] for prediction in predictions])
        return list(zip(targets, predictions))
    y = as_task_list(y)
    y = np.asarray(y)
    if tasks is not None:  # long format: rows grouped by their label's position in tasks_
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D with the tasks argument (long format), got shape {y.shape}")
        check_consistent_length(y, predictions)
        positions = np.searchsorted(model.tasks_, check_tasks(tasks, y.shape[0]))  # predict checked the labels
        return [(y[rows], predictions[rows]) for rows in group_rows(positions, n_tasks)]
    predictions = np.asarray(predictions)  # shared design: column t is task t
    if predictions.ndim == 1:
        predictions = predictions[:, None]
    if y.ndim == 1:
        y = y[:, None]
    if y.shape != predictions.shape:
        raise ValueError(f"y has shape {y.shape} but the model predicts {predictions.shape} for X")
    return [(y[:, t], predictions[:, t]) for t in range(n_tasks)]


def task_scores(model: Any, X: Any, y: Any, tasks: ArrayLike | None = None, scoring: Any = "r2") -> NDArray[np.float64]:
    """The score of a fitted multi-task model on every task separately.

    The predictions are ``model.predict`` of ``X`` (with ``tasks`` in the long
    format); task t's score compares its rows only.

    Parameters
    ----------
    model : estimator
        A fitted multi-task estimator (``tasks_`` and ``predict``).
    X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
        Test data in one of the three input forms: one matrix per task (in the
        order of ``tasks_``); rows labelled by ``tasks`` (long format); or rows
        shared by every task (shared design).
    y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T)
        True targets in the form matching ``X``.
    tasks : array-like of shape (n_samples,), default=None
        Task label of every row (long format).
    scoring : {"r2", "neg_mean_squared_error", "accuracy"} or callable, default="r2"
        The metric, scikit-learn's of that name, or ``scoring(y_true, y_pred) -> float``.

    Returns
    -------
    scores : ndarray of shape (T,)
        Score of every task, in the order of ``model.tasks_``; NaN for a task
        without rows in the long format.

    Raises
    ------
    ValueError
        For an unknown ``scoring``, targets ``y`` not matching ``X`` in form or
        length, and the errors of ``model.predict`` (NotFittedError before fit).
    """
    metric = _metric(scoring)
    _require(model, "tasks_", "model")
    return np.array(
        [float(metric(y_t, p_t)) if len(y_t) else np.nan for y_t, p_t in _per_task_pairs(model, X, y, tasks)],
        dtype=np.float64,
    )


def task_score_differences(
    model: Any, reference: Any, X: Any, y: Any, tasks: ArrayLike | None = None, scoring: Any = "r2"
) -> NDArray[np.float64]:
    """Per-task score of ``model`` minus that of ``reference``: where multi-task learning helps.

    Parameters
    ----------
    model : estimator
        A fitted multi-task estimator.
    reference : estimator
        A fitted multi-task estimator on the same tasks (the same ``tasks_``),
        e.g. independent models (``coupling="identity"``).
    X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
        Test data in one of the three input forms, as for :func:`task_scores`.
    y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T)
        True targets in the form matching ``X``.
    tasks : array-like of shape (n_samples,), default=None
        Task label of every row (long format).
    scoring : {"r2", "neg_mean_squared_error", "accuracy"} or callable, default="r2"
        The metric, as for :func:`task_scores` (greater is better).

    Returns
    -------
    differences : ndarray of shape (T,)
        ``task_scores(model) - task_scores(reference)``, in the order of ``tasks_``.

    Raises
    ------
    ValueError
        If the two models were fitted on different tasks (naming ``reference``),
        and the errors of :func:`task_scores`.
    """
    _require(model, "tasks_", "model")
    _require(reference, "tasks_", "reference")
    if not np.array_equal(np.asarray(model.tasks_), np.asarray(reference.tasks_)):
        raise ValueError(
            f"reference was fitted on other tasks than model: {len(reference.tasks_)} tasks "
            f"{np.asarray(reference.tasks_)[:5].tolist()}... against {len(model.tasks_)} "
            f"{np.asarray(model.tasks_)[:5].tolist()}...; fit both on the same tasks"
        )
    return task_scores(model, X, y, tasks, scoring) - task_scores(reference, X, y, tasks, scoring)


def plot_task_score_differences(
    model: Any,
    reference: Any,
    X: Any,
    y: Any,
    tasks: ArrayLike | None = None,
    scoring: Any = "r2",
    ax: Axes | None = None,
    labels: ArrayLike | None = None,
) -> Axes:
    """Bar chart of the per-task score differences of ``model`` over ``reference``, sorted.

    One bar per task (:func:`task_score_differences`, in increasing order, NaN
    last), a line at zero, and a title stating how many tasks improve (a
    difference above 0).

    Parameters
    ----------
    model : estimator
        A fitted multi-task estimator.
    reference : estimator
        A fitted multi-task estimator on the same tasks.
    X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
        Test data in one of the three input forms, as for :func:`task_scores`.
    y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T)
        True targets in the form matching ``X``.
    tasks : array-like of shape (n_samples,), default=None
        Task label of every row (long format).
    scoring : {"r2", "neg_mean_squared_error", "accuracy"} or callable, default="r2"
        The metric, as for :func:`task_scores` (greater is better).
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; None draws on a new figure.
    labels : array-like of shape (T,), default=None
        Tick label of every task; None uses ``model.tasks_``. Ticks are
        labelled only for T <= 40.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on; ``ax.patches`` are the bars, in the sorted order.

    Raises
    ------
    ValueError
        For ``labels`` of the wrong length, and the errors of
        :func:`task_score_differences`.
    """
    differences = task_score_differences(model, reference, X, y, tasks, scoring)
    names = _task_labels(model, labels, differences.size)
    order = np.argsort(differences, kind="stable")  # NaN last
    shown = differences[order]

    ax = _new_axes() if ax is None else ax
    colors = np.where(shown > 0, "tab:blue", "tab:red")
    ax.bar(np.arange(shown.size), shown, color=colors)
    ax.axhline(0.0, color="black", linewidth=1.0)
    _set_task_ticks(ax, names[order], "x")
    metric = scoring if isinstance(scoring, str) else getattr(scoring, "__name__", "score")
    ax.set_xlabel("task (sorted by difference)")
    ax.set_ylabel(f"{metric}: model - reference")
    improved = int(np.sum(shown > 0))
    counted = int(np.sum(np.isfinite(shown)))
    ax.set_title(f"{improved} of {counted} tasks improve")
    return ax
