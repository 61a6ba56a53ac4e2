"""The grid of a cross-validated linear model: which weight varies, its default values, and the fits along it.

Shared by :class:`~multitask.KernelCoupledRegressorCV` and
:class:`~multitask.KernelCoupledClassifierCV`. Every fit of a grid is the
model ``clone(estimator).set_params(**{name: value}).fit(train)`` would give
(to the solver's tolerance); the grid is fitted from the most regularised value
down, each fit starting at the previous solution.
"""

from __future__ import annotations

import copy
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.utils._param_validation import Interval, StrOptions

from ._cv_search import CVData, GridScores, checked_grid, cv_data, cv_folds, fold_scorer, store_search

__all__ = [
    "CV_PARAMETERS",
    "GRID_PENALTIES",
    "LinearModelSearch",
    "default_grid",
    "fit_grid_warm",
    "grid_parameter",
    "search_constraints",
]

# The weight the grid varies -> the estimator's parameter holding it.
GRID_PENALTIES = {"coupling": "alpha", "l1": "l1", "l21": "l21", "trace_norm": "trace_norm"}

# The parameters of the search, not of the plain estimator.
CV_PARAMETERS = ("alphas", "penalty", "min_ratio", "cv", "scoring", "verbose")

# The default coupling grid, relative to the data's scale (see default_grid).
COUPLING_GRID_DECADES = (1.0, -6.0)


def grid_parameter(penalty: str) -> str:
    """The estimator parameter that ``penalty`` names ("coupling" -> "alpha")."""
    return GRID_PENALTIES[penalty]


def _coupling_scale(estimator: Any, data: CVData) -> float:
    r"""The scale of the loss's curvature per unit of coupling: the data's mean weighted variance over diag(K).

    The smooth part's Hessian in w_t is :math:`s_t \tilde X_t^\top \tilde X_t`
    (s_t = omega_t / N) and the coupling's :math:`\alpha K_{tt} I`; the grid is
    placed around the alpha at which the two are of one size.
    """
    from ._input import to_task_blocks
    from ._task_weights import per_sample_weights
    from .coupling import resolve_coupling

    blocks = to_task_blocks(data.X, data.y, data.tasks, accept_sparse=True, labels=is_classifier(estimator))
    weights = per_sample_weights(estimator.task_weights, [block.shape[0] for block in blocks.X])
    total = 0.0
    for block, weight in zip(blocks.X, weights):
        block = block.toarray() if hasattr(block, "toarray") else np.asarray(block, dtype=np.float64)
        centred = block - block.mean(axis=0) if estimator.fit_intercept else block
        total += float(weight) * float(np.sum(centred**2))
    K = resolve_coupling(estimator.coupling, blocks.n_tasks)
    scale = total / blocks.X[0].shape[1] / max(float(np.mean(np.diag(K))), np.finfo(float).tiny)
    return scale if np.isfinite(scale) and scale > 0 else 1.0


def default_grid(estimator: Any, data: CVData, penalty: str, n_values: int, min_ratio: float) -> np.ndarray:
    """``n_values`` weights, decreasing and log-spaced.

    For a structure penalty: from :func:`multitask.penalty_max` on all the
    data (the smallest weight with W = 0) down to ``min_ratio`` times it. For
    the coupling: 10 down to 1e-6 times the data's scale (the mean over
    features of the task-weighted, centred sum of squares per sample, over the
    mean of diag(K)).
    """
    if penalty == "coupling":
        high, low = COUPLING_GRID_DECADES
        return _coupling_scale(estimator, data) * np.logspace(high, low, n_values)
    from ._path import penalty_max

    value_max = penalty_max(estimator, data.X, data.y, tasks=data.tasks, penalty=penalty)
    if not value_max > 0:
        raise ValueError(f"the {penalty} weight that zeroes every coefficient is {value_max}: the targets are "
                         "constant (or fitted by the intercepts alone), so there is nothing to select")
    return value_max * np.logspace(0, np.log10(min_ratio), n_values)


def fit_grid_warm(estimator: Any, train: CVData, name: str, values: np.ndarray) -> list[Any]:
    """Fitted copies of ``estimator`` at every value of ``name``, in the order of ``values``.

    Fitted from the largest value (the most regularised) down, each fit
    warm-started at the previous one.
    """
    model = clone(estimator).set_params(warm_start=True)
    fitted: list[Any] = [None] * len(values)
    for j in np.argsort(-np.asarray(values), kind="stable"):
        model.set_params(**{name: float(values[j])}).fit(train.X, train.y, **train.fit_params())
        snapshot = copy.deepcopy(model)
        snapshot.set_params(warm_start=estimator.get_params()["warm_start"])
        fitted[j] = snapshot
    return fitted


def search_constraints(plain_class: type, cv_options: set[str] = frozenset()) -> dict:
    """The parameter constraints of a *CV estimator: the plain class's (without warm_start) and the search's."""
    cv = [Interval(Integral, 2, None, closed="left"), "cv_object", "array-like"]
    return {
        **{key: value for key, value in plain_class._parameter_constraints.items() if key != "warm_start"},
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "penalty": [StrOptions(set(GRID_PENALTIES))],
        "min_ratio": [Interval(Real, 0, 1, closed="neither")],
        "cv": cv + ([StrOptions(set(cv_options))] if cv_options else []),
        "scoring": [str, callable, None],
        "verbose": ["verbose"],
    }


def grid_scores_at_once(models: list, test: CVData, scoring: Any) -> np.ndarray | None:
    """The R² (``scoring`` None or "r2") or -MSE of every regressor of a grid, from one pass over the test rows.

    Each model's ``score`` would validate the test rows and predict on its own;
    here the predictions of the whole grid come from one product per task. The
    same numbers as the scorers up to round-off. None where this does not
    apply (a classifier, another scoring, a test task unknown to the models).
    """
    from ._input import check_tasks, group_rows

    if is_classifier(models[0]) or not (scoring is None or scoring in ("r2", "neg_mean_squared_error")):
        return None
    first = models[0]
    X = first._check_design(test.X, "X")
    coefs = np.stack([model.coef_ for model in models])  # (n_values, T, d)
    intercepts = np.stack([model.intercept_ for model in models])  # (n_values, T)
    if test.tasks is None:  # a shared design: every row for every task
        predictions = np.asarray(X @ coefs.reshape(-1, coefs.shape[2]).T).reshape(X.shape[0], *intercepts.shape)
        predictions = predictions.transpose(1, 0, 2) + intercepts[:, None, :]  # (n_values, n, T)
        if first._input_form == "single":
            predictions = predictions[:, :, 0]
    else:
        try:
            index = first._task_positions(check_tasks(test.tasks, X.shape[0]))
        except ValueError:
            return None  # a task the fold did not train: the scorer says so
        predictions = np.empty((len(models), X.shape[0]))
        for t, rows in enumerate(group_rows(index, coefs.shape[1])):
            if rows.size:
                predictions[:, rows] = np.asarray(X[rows] @ coefs[:, t, :].T).T + intercepts[:, t, None]
    if not np.all(np.isfinite(predictions)):
        return None  # the scorer raises the package's error for non-finite predictions
    y = np.asarray(test.y, dtype=np.float64)
    residuals = (predictions - y) ** 2  # (n_values, n) or (n_values, n, T)
    if scoring == "neg_mean_squared_error":  # the mean over outputs of each output's mean: all entries alike
        return -residuals.reshape(len(models), -1).mean(axis=1)
    # R² per output, averaged over outputs (scikit-learn's r2_score with its defaults: a constant
    # output scores 1 when predicted exactly, else 0).
    numerator = residuals.sum(axis=1)
    denominator = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(denominator > 0, 1.0 - numerator / denominator, np.where(numerator == 0, 1.0, 0.0))
    return r2.reshape(len(models), -1).mean(axis=1)


class LinearModelSearch:
    """The search of a *CV linear model; mixed in before the plain estimator's class (``_plain_class``)."""

    _plain_class: type
    warm_start = False  # read by the plain estimator's fit: the refit starts from zero

    def _plain_estimator(self) -> Any:
        """The plain estimator with this one's parameters (no search)."""
        params = {key: value for key, value in self.get_params(deep=False).items() if key not in CV_PARAMETERS}
        return self._plain_class(**params)

    def _search(self, X: Any, y: Any, tasks: Any) -> None:
        """Cross-validate the grid, choose, and refit the choice on all the data."""
        estimator = self._plain_estimator()
        name = grid_parameter(self.penalty)
        data = cv_data(X, y, tasks)
        values = self._grid(estimator, data)
        grid, n_splits = self._scores(estimator, data, name, values)
        self._store_search(grid, n_splits, estimator, X, y, tasks)

    def _grid(self, estimator: Any, data: CVData) -> np.ndarray:
        if isinstance(self.alphas, Integral):
            return default_grid(estimator, data, self.penalty, int(self.alphas), float(self.min_ratio))
        return checked_grid(self.alphas, "alphas")

    def _scores(self, estimator: Any, data: CVData, name: str, values: np.ndarray) -> tuple[GridScores, int]:
        """The test scores of the grid on every fold of ``cv``, and the number of folds."""
        folds = cv_folds(self.cv, data, classifier=is_classifier(self))
        grid = GridScores.one_parameter(name, values, len(folds))
        score = fold_scorer(self.scoring)
        for k, (train, test) in enumerate(folds):
            models = self._fit_grid(estimator, data.subset(train), name, values)
            test_data = data.subset(test)
            scores = grid_scores_at_once(models, test_data, self.scoring)
            grid.scores[k] = scores if scores is not None else [score(model, test_data) for model in models]
            if self.verbose:
                j = int(np.nanargmax(grid.scores[k]))
                print(f"[fold {k + 1}/{len(folds)}] best {name}={values[j]:.3e} (score {grid.scores[k, j]:.4f})")
        return grid, len(folds)

    def _fit_grid(self, estimator: Any, train: CVData, name: str, values: np.ndarray) -> list[Any]:
        """Every value of the grid fitted on ``train`` (subclasses take shortcuts where the maths allows)."""
        return fit_grid_warm(estimator, train, name, values)

    def _store_search(self, grid: GridScores, n_splits: int, estimator: Any, X: Any, y: Any, tasks: Any) -> None:
        """The search's results and refit (:func:`store_search`), and ``alpha_``, ``alphas_``."""
        store_search(self, grid, n_splits, estimator, X, y, tasks)
        ((name, self.alpha_),) = self.best_params_.items()
        self.alphas_ = np.array([candidate[name] for candidate in grid.candidates])
