"""What the cross-validated estimators share: the folds, the scoring, and ``cv_results_``.

A *CV estimator fits every value of a grid on every training fold (quickly:
one path per fold) and scores every fit on the fold's test rows. The folds,
the scores and the choice are those of ``GridSearchCV`` over the plain
estimator with the same splitter: the tests check it to 1e-8.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Any, Callable

import numpy as np
from scipy.stats import rankdata
from sklearn.base import clone
from scipy import sparse
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.utils import assert_all_finite
from sklearn.utils.multiclass import type_of_target
from sklearn.utils import _safe_indexing

from ._input import as_task_list, is_list_form

__all__ = ["CVData", "GridScores", "checked_grid", "cv_data", "cv_folds", "fold_scorer", "store_search"]


@dataclass(frozen=True)
class CVData:
    """The training data of a search in one of the two forms that split by rows.

    Lists are stacked into the long format (tasks labelled 0..T-1), as
    ``multitask.model_selection.GridSearchCV`` does.
    """

    X: Any
    y: Any
    tasks: np.ndarray | None  # None: a shared design (or a single task)

    def subset(self, rows: np.ndarray) -> "CVData":
        """The rows ``rows`` (DataFrames, sparse matrices and arrays alike)."""
        tasks = None if self.tasks is None else self.tasks[rows]
        return CVData(_safe_indexing(self.X, rows), _safe_indexing(self.y, rows), tasks)

    def fit_params(self) -> dict:
        """The keyword arguments of ``fit``/``score`` besides X and y."""
        return {} if self.tasks is None else {"tasks": self.tasks}


def cv_data(X: Any, y: Any, tasks: Any) -> CVData:
    """``X, y, tasks`` as :class:`CVData`: lists stacked into the long format, task labels as an array."""
    from .model_selection import to_long_format

    if is_list_form(as_task_list(X)):
        if tasks is not None:
            raise ValueError("tasks must be None when X is a list of per-task matrices: a list position is the task")
        X, y, tasks = to_long_format(X, y)
    if y is None:
        raise ValueError("requires y to be passed, but the target y is None: the cross-validated estimators score "
                         "predictions against it")
    # Rows are taken by index for every fold: a CSR matrix or an array (a DataFrame keeps its columns).
    if sparse.issparse(X):
        X = X.tocsr()
    elif not hasattr(X, "iloc"):
        X = np.asarray(X)
    if not hasattr(y, "iloc"):
        y = np.asarray(y)
    if np.asarray(y).dtype.kind in "fc":  # before any splitter reads y (labels may be strings)
        assert_all_finite(y, input_name="y")
    return CVData(X, y, None if tasks is None else np.asarray(tasks))


def checked_grid(values: Any, name: str, count_allowed: bool = True) -> np.ndarray:
    """``values`` as a non-empty 1-D float64 array of finite values > 0; ValueError naming ``name`` otherwise."""
    grid = np.asarray(values, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(grid <= 0):
        what = "a positive int or " if count_allowed else ""
        raise ValueError(f"{name} must be {what}a non-empty 1-D array of finite values > 0, got {values!r}")
    return grid


def cv_folds(cv: Any, data: CVData, classifier: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train and test rows of every fold.

    ``cv``: an int (number of folds) or None (5): :class:`TaskKFold` within
    every task for the long format; for a shared design what ``GridSearchCV``
    uses, scikit-learn's ``StratifiedKFold`` for a classifier of one target
    and ``KFold`` otherwise (no shuffling); a splitter with ``split`` (given
    ``groups=tasks``); or an iterable of (train, test) index arrays.
    """
    from .model_selection import TaskKFold

    if cv is None or (isinstance(cv, Integral) and not isinstance(cv, bool)):
        n_splits = 5 if cv is None else int(cv)
        if n_splits < 2:
            raise ValueError(f"cv must be at least 2 folds, got {cv!r}")
        if data.tasks is not None:
            cv = TaskKFold(n_splits)
        elif classifier and type_of_target(data.y) in ("binary", "multiclass"):
            cv = StratifiedKFold(n_splits)
        else:
            cv = KFold(n_splits)
    if hasattr(cv, "split"):
        folds = list(cv.split(data.X, data.y, groups=data.tasks))
    else:
        try:
            folds = list(cv)
        except TypeError:
            raise ValueError(f"cv must be an int, a splitter with split(), or an iterable of (train, test) index "
                             f"arrays, got {cv!r}") from None
    if not folds:
        raise ValueError("cv gave no folds")
    return [(np.asarray(train), np.asarray(test)) for train, test in folds]


def fold_scorer(scoring: Any) -> Callable[[Any, CVData], float]:
    """``score(model, test)``: the model's own ``score`` (``scoring=None``) or a scorer, given the task labels."""
    from .model_selection import _task_scoring

    if scoring is None:
        return lambda model, test: float(model.score(test.X, test.y, **test.fit_params()))
    if isinstance(scoring, (dict, list, tuple, set)):
        raise ValueError("scoring must be one metric (a name or a callable): a *CV estimator chooses by one score")
    scorer = _task_scoring(scoring)
    return lambda model, test: float(scorer(model, test.X, test.y, **test.fit_params()))


class GridScores:
    """The test scores of a grid of candidates, fold by fold, and ``cv_results_`` in ``GridSearchCV``'s format.

    ``candidates``: one dict of parameter values per candidate, in the order
    ``GridSearchCV`` would try them (scikit-learn's ``ParameterGrid``: the
    parameter names sorted, the last one varying fastest).
    """

    def __init__(self, candidates: list[dict], n_folds: int) -> None:
        self.candidates = candidates
        self.scores = np.full((n_folds, len(candidates)), np.nan)

    @classmethod
    def one_parameter(cls, name: str, values: np.ndarray, n_folds: int) -> "GridScores":
        """The grid of one parameter's values."""
        return cls([{name: float(value)} for value in values], n_folds)

    def results(self) -> dict:
        """``cv_results_``: params, param_<name>, split<k>_test_score, mean/std/rank_test_score."""
        results: dict[str, Any] = {"params": [dict(candidate) for candidate in self.candidates]}
        for name in sorted({name for candidate in self.candidates for name in candidate}):
            values = [candidate.get(name) for candidate in self.candidates]
            mask = [name not in candidate for candidate in self.candidates]
            results[f"param_{name}"] = np.ma.MaskedArray(np.array(values, dtype=object), mask=mask)
        for k in range(self.scores.shape[0]):
            results[f"split{k}_test_score"] = self.scores[k].copy()
        means = self.scores.mean(axis=0)
        results["mean_test_score"] = means
        results["std_test_score"] = self.scores.std(axis=0)
        # As GridSearchCV: the best mean ranks 1, ties share the smaller rank, NaN ranks last.
        finite = np.where(np.isnan(means), np.nanmin(means) - 1 if np.any(~np.isnan(means)) else 0, means)
        results["rank_test_score"] = rankdata(-finite, method="min").astype(np.int32)
        return results

    def best_index(self) -> int:
        """The first candidate of the best mean score (GridSearchCV's ``best_index_``)."""
        means = self.scores.mean(axis=0)
        if np.all(np.isnan(means)):
            raise ValueError("every fit of the grid scored NaN: no value can be chosen")
        return int(np.nanargmax(means))


def store_search(search: Any, grid: GridScores, n_splits: int, plain: Any, X: Any, y: Any, tasks: Any) -> None:
    """The search's results on ``search``, then the refit of the choice on all the data.

    Sets ``cv_results_``, ``best_index_``, ``best_params_``, ``best_score_``,
    ``n_splits_``, and the fitted state (every attribute that is not a
    parameter) of ``plain`` (the plain estimator) refitted with ``best_params_``.
    """
    search.cv_results_ = grid.results()
    search.best_index_ = grid.best_index()
    search.best_params_ = dict(grid.candidates[search.best_index_])
    search.best_score_ = float(search.cv_results_["mean_test_score"][search.best_index_])
    search.n_splits_ = n_splits
    refit = clone(plain).set_params(**search.best_params_)
    refit.fit(X, y, **({} if tasks is None else {"tasks": tasks}))
    parameters = refit.get_params(deep=False)
    for key, value in vars(refit).items():  # the fitted state, public and private
        if key not in parameters:
            setattr(search, key, value)
