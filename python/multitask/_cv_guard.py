"""Refusing the ways scikit-learn's model selection would silently mis-handle multi-task data.

scikit-learn indexes ``X`` by position. For the list form that splits the *tasks*
(a list position is a task), and for the long format it passes ``tasks`` to
``fit`` but, without metadata routing or with a named scorer, never to
``predict``/``score``. These checks run at ``fit`` and ``predict`` time and look up
the call stack for the frames of ``sklearn.model_selection`` (which holds inside
joblib workers too, where those frames call the estimator), so the error comes
before any score is computed.
"""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

import numpy as np
from sklearn import get_config

__all__ = [
    "LIST_SPLIT_MESSAGE",
    "check_long_format_fit",
    "long_format_needs_tasks",
    "model_selection_frame",
    "refuse_split_task_list",
]

MODEL_SELECTION = "sklearn.model_selection"
VALIDATION = "sklearn.model_selection._validation"

LIST_SPLIT_MESSAGE = (
    "X is a list of per-task matrices, and scikit-learn's model selection (cross_val_score, cross_validate, "
    "cross_val_predict, GridSearchCV, ...) indexes a list by position: it has split the list of tasks, not the "
    "samples, so a fold would fit some tasks and score the others with their models. Split within every task "
    "instead: multitask.model_selection's GridSearchCV, RandomizedSearchCV, cross_validate, cross_val_score and "
    "cross_val_predict take the lists as they are; for scikit-learn's own tools convert them with X, y, tasks = "
    "multitask.model_selection.to_long_format(X, y) and use cv=multitask.model_selection.TaskKFold() with "
    "metadata routing (see the README section 'Cross-validation')."
)

ROUTING_ADVICE = (
    "Enable metadata routing (sklearn.set_config(enable_metadata_routing=True)) and request the labels with "
    "model.set_fit_request(tasks=True).set_score_request(tasks=True) (set_predict_request(tasks=True) for "
    "predict inside a Pipeline); a named metric needs scoring=multitask.metrics.make_task_scorer('r2'). "
    "multitask.model_selection.GridSearchCV/RandomizedSearchCV do all of this for you."
)


def _is_other_multitask_estimator(candidate: Any, estimator: Any) -> bool:
    return (
        candidate is not None
        and candidate is not estimator
        and type(candidate).__module__.startswith("multitask.")
        and hasattr(candidate, "_validate_feature_names")
    )


def model_selection_frame(
    estimator: Any, module_prefix: str = MODEL_SELECTION, function: str | None = None
) -> FrameType | None:
    """The innermost caller frame of a module under ``module_prefix`` (and named ``function``) that calls
    ``estimator`` itself, or None.

    None as well when another multitask estimator's method comes first up the stack: ``estimator`` is
    then an inner model of that one (e.g. the heads of ``SharedSubspaceRegressor``, fitted on lists
    whatever form the outer model was given), and the outer one is checked in its own call.
    """
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if (module == module_prefix or module.startswith(module_prefix + ".")) and (
            function is None or frame.f_code.co_name == function
        ):
            return frame
        if module.startswith("multitask.") and _is_other_multitask_estimator(frame.f_locals.get("self"), estimator):
            return None
        frame = frame.f_back
    return None


def refuse_split_task_list(estimator: Any) -> None:
    """ValueError when list-form X reaches ``estimator`` from scikit-learn's model selection."""
    if model_selection_frame(estimator) is not None:
        raise ValueError(LIST_SPLIT_MESSAGE)


def _tasks_names(estimator: Any) -> set[str]:
    """``tasks`` and the alias under which the estimator's ``fit`` requests it, if any."""
    names = {"tasks"}
    try:
        alias = estimator.get_metadata_routing().fit.requests.get("tasks")
    except Exception:  # noqa: BLE001 - routing introspection is best effort
        return names
    if isinstance(alias, str):
        names.add(alias)
    return names


def check_long_format_fit(estimator: Any, tasks: Any) -> None:
    """At ``fit(X, y, tasks=...)``: refuse a cross-validation that could not score with the task labels.

    Inside ``cross_val_predict``, which never passes metadata to ``predict``;
    inside ``cross_validate``/``GridSearchCV``/``learning_curve``... without
    metadata routing (scikit-learn then passes ``tasks`` to ``fit`` only), with
    a scoring that receives no task labels (a named metric such as ``"r2"``), or
    with a held-out fold holding tasks that the training fold (``tasks``) lacks.
    """
    if model_selection_frame(estimator, VALIDATION, "_fit_and_predict") is not None:
        raise ValueError(
            "scikit-learn's cross_val_predict passes tasks to fit but never to predict, so the held-out rows could "
            "not be predicted with their task's model. Use multitask.model_selection.cross_val_predict(model, X, "
            "y, tasks=tasks), which splits within every task (TaskKFold) and passes each fold its labels."
        )
    frame = model_selection_frame(estimator, VALIDATION)
    if frame is None:
        return
    if not get_config().get("enable_metadata_routing", False):
        raise ValueError(
            "fit received tasks from scikit-learn's model selection, but without metadata routing scikit-learn "
            "passes them to fit only, never to score or predict: every held-out score would be computed without "
            "the task labels (and fail). " + ROUTING_ADVICE
        )
    if frame.f_code.co_name != "_fit_and_score":
        return
    score_params = frame.f_locals.get("score_params") or {}
    names = _tasks_names(estimator) & set(score_params)
    if not names:
        raise ValueError(
            "fit received tasks from scikit-learn's model selection, but the scoring receives no task labels: a "
            "named metric (scoring='r2', 'accuracy', ...) or a scorer that does not request tasks calls "
            "predict(X) without them. Use scoring=multitask.metrics.make_task_scorer('r2') (any scoring name or "
            "metric function), or the default scoring with model.set_score_request(tasks=True)."
        )
    _check_held_out_tasks(score_params[sorted(names)[0]], frame.f_locals.get("test"), tasks)


def _check_held_out_tasks(all_tasks: Any, test: Any, train_tasks: Any) -> None:
    """ValueError when the held-out rows hold tasks that the training rows do not (they could not be predicted)."""
    if all_tasks is None or test is None or train_tasks is None:
        return
    try:
        missing = np.setdiff1d(np.unique(np.asarray(all_tasks)[test]), np.unique(np.asarray(train_tasks)))
    except (TypeError, IndexError, ValueError):  # labels of mixed types or an unexpected layout: predict will tell
        return
    if missing.size:
        shown = [label.item() if isinstance(label, np.generic) else label for label in missing[:5]]
        raise ValueError(
            f"the held-out fold holds tasks {shown} that its training fold lacks, so their rows could not be "
            "predicted: split within every task, cv=multitask.model_selection.TaskKFold(n_splits) (a plain KFold "
            "on rows sorted by task leaves whole tasks out of training)"
        )


def long_format_needs_tasks(estimator: Any) -> ValueError:
    """The error for predict/score/decision_function without ``tasks`` on a model fitted in the long format."""
    return ValueError(
        f"this {type(estimator).__name__} was fitted in the long format (fit(X, y, tasks=...)), so predict, score, "
        "decision_function and predict_proba need the task label of every row of X: pass tasks=... (the labels "
        "of tasks_). Under scikit-learn's model selection or a Pipeline, the labels arrive only through metadata "
        "routing. " + ROUTING_ADVICE
    )
