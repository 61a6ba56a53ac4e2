"""Scorers that pass the task labels on to the estimator: named metrics for the long format.

scikit-learn's scorers (``scoring="r2"``, ``make_scorer(f)``) call ``predict(X)``
(or ``decision_function``/``predict_proba``) without metadata, so a model fitted
in the long format, which needs the task label of every row, cannot be scored by
them. :func:`make_task_scorer` wraps such a scorer: it requests ``tasks`` through
metadata routing and calls the estimator's prediction methods with
``tasks=...``; everything else (the metric, its sign, which prediction method,
``pos_label``) is scikit-learn's.
"""

from __future__ import annotations

from typing import Any, Callable

from sklearn.metrics import get_scorer, make_scorer
from sklearn.utils._param_validation import validate_params
from sklearn.utils.metadata_routing import MetadataRequest

__all__ = ["TaskScorer", "make_task_scorer"]

_PREDICTION_METHODS = ("predict", "decision_function", "predict_proba", "predict_log_proba")


class _WithTasks:
    """The estimator seen through its prediction methods with ``tasks`` bound; every other attribute is its own."""

    def __init__(self, estimator: Any, tasks: Any) -> None:
        self._estimator = estimator
        self._tasks = tasks

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._estimator, name)
        if name not in _PREDICTION_METHODS:
            return attribute

        def with_tasks(X: Any, **kwargs: Any) -> Any:
            return attribute(X, tasks=self._tasks, **kwargs)

        with_tasks.__name__ = name  # scikit-learn's scorers call the method found by its name
        return with_tasks


class TaskScorer:
    """A scikit-learn scorer that passes ``tasks`` to the estimator's prediction method.

    Made by :func:`make_task_scorer`. ``scorer(estimator, X, y, tasks=labels)``
    scores ``estimator`` with ``estimator.predict(X, tasks=labels)`` (or the
    scorer's ``decision_function``/``predict_proba``); without ``tasks`` it is
    the wrapped scorer itself. It requests ``tasks`` for ``score`` in scikit-learn's
    metadata routing, so ``GridSearchCV``/``cross_validate`` pass each test fold its
    task labels once routing is enabled (``sklearn.set_config(enable_metadata_routing=True)``).

    Parameters
    ----------
    scorer : callable
        A scikit-learn scorer ``scorer(estimator, X, y, sample_weight=None)``,
        e.g. from ``sklearn.metrics.get_scorer`` or ``make_scorer``.
    request_sample_weight : bool, default=False
        Also request ``sample_weight`` in metadata routing and pass it to the
        metric.
    """

    def __init__(self, scorer: Callable, request_sample_weight: bool = False) -> None:
        self.scorer = scorer
        self.request_sample_weight = request_sample_weight

    def __call__(self, estimator: Any, X: Any, y_true: Any, tasks: Any = None, sample_weight: Any = None) -> float:
        """The wrapped scorer's score of ``estimator`` on ``X``, predicting with ``tasks``.

        Parameters
        ----------
        estimator : estimator
            A fitted estimator whose prediction methods take ``tasks`` (any
            multitask estimator, a Pipeline ending in one when routing passes
            ``tasks`` on to its ``predict``, or :class:`multitask.model_selection.GridSearchCV`).
        X : array-like of shape (n_samples, n_features)
        y_true : array-like of shape (n_samples,)
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row; None scores without labels (shared design).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        target = estimator if tasks is None else _WithTasks(estimator, tasks)
        if sample_weight is None:
            return self.scorer(target, X, y_true)
        return self.scorer(target, X, y_true, sample_weight=sample_weight)

    def get_metadata_routing(self) -> MetadataRequest:
        """The metadata this scorer consumes: ``tasks`` (and ``sample_weight`` when requested) for ``score``.

        Returns
        -------
        sklearn.utils.metadata_routing.MetadataRequest
            The requests of the ``score`` method (this scorer's call).
        """
        request = MetadataRequest(owner=type(self).__name__)
        request.score.add_request(param="tasks", alias=True)
        request.score.add_request(param="sample_weight", alias=True if self.request_sample_weight else False)
        return request

    def _accept_sample_weight(self) -> bool:
        # scikit-learn's search asks scorers this when fit gets sample_weight without routing.
        return True

    def __repr__(self) -> str:
        return f"make_task_scorer({self.scorer!r})"


@validate_params(
    {
        "metric": [str, callable],
        "response_method": [str, list, tuple],
        "greater_is_better": ["boolean"],
        "request_sample_weight": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_task_scorer(
    metric: str | Callable,
    *,
    response_method: str | list[str] | tuple[str, ...] = "predict",
    greater_is_better: bool = True,
    request_sample_weight: bool = False,
    **kwargs: Any,
) -> TaskScorer:
    """A scorer for the long format: a named or callable metric whose predictions get ``tasks``.

    Parameters
    ----------
    metric : str or callable
        A scikit-learn scoring name (``"r2"``, ``"neg_mean_squared_error"``,
        ``"accuracy"``, ``"roc_auc"``, ...; see ``sklearn.metrics.get_scorer_names()``),
        or a metric function ``metric(y_true, y_pred, **kwargs)`` as for
        ``sklearn.metrics.make_scorer``.
    response_method : str or list of str, default="predict"
        For a callable ``metric``: the prediction method(s) whose output the
        metric takes, as in ``make_scorer``. Ignored for a name (its scorer knows).
    greater_is_better : bool, default=True
        For a callable ``metric``: whether higher is better (otherwise the score
        is the negated metric, as in ``make_scorer``).
    request_sample_weight : bool, default=False
        Request ``sample_weight`` in metadata routing too, and pass it to the metric.
    **kwargs
        For a callable ``metric``: extra keyword arguments of the metric.

    Returns
    -------
    TaskScorer
        ``scorer(estimator, X, y, tasks=labels)``; it requests ``tasks`` in
        metadata routing, so ``GridSearchCV(..., scoring=make_task_scorer("r2"))``
        scores every fold with its rows' task labels once routing is enabled.

    Raises
    ------
    ValueError
        For an unknown metric name, or ``kwargs`` with a metric name.

    Examples
    --------
    >>> import numpy as np, sklearn, multitask as mt
    >>> from multitask.metrics import make_task_scorer
    >>> rng = np.random.default_rng(0)
    >>> X, tasks = rng.normal(size=(40, 2)), np.repeat(["a", "b"], 20)
    >>> y = X @ [1.0, -1.0] + (tasks == "b")
    >>> model = mt.KernelCoupledRegressor(alpha=1e-6).fit(X, y, tasks=tasks)
    >>> scorer = make_task_scorer("neg_mean_squared_error")
    >>> bool(scorer(model, X, y, tasks=tasks) > -1e-6)
    True
    """
    if isinstance(metric, str):
        if kwargs:
            raise ValueError(
                f"metric={metric!r} is a scoring name, which takes no keyword arguments (got {sorted(kwargs)}); pass "
                "a metric function to set its arguments"
            )
        try:
            scorer = get_scorer(metric)
        except ValueError as error:
            raise ValueError(f"metric: {error}") from None
    else:
        scorer = make_scorer(metric, response_method=response_method, greater_is_better=greater_is_better, **kwargs)
    return TaskScorer(scorer, request_sample_weight=request_sample_weight)
