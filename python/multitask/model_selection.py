"""Cross-validation of multi-task models: splitting within every task, and searches that pass ``tasks`` on.

scikit-learn's model selection splits the *rows* of X. That is right for a shared
design (every row belongs to every task) and wrong for the other two forms:

* a **list of tasks** would be split by position, i.e. by task (the estimators
  refuse it with a ValueError); convert it with :func:`to_long_format`;
* the **long format** needs the task label of every held-out row at
  ``predict``/``score``, and every task in every training fold. :class:`TaskKFold`
  splits within every task; :class:`GridSearchCV` and :class:`RandomizedSearchCV`
  (scikit-learn's, with ``fit(X, y, tasks=...)``) use it by default and pass the
  labels to ``fit``, the scoring and ``predict`` without the global metadata-routing
  configuration; :func:`cross_validate`, :func:`cross_val_score` and :func:`cross_val_predict`
  do the same for scores and out-of-fold predictions. All of them also take the list form
  (stacked by :func:`to_long_format`).

:func:`train_test_split_tasks` holds out a fraction of every task, in all three forms.
"""

from __future__ import annotations

from collections.abc import Iterator
from math import ceil, floor
from numbers import Integral, Real
from typing import Any

import numpy as np
from scipy import sparse
from sklearn import config_context
from sklearn import model_selection as _sk
from sklearn.base import clone
from sklearn.model_selection import BaseCrossValidator, KFold
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import HasMethods, RealNotInt, StrOptions, validate_params
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._base import MultiTaskInputMixin
from ._cv_guard import LIST_SPLIT_MESSAGE
from ._input import as_task_list, is_list_form, reject_malformed_task_list
from ._validation import POSITIVE_INT, NumberInterval
from .metrics import TaskScorer, make_task_scorer

__all__ = [
    "GridSearchCV",
    "RandomizedSearchCV",
    "TaskKFold",
    "cross_val_predict",
    "cross_val_score",
    "cross_validate",
    "to_long_format",
    "train_test_split_tasks",
]

_TASK_METHODS = ("fit", "predict", "score", "decision_function", "predict_proba", "predict_log_proba")


# ---------------------------------------------------------------- conversions


def _label(label: Any) -> Any:
    """A task label as a Python scalar, for messages (numpy 2 writes np.str_('a') otherwise)."""
    return label.item() if isinstance(label, np.generic) else label


def _n_rows(X: Any) -> int:
    return int(X.shape[0]) if hasattr(X, "shape") else len(X)


def _task_targets(y: Any, n_rows: list[int]) -> list[np.ndarray]:
    """The per-task targets of a list form, each 1-D ((n_t, 1) columns accepted)."""
    y = as_task_list(y)
    if not isinstance(y, (list, tuple)) or len(y) != len(n_rows):
        raise ValueError(f"X is a list of {len(n_rows)} tasks, so y must be a list of {len(n_rows)} per-task targets")
    targets = []
    for t, target in enumerate(y):
        target = np.asarray(target)
        if target.ndim == 2 and target.shape[1] == 1:
            target = target[:, 0]
        if target.ndim != 1 or target.shape[0] != n_rows[t]:
            raise ValueError(f"y[{t}] has shape {target.shape} but X[{t}] has {n_rows[t]} rows")
        targets.append(target)
    return targets


@validate_params(
    {"X": ["array-like"], "y": ["array-like", None], "task_labels": ["array-like", None]},
    prefer_skip_nested_validation=True,
)
def to_long_format(X: Any, y: Any = None, *, task_labels: Any = None) -> tuple[Any, Any, np.ndarray]:
    """Stack a list of per-task data into the long format ``(X, y, tasks)``.

    Parameters
    ----------
    X : list of array-like or sparse of shape (n_t, n_features)
        One matrix per task (a list, tuple or ``scipy.io.loadmat`` cell array).
        DataFrames (all with the same columns) are stacked into one DataFrame.
    y : list of array-like of shape (n_t,) or (n_t, 1), default=None
        The per-task targets.
    task_labels : array-like of shape (T,), default=None
        The label of each task; 0..T-1 by default. A model fitted on the result
        stores the labels sorted in ``tasks_``, so with the default its tasks keep
        the list order (and predicting on the list form still works).

    Returns
    -------
    X_long : ndarray, DataFrame or CSR matrix of shape (N, n_features)
        The tasks' rows one after another (N = sum of n_t).
    y_long : ndarray of shape (N,) or None
        The targets in the same order (None without ``y``).
    tasks : ndarray of shape (N,)
        The task label of every row.

    Raises
    ------
    ValueError
        When X is not a list of 2-D per-task matrices, or the tasks' feature
        counts, columns or target lengths disagree (naming ``X[t]``/``y[t]``).

    Examples
    --------
    >>> import numpy as np
    >>> from multitask.model_selection import to_long_format
    >>> X, y, tasks = to_long_format([np.ones((2, 3)), np.zeros((1, 3))], [np.ones(2), np.zeros(1)])
    >>> X.shape, y.tolist(), tasks.tolist()
    ((3, 3), [1.0, 1.0, 0.0], [0, 0, 1])
    """
    X = as_task_list(X)
    if not is_list_form(X):
        reject_malformed_task_list(X, y)
        raise ValueError("X must be a list of per-task matrices of shape (n_t, n_features)")
    n_rows = [_n_rows(block) for block in X]
    n_features = [block.shape[1] if hasattr(block, "shape") else np.shape(block)[1] for block in X]
    for t in range(1, len(X)):
        if n_features[t] != n_features[0]:
            raise ValueError(f"X[{t}] has {n_features[t]} features but X[0] has {n_features[0]}")
    labels = np.arange(len(X)) if task_labels is None else np.asarray(task_labels)
    if labels.shape != (len(X),):
        raise ValueError(f"task_labels must hold one label per task ({len(X)}), got shape {labels.shape}")
    if np.unique(labels).size != labels.size:
        raise ValueError("task_labels must be distinct")
    tasks = np.repeat(labels, n_rows)
    y_long = None if y is None else np.concatenate(_task_targets(y, n_rows))
    if all(hasattr(block, "columns") and hasattr(block, "iloc") for block in X):
        import pandas as pd  # only reached with DataFrames, so pandas is there

        for t in range(1, len(X)):
            if not X[t].columns.equals(X[0].columns):
                raise ValueError(f"X[{t}] has other columns than X[0]: every task's DataFrame needs the same columns")
        return pd.concat(list(X), ignore_index=True), y_long, tasks
    if any(sparse.issparse(block) for block in X):
        return sparse.vstack([sparse.csr_matrix(block) for block in X], format="csr"), y_long, tasks
    return np.vstack([np.asarray(block) for block in X]), y_long, tasks


# ------------------------------------------------------------------ splitter


class TaskKFold(BaseCrossValidator):
    """K-fold cross-validation within every task (long format).

    The rows of every task are split into ``n_splits`` folds of (nearly) equal
    size, and fold k of the whole data is fold k of every task: every task is in
    every training fold, with the same share of its rows (about
    (n_splits - 1) / n_splits), and in every test fold when it has at least
    ``n_splits`` rows. The remainders of the tasks are spread over the folds so
    that the folds have nearly equal sizes.

    The task labels are the ``groups`` of ``split``. With scikit-learn's
    metadata routing enabled, ``groups`` is requested under the name ``tasks``,
    so ``cross_validate(..., params={"tasks": tasks})`` and
    ``GridSearchCV(...).fit(X, y, tasks=tasks)`` give the splitter the same labels
    as the estimator (change it with ``set_split_request(groups=...)``). Without
    routing pass them as ``groups=tasks``.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.
    shuffle : bool, default=False
        Shuffle the rows of every task before splitting (otherwise the folds
        are consecutive rows of each task, in their order in X).
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling; only with ``shuffle=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from multitask.model_selection import TaskKFold
    >>> tasks = np.array(["a"] * 4 + ["b"] * 2)
    >>> [test.tolist() for _, test in TaskKFold(n_splits=2).split(np.zeros((6, 1)), groups=tasks)]
    [[0, 1, 4], [2, 3, 5]]
    """

    __metadata_request__split = {"groups": "tasks"}

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False, random_state: Any = None) -> None:
        if not isinstance(n_splits, Integral) or isinstance(n_splits, bool) or n_splits < 2:
            raise ValueError(f"n_splits must be an integer of at least 2, got {n_splits!r}")
        if not isinstance(shuffle, (bool, np.bool_)):
            raise ValueError(f"shuffle must be True or False, got {shuffle!r}")
        if not shuffle and random_state is not None:
            raise ValueError("random_state has no effect without shuffle=True: leave it None or set shuffle=True")
        self.n_splits = int(n_splits)
        self.shuffle = bool(shuffle)
        self.random_state = random_state

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Return the number of folds, ``n_splits``.

        Parameters
        ----------
        X : object, default=None
            Ignored.
        y : object, default=None
            Ignored.
        groups : object, default=None
            Ignored.

        Returns
        -------
        n_splits : int
            The number of folds.
        """
        return self.n_splits

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Train and test row indices of every fold.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The long-format rows (only their number is used).
        y : array-like of shape (n_samples,), default=None
            Ignored.
        groups : array-like of shape (n_samples,)
            The task label of every row (required).

        Yields
        ------
        train, test : ndarray
            Row indices, in increasing order.

        Raises
        ------
        ValueError
            Without ``groups``, for list-form X, or when a task has a single row
            (it could not be both trained on and tested).
        """
        if is_list_form(as_task_list(X)):
            raise ValueError(LIST_SPLIT_MESSAGE)
        if groups is None:
            raise ValueError(
                "groups: TaskKFold splits within every task and needs the task label of every row, "
                "split(X, y, groups=tasks); with metadata routing it receives the 'tasks' passed to "
                "cross_validate(params={'tasks': tasks}) or GridSearchCV.fit(X, y, tasks=tasks)"
            )
        groups = np.asarray(groups)
        n_samples = _n_rows(X)
        if groups.shape != (n_samples,):
            raise ValueError(f"groups must hold one task label per row of X ({n_samples}), got shape {groups.shape}")
        labels, task_index = np.unique(groups, return_inverse=True)
        rng = check_random_state(self.random_state) if self.shuffle else None
        fold_of = np.empty(n_samples, dtype=np.intp)
        offset = 0  # where the next task's remainder rows go, so that the folds stay balanced
        for t, label in enumerate(labels):
            rows = np.flatnonzero(task_index == t)
            if rows.size < 2:
                raise ValueError(
                    f"groups: task {_label(label)!r} has a single row; every task needs at least 2 rows to be in every "
                    "training fold and in a test fold"
                )
            if rng is not None:
                rows = rng.permutation(rows)
            sizes = np.full(self.n_splits, rows.size // self.n_splits)
            remainder = rows.size % self.n_splits
            sizes[(offset + np.arange(remainder)) % self.n_splits] += 1
            offset = (offset + remainder) % self.n_splits
            fold_of[rows] = np.repeat(np.arange(self.n_splits), sizes)
        for fold in range(self.n_splits):
            yield np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold)


# --------------------------------------------------------- train/test split


def _split_sizes(n: int, test_size: float, train_size: float | None, name: str) -> tuple[int, int]:
    n_test = ceil(test_size * n)
    n_train = floor(train_size * n) if train_size is not None else n - n_test
    if n_test < 1 or n_train < 1:
        raise ValueError(
            f"{name} has {n} rows: with test_size={test_size} (train_size={train_size}) it would have "
            f"{n_train} training and {n_test} test rows; every task needs at least one of each"
        )
    return n_train, n_test


def _check_fraction(value: Any, name: str, allow_none: bool) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value < 1:
        raise ValueError(
            f"{name} must be a fraction in (0, 1) of every task's rows for the list and long formats, got {value!r}"
        )
    return float(value)


def _task_split(
    n: int, test_size: float, train_size: float | None, rng: Any, name: str
) -> tuple[np.ndarray, np.ndarray]:
    n_train, n_test = _split_sizes(n, test_size, train_size, name)
    order = rng.permutation(n) if rng is not None else np.arange(n)
    return np.sort(order[:n_train]), np.sort(order[n_train : n_train + n_test])


# A fraction of the rows, or (shared design only, as in scikit-learn) a number of rows.
_SPLIT_SIZE = [NumberInterval(RealNotInt, 0, 1, closed="neither"), POSITIVE_INT]


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like", "sparse matrix", None],
        "tasks": ["array-like", None],
        "test_size": _SPLIT_SIZE,
        "train_size": [*_SPLIT_SIZE, None],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def train_test_split_tasks(
    X: Any,
    y: Any = None,
    tasks: Any = None,
    *,
    test_size: float = 0.25,
    train_size: float | None = None,
    shuffle: bool = True,
    random_state: Any = None,
) -> list:
    """Split multi-task data into a training and a test part, within every task.

    Parameters
    ----------
    X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
        Any of the three input forms: per-task matrices (a list or a loadmat
        cell array), long-format rows (with ``tasks``), or a shared design.
    y : list of array-like, or array-like of shape (n_samples,) or (n_samples, T), default=None
        Targets in the form matching ``X``.
    tasks : array-like of shape (n_samples,), default=None
        Task label of every row (long format).
    test_size : float, default=0.25
        The fraction of every task's rows in the test part (rounded up, as
        scikit-learn's ``train_test_split`` does). For a shared design it is
        passed to ``train_test_split`` and may also be an int.
    train_size : float, default=None
        The fraction of every task's rows in the training part (rounded down);
        None: the rest.
    shuffle : bool, default=True
        Draw the rows at random within every task; otherwise the first rows of
        every task train and the following ones test.
    random_state : int, RandomState instance or None, default=None
        Seeds the draw.

    Returns
    -------
    list
        Lists: ``[X_train, X_test, y_train, y_test]``, lists of per-task arrays
        (without y: ``[X_train, X_test]``). Long format: ``[X_train, X_test,
        y_train, y_test, tasks_train, tasks_test]``, rows in their original
        order. Shared design: ``[X_train, X_test, Y_train, Y_test]`` from
        scikit-learn's ``train_test_split``.

    Raises
    ------
    ValueError
        For sizes outside (0, 1), or a task too small to have a row in both parts.

    Examples
    --------
    >>> import numpy as np
    >>> from multitask.model_selection import train_test_split_tasks
    >>> Xs, ys = [np.ones((8, 2)), np.ones((4, 2))], [np.ones(8), np.ones(4)]
    >>> X_train, X_test, y_train, y_test = train_test_split_tasks(Xs, ys, random_state=0)
    >>> [len(x) for x in X_train], [len(x) for x in X_test]
    ([6, 3], [2, 1])
    """
    X = as_task_list(X)
    rng = check_random_state(random_state) if shuffle else None
    if tasks is None and not is_list_form(X):
        reject_malformed_task_list(X, y)
        arrays = [X] if y is None else [X, y]
        return _sk.train_test_split(
            *arrays, test_size=test_size, train_size=train_size, shuffle=shuffle, random_state=random_state
        )
    test_size = _check_fraction(test_size, "test_size", allow_none=False)
    train_size = _check_fraction(train_size, "train_size", allow_none=True)
    if train_size is not None and train_size + test_size > 1:
        raise ValueError(f"train_size + test_size must be at most 1, got {train_size} + {test_size}")
    if tasks is None:
        n_rows = [_n_rows(block) for block in X]
        targets = None if y is None else as_task_list(y)
        if targets is not None and (not isinstance(targets, (list, tuple)) or len(targets) != len(X)):
            raise ValueError(f"X is a list of {len(X)} tasks, so y must be a list of {len(X)} per-task targets")
        result: list = [[], [], [], []]
        for t, n in enumerate(n_rows):
            train, test = _task_split(n, test_size, train_size, rng, f"task {t} (X[{t}])")
            result[0].append(_safe_indexing(X[t], train))
            result[1].append(_safe_indexing(X[t], test))
            if targets is not None:
                if _n_rows(targets[t]) != n:
                    raise ValueError(f"y[{t}] has {_n_rows(targets[t])} values but X[{t}] has {n} rows")
                result[2].append(_safe_indexing(targets[t], train))
                result[3].append(_safe_indexing(targets[t], test))
        return result if targets is not None else result[:2]
    tasks = np.asarray(tasks)
    if tasks.shape != (_n_rows(X),):
        raise ValueError(f"tasks must hold one label per row of X ({_n_rows(X)}), got shape {tasks.shape}")
    labels, task_index = np.unique(tasks, return_inverse=True)
    train_rows, test_rows = [], []
    for t, label in enumerate(labels):
        rows = np.flatnonzero(task_index == t)
        train, test = _task_split(rows.size, test_size, train_size, rng, f"task {_label(label)!r}")
        train_rows.append(rows[train])
        test_rows.append(rows[test])
    train, test = np.sort(np.concatenate(train_rows)), np.sort(np.concatenate(test_rows))
    result = [_safe_indexing(X, train), _safe_indexing(X, test)]
    if y is not None:
        result += [_safe_indexing(y, train), _safe_indexing(y, test)]
    return result + [tasks[train], tasks[test]]


# ------------------------------------------------------------ task routing


def _request_tasks(estimator: Any) -> Any:
    """``estimator`` with ``tasks`` requested by every multitask estimator in it, where it is not set yet.

    Needs metadata routing enabled (``set_*_request`` refuses otherwise).
    """
    nested = [estimator]
    if hasattr(estimator, "get_params"):
        nested += list(estimator.get_params(deep=True).values())
    for part in nested:
        if not isinstance(part, MultiTaskInputMixin):
            continue
        routing = part.get_metadata_routing()
        for method in _TASK_METHODS:
            setter = getattr(part, f"set_{method}_request", None)
            if setter is not None and getattr(routing, method).requests.get("tasks", "absent") is None:
                setter(tasks=True)
    return estimator


def _task_cv(cv: Any) -> Any:
    if cv is None:
        return TaskKFold()
    if isinstance(cv, Integral) and not isinstance(cv, bool):
        return TaskKFold(n_splits=int(cv))
    return cv


def _task_scoring(scoring: Any) -> Any:
    if scoring is None or isinstance(scoring, TaskScorer):
        return scoring
    if isinstance(scoring, str):
        return make_task_scorer(scoring)
    if callable(scoring):
        return TaskScorer(scoring)
    if isinstance(scoring, dict):
        return {name: _task_scoring(value) for name, value in scoring.items()}
    return {name: make_task_scorer(name) for name in scoring}  # a list or tuple of names


def _best_has(method: str) -> Any:
    def check(search: Any) -> bool:
        estimator = getattr(search, "best_estimator_", search.estimator)
        getattr(estimator, method)  # AttributeError when it does not have it
        return True

    return check


class _TaskSearchMixin:
    """``fit(X, y, tasks=...)`` and prediction methods with ``tasks`` for scikit-learn's searches."""

    def fit(self, X: Any, y: Any = None, *, tasks: Any = None, **params: Any) -> Any:
        """Run the search; with ``tasks`` (long format) within every task, passing each fold its labels.

        Parameters
        ----------
        X : list of array-like (n_t, d), or array-like of shape (n_samples, n_features)
            Per-task matrices (a list or cell array: stacked by
            :func:`to_long_format`, tasks labelled 0..T-1, and then searched as
            the long format), long-format rows (with ``tasks``) or a shared design.
        y : list of array-like, or array-like of shape (n_samples,) or (n_samples, T), default=None
            Targets in the form matching ``X``.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row. With it, the search runs under metadata
            routing (whatever the global setting): a clone of ``estimator``
            requests ``tasks`` for fit, score and the prediction methods (in
            every multitask estimator inside it, e.g. a Pipeline's last step,
            unless already set), ``cv=None`` or an int becomes
            :class:`TaskKFold` with that many folds, and a named or callable
            ``scoring`` becomes :func:`~multitask.metrics.make_task_scorer` of it.
            Without it, scikit-learn's search as it is.
        **params
            Other metadata, routed as scikit-learn routes it.

        Returns
        -------
        self : object
            The fitted search.
        """
        if tasks is None and is_list_form(as_task_list(X)):
            X, y, tasks = to_long_format(X, y)
        if tasks is None:
            return super().fit(X, y, **params)
        if is_list_form(as_task_list(X)):
            raise ValueError("tasks must be None when X is a list of per-task matrices: a list position is the task")
        originals = (self.estimator, self.cv, self.scoring)
        try:
            with config_context(enable_metadata_routing=True):
                self.estimator = _request_tasks(clone(self.estimator))
                self.cv = _task_cv(self.cv)
                self.scoring = _task_scoring(self.scoring)
                super().fit(X, y, tasks=tasks, **params)
        finally:
            self.estimator, self.cv, self.scoring = originals
        return self

    def _call_best(self, method: str, X: Any, tasks: Any) -> Any:
        if tasks is None and not is_list_form(as_task_list(X)):
            return getattr(super(), method)(X)
        check_is_fitted(self)
        if not hasattr(self, "best_estimator_"):
            raise AttributeError(f"{method} is not available with refit=False: refit the best model to use it")
        with config_context(enable_metadata_routing=True):
            return getattr(self.best_estimator_, method)(X, tasks=tasks)

    @available_if(_best_has("predict"))
    def predict(self, X: Any, tasks: Any = None) -> Any:
        """Predict with ``best_estimator_``, passing it ``tasks``.

        Parameters
        ----------
        X : list of array-like (n_t, d), or array-like of shape (n_samples, n_features)
            The rows to predict: per-task matrices (a list is returned), or
            rows labelled by ``tasks``, or a shared design.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row (long format); None for lists and a shared design.

        Returns
        -------
        ndarray
            ``best_estimator_.predict(X, tasks=tasks)``.
        """
        return self._call_best("predict", X, tasks)

    @available_if(_best_has("decision_function"))
    def decision_function(self, X: Any, tasks: Any = None) -> Any:
        """Decision values of ``best_estimator_``, passing it ``tasks``.

        Parameters
        ----------
        X : list of array-like (n_t, d), or array-like of shape (n_samples, n_features)
            The rows to evaluate, in any input form (as for :meth:`predict`).
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row (long format); None for lists and a shared design.

        Returns
        -------
        ndarray
            ``best_estimator_.decision_function(X, tasks=tasks)``.
        """
        return self._call_best("decision_function", X, tasks)

    @available_if(_best_has("predict_proba"))
    def predict_proba(self, X: Any, tasks: Any = None) -> Any:
        """Class probabilities of ``best_estimator_``, passing it ``tasks``.

        Parameters
        ----------
        X : list of array-like (n_t, d), or array-like of shape (n_samples, n_features)
            The rows to evaluate, in any input form (as for :meth:`predict`).
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row (long format); None for lists and a shared design.

        Returns
        -------
        ndarray
            ``best_estimator_.predict_proba(X, tasks=tasks)``.
        """
        return self._call_best("predict_proba", X, tasks)

    @available_if(_best_has("predict_log_proba"))
    def predict_log_proba(self, X: Any, tasks: Any = None) -> Any:
        """Log class probabilities of ``best_estimator_``, passing it ``tasks``.

        Parameters
        ----------
        X : list of array-like (n_t, d), or array-like of shape (n_samples, n_features)
            The rows to evaluate, in any input form (as for :meth:`predict`).
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row (long format); None for lists and a shared design.

        Returns
        -------
        ndarray
            ``best_estimator_.predict_log_proba(X, tasks=tasks)``.
        """
        return self._call_best("predict_log_proba", X, tasks)

    def score(self, X: Any, y: Any = None, *, tasks: Any = None, **params: Any) -> float:
        """Score ``best_estimator_`` on ``X`` with the search's scoring (the refit metric), predicting with ``tasks``.

        Parameters
        ----------
        X : list of array-like (n_t, d), or array-like of shape (n_samples, n_features)
            The test rows, in any input form (lists are scored as their rows pooled).
        y : list of array-like, or array-like of shape (n_samples,) or (n_samples, T), default=None
            Their targets, in the form matching ``X``.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row (long format); None for a shared design.
        **params
            Other metadata for the scorer.

        Returns
        -------
        score : float
            The score of ``best_estimator_`` (greater is better).
        """
        if tasks is None and is_list_form(as_task_list(X)):
            X, y, tasks = to_long_format(X, y)  # scored as in the search: the tasks' rows pooled
        if tasks is None:
            return super().score(X, y, **params)
        check_is_fitted(self)
        if not hasattr(self, "best_estimator_"):
            raise AttributeError("score is not available with refit=False: refit the best model to use it")
        scorer = self.scorer_[self.refit] if isinstance(self.scorer_, dict) else self.scorer_
        with config_context(enable_metadata_routing=True):
            return scorer(self.best_estimator_, X, y, tasks=tasks, **params)


class GridSearchCV(_TaskSearchMixin, _sk.GridSearchCV):
    """Exhaustive search over a parameter grid that takes task lists and the long format.

    scikit-learn's ``GridSearchCV``, with task labels: with ``fit(X, y,
    tasks=...)``, or ``fit(Xs, ys)`` with lists (stacked by :func:`to_long_format`,
    tasks 0..T-1), the search splits within every task (``cv=None`` or an int
    means :class:`TaskKFold`), passes every fold its rows' task labels to ``fit``
    and to the scoring (a named metric becomes
    :func:`~multitask.metrics.make_task_scorer` of it), whatever the global
    metadata-routing setting; :meth:`predict`, :meth:`score`,
    :meth:`decision_function` and :meth:`predict_proba` then take lists or
    ``tasks=`` too. For a shared design it is scikit-learn's search unchanged.

    Parameters
    ----------
    estimator : estimator
        A multitask estimator, or a Pipeline ending in one. It is cloned, never
        modified (the clone requests ``tasks`` where its requests are unset).
    param_grid : dict or list of dict
        Parameter names mapped to the values to try, as in scikit-learn.
    scoring : str, callable, list, tuple or dict, default=None
        As in scikit-learn. With ``tasks`` at :meth:`fit`, a scoring name or a
        callable scorer ``f(estimator, X, y)`` is wrapped by
        :func:`~multitask.metrics.make_task_scorer` (a list or dict: each of
        them), so that its predictions get the task labels; None is the
        estimator's ``score`` with ``tasks``.
    n_jobs : int, default=None
        Number of jobs running the fits in parallel (joblib), as in scikit-learn.
    refit : bool, str or callable, default=True
        Refit the best parameters on all the data (``best_estimator_``), as in
        scikit-learn; a metric name for multi-metric scoring.
    cv : int, cross-validation generator or iterable, default=None
        With ``tasks``: None or an int means :class:`TaskKFold` with 5 or that
        many folds; a splitter receives ``tasks`` as ``groups`` when it requests
        them (``TaskKFold``, ``GroupKFold``...). Without ``tasks``: scikit-learn's
        meaning (``KFold``/``StratifiedKFold``).
    verbose : int, default=0
        Verbosity, as in scikit-learn.
    pre_dispatch : int or str, default="2*n_jobs"
        Number of jobs dispatched during parallel execution, as in scikit-learn.
    error_score : "raise" or float, default=np.nan
        Score of a fit that fails, as in scikit-learn.
    return_train_score : bool, default=False
        Also score the training folds, as in scikit-learn.

    Attributes
    ----------
    cv_results_ : dict of ndarray
        One entry per candidate and fold (``split0_test_score``, ...,
        ``mean_test_score``, ``params``...), as in scikit-learn.
    best_estimator_ : estimator
        The estimator refitted with the best parameters on all the data (with
        ``tasks`` requested where the search set the requests).
    best_score_ : float
        Mean cross-validated score of the best parameters.
    best_params_ : dict
        The best parameters.
    best_index_ : int
        Index of the best candidate in ``cv_results_``.
    scorer_ : callable or dict
        The scorer(s) used (a :class:`~multitask.metrics.TaskScorer` when a
        named scoring was wrapped).
    n_splits_ : int
        Number of cross-validation folds.
    refit_time_ : float
        Seconds taken by the refit on all the data.
    multimetric_ : bool
        Whether several metrics were scored.
    n_features_in_ : int
        Number of features seen at fit (that of ``best_estimator_``).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names seen at fit, when X was a DataFrame with string column
        names (those of ``best_estimator_``).

    Examples
    --------
    >>> import multitask as mt
    >>> from multitask.model_selection import GridSearchCV, to_long_format
    >>> Xs, ys, _ = mt.datasets.make_multitask_regression(3, [30, 40, 50], 4, random_state=0)
    >>> X, y, tasks = to_long_format(Xs, ys)
    >>> search = GridSearchCV(mt.KernelCoupledRegressor(), {"alpha": [1e-3, 1e-1]}, cv=3).fit(X, y, tasks=tasks)
    >>> search.predict(X, tasks=tasks).shape
    (120,)
    """


class RandomizedSearchCV(_TaskSearchMixin, _sk.RandomizedSearchCV):
    """Randomized parameter search that takes task lists and the long format.

    scikit-learn's ``RandomizedSearchCV`` with the task handling of
    :class:`GridSearchCV`: with ``tasks`` at :meth:`fit` it splits within every
    task and passes the labels to ``fit``, the scoring and the prediction methods.

    Parameters
    ----------
    estimator : estimator
        A multitask estimator, or a Pipeline ending in one (cloned, never modified).
    param_distributions : dict or list of dict
        Parameter names mapped to distributions or lists to sample, as in scikit-learn.
    n_iter : int, default=10
        Number of parameter settings sampled.
    scoring : str, callable, list, tuple or dict, default=None
        As in scikit-learn. With ``tasks`` at :meth:`fit`, a scoring name or a
        callable scorer ``f(estimator, X, y)`` is wrapped by
        :func:`~multitask.metrics.make_task_scorer` (a list or dict: each of
        them), so that its predictions get the task labels; None is the
        estimator's ``score`` with ``tasks``.
    n_jobs : int, default=None
        Number of jobs running the fits in parallel (joblib), as in scikit-learn.
    refit : bool, str or callable, default=True
        Refit the best parameters on all the data (``best_estimator_``), as in
        scikit-learn; a metric name for multi-metric scoring.
    cv : int, cross-validation generator or iterable, default=None
        With ``tasks``: None or an int means :class:`TaskKFold` with 5 or that
        many folds; a splitter receives ``tasks`` as ``groups`` when it requests
        them (``TaskKFold``, ``GroupKFold``...). Without ``tasks``: scikit-learn's
        meaning (``KFold``/``StratifiedKFold``).
    verbose : int, default=0
        Verbosity, as in scikit-learn.
    pre_dispatch : int or str, default="2*n_jobs"
        Number of jobs dispatched during parallel execution, as in scikit-learn.
    random_state : int, RandomState instance or None, default=None
        Seeds the sampling of the parameters, as in scikit-learn.
    error_score : "raise" or float, default=np.nan
        Score of a fit that fails, as in scikit-learn.
    return_train_score : bool, default=False
        Also score the training folds, as in scikit-learn.

    Attributes
    ----------
    cv_results_ : dict of ndarray
        One entry per candidate and fold (``split0_test_score``, ...,
        ``mean_test_score``, ``params``...), as in scikit-learn.
    best_estimator_ : estimator
        The estimator refitted with the best parameters on all the data (with
        ``tasks`` requested where the search set the requests).
    best_score_ : float
        Mean cross-validated score of the best parameters.
    best_params_ : dict
        The best parameters.
    best_index_ : int
        Index of the best candidate in ``cv_results_``.
    scorer_ : callable or dict
        The scorer(s) used (a :class:`~multitask.metrics.TaskScorer` when a
        named scoring was wrapped).
    n_splits_ : int
        Number of cross-validation folds.
    refit_time_ : float
        Seconds taken by the refit on all the data.
    multimetric_ : bool
        Whether several metrics were scored.
    n_features_in_ : int
        Number of features seen at fit (that of ``best_estimator_``).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names seen at fit, when X was a DataFrame with string column
        names (those of ``best_estimator_``).
    """


# ---------------------------------------------------- cross-validated scores


# The cross-validation functions fit clones of a user's estimator: its own parameter
# validation must run in them, so nested validation is not skipped.
_CV_CONSTRAINTS = {
    "estimator": [HasMethods("fit")],
    "X": ["array-like", "sparse matrix"],
    "y": ["array-like", "sparse matrix", None],
    "tasks": ["array-like", None],
    "cv": ["cv_object"],
}


@validate_params(
    {**_CV_CONSTRAINTS, "n_jobs": [Integral, None], "return_train_score": ["boolean"], "return_estimator": ["boolean"]},
    prefer_skip_nested_validation=False,
)
def cross_validate(
    estimator: Any,
    X: Any,
    y: Any = None,
    *,
    tasks: Any = None,
    cv: Any = None,
    scoring: Any = None,
    n_jobs: int | None = None,
    return_train_score: bool = False,
    return_estimator: bool = False,
    error_score: Any = np.nan,
) -> dict:
    """Cross-validate multi-task data in any input form, as scikit-learn's ``cross_validate``.

    Lists (or a cell array) are stacked by :func:`to_long_format` (tasks 0..T-1)
    and cross-validated as the long format; the long format (``tasks``) runs
    under metadata routing whatever the global setting, as in :class:`GridSearchCV`:
    the estimator (a clone) requests ``tasks``, ``cv=None`` or an int means
    :class:`TaskKFold`, and a scoring name or callable becomes
    :func:`~multitask.metrics.make_task_scorer` of it. A shared design goes to
    scikit-learn's ``cross_validate`` unchanged.

    Parameters
    ----------
    estimator : estimator
        A multitask estimator, or a Pipeline ending in one (cloned, never modified).
    X : list of array-like (n_t, d), or array-like of shape (n_samples, n_features)
        Per-task matrices, long-format rows (with ``tasks``) or a shared design.
    y : list of array-like, or array-like of shape (n_samples,) or (n_samples, T), default=None
        Targets in the form matching ``X``.
    tasks : array-like of shape (n_samples,), default=None
        Task label of every row (long format).
    cv : int, cross-validation generator or iterable, default=None
        Lists and long format: None or an int means :class:`TaskKFold` with 5
        or that many folds. Shared design: scikit-learn's meaning.
    scoring : str, callable, list, tuple or dict, default=None
        As in scikit-learn (None: the estimator's ``score``).
    n_jobs : int, default=None
        Number of jobs running the folds in parallel (joblib).
    return_train_score : bool, default=False
        Also score the training folds.
    return_estimator : bool, default=False
        Also return the fitted estimator of every fold.
    error_score : "raise" or float, default=np.nan
        Score of a fold whose fit fails, as in scikit-learn.

    Returns
    -------
    dict
        The result of scikit-learn's ``cross_validate``: ``test_score`` (or ``test_<name>`` per metric),
        ``fit_time``, ``score_time``, and the optional entries.

    Examples
    --------
    >>> import multitask as mt
    >>> from multitask.model_selection import cross_validate
    >>> Xs, ys, _ = mt.datasets.make_multitask_regression(3, [30, 40, 50], 4, random_state=0)
    >>> cross_validate(mt.KernelCoupledRegressor(), Xs, ys, cv=3, scoring="r2")["test_score"].shape
    (3,)
    """
    X = as_task_list(X)
    if tasks is None and is_list_form(X):
        X, y, tasks = to_long_format(X, y)
    options = {"n_jobs": n_jobs, "return_train_score": return_train_score, "return_estimator": return_estimator,
               "error_score": error_score}
    if tasks is None:
        reject_malformed_task_list(X, y)
        return _sk.cross_validate(estimator, X, y, cv=cv, scoring=scoring, **options)
    with config_context(enable_metadata_routing=True):
        return _sk.cross_validate(
            _request_tasks(clone(estimator)), X, y, cv=_task_cv(cv), scoring=_task_scoring(scoring),
            params={"tasks": np.asarray(tasks)}, **options
        )


@validate_params({**_CV_CONSTRAINTS, "n_jobs": [Integral, None]}, prefer_skip_nested_validation=False)
def cross_val_score(
    estimator: Any,
    X: Any,
    y: Any = None,
    *,
    tasks: Any = None,
    cv: Any = None,
    scoring: Any = None,
    n_jobs: int | None = None,
    error_score: Any = np.nan,
) -> np.ndarray:
    """Score multi-task data in any input form by cross-validation, as scikit-learn's ``cross_val_score``.

    See :func:`cross_validate` for how the three input forms are split.

    Parameters
    ----------
    estimator : estimator
        A multitask estimator, or a Pipeline ending in one (cloned, never modified).
    X : list of array-like (n_t, d), or array-like of shape (n_samples, n_features)
        Per-task matrices, long-format rows (with ``tasks``) or a shared design.
    y : list of array-like, or array-like of shape (n_samples,) or (n_samples, T), default=None
        Targets in the form matching ``X``.
    tasks : array-like of shape (n_samples,), default=None
        Task label of every row (long format).
    cv : int, cross-validation generator or iterable, default=None
        As for :func:`cross_validate`.
    scoring : str or callable, default=None
        One metric (None: the estimator's ``score``).
    n_jobs : int, default=None
        Number of jobs running the folds in parallel (joblib).
    error_score : "raise" or float, default=np.nan
        Score of a fold whose fit fails.

    Returns
    -------
    ndarray of shape (n_splits,)
        The score of every fold.
    """
    result = cross_validate(estimator, X, y, tasks=tasks, cv=cv, scoring=scoring, n_jobs=n_jobs,
                            error_score=error_score)
    return result["test_score"]


# ------------------------------------------------------- out-of-fold predictions


@validate_params(
    {**_CV_CONSTRAINTS, "method": [StrOptions({"predict", "decision_function", "predict_proba", "predict_log_proba"})]},
    prefer_skip_nested_validation=False,
)
def cross_val_predict(
    estimator: Any, X: Any, y: Any = None, *, tasks: Any = None, cv: Any = None, method: str = "predict"
) -> Any:
    """Out-of-fold predictions of every row, in any input form.

    scikit-learn's ``cross_val_predict`` never passes metadata to ``predict``, so
    it cannot predict the long format; this one does, fold by fold.

    Parameters
    ----------
    estimator : estimator
        A multitask estimator, or a Pipeline ending in one.
    X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
        Per-task matrices (split within every task, predictions returned as a
        list), long-format rows (with ``tasks``), or a shared design.
    y : list of array-like, or array-like of shape (n_samples,) or (n_samples, T), default=None
        Targets in the form matching ``X``.
    tasks : array-like of shape (n_samples,), default=None
        Task label of every row (long format).
    cv : int, splitter or iterable, default=None
        Lists and long format: None or an int means :class:`TaskKFold` (5 folds,
        or that many); a splitter gets the task labels as ``groups``. Shared
        design: scikit-learn's ``cross_val_predict`` with this ``cv``.
    method : {"predict", "decision_function", "predict_proba", "predict_log_proba"}, default="predict"
        The prediction method of the fitted models.

    Returns
    -------
    ndarray or list of ndarray
        The prediction of every row by the model fitted without its fold: in
        the order of the rows (long format, shared design), or per task (lists).

    Raises
    ------
    ValueError
        When the test folds do not partition the rows.
    """
    X = as_task_list(X)
    if tasks is None and not is_list_form(X):
        reject_malformed_task_list(X, y)
        return _sk.cross_val_predict(estimator, X, y, cv=KFold() if cv is None else cv, method=method)
    listed = tasks is None
    if listed:
        n_rows = [_n_rows(block) for block in X]
        X, y, tasks = to_long_format(X, y)
    tasks = np.asarray(tasks)
    splitter = _task_cv(cv)
    folds = list(splitter.split(X, y, groups=tasks)) if hasattr(splitter, "split") else list(splitter)
    counts = np.bincount(np.concatenate([test for _, test in folds]), minlength=_n_rows(X))
    if counts.shape[0] != _n_rows(X) or np.any(counts != 1):
        raise ValueError("cross_val_predict needs test folds that hold every row exactly once (a partition)")
    predictions = None
    with config_context(enable_metadata_routing=True):
        template = _request_tasks(clone(estimator))
        for train, test in folds:
            model = clone(template).fit(
                _safe_indexing(X, train), None if y is None else _safe_indexing(y, train), tasks=tasks[train]
            )
            fold = np.asarray(getattr(model, method)(_safe_indexing(X, test), tasks=tasks[test]))
            if predictions is None:
                predictions = np.empty((_n_rows(X), *fold.shape[1:]), dtype=fold.dtype)
            predictions[test] = fold
    if listed:
        return np.split(predictions, np.cumsum(n_rows)[:-1])
    return predictions
