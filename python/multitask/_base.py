"""What the kernel-coupled linear estimators share: parameters, the three
input forms at predict time, warm starts and the fitted attributes."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._input import TaskBlocks, check_tasks, group_rows, is_list_form, reject_empty_task_list
from .coupling import BUILDER_NAMES

__all__ = ["KernelCoupledLinearModel", "MultiTaskInputMixin"]


class MultiTaskInputMixin:
    """What every multi-task estimator needs of its input: feature-name
    bookkeeping, feature counts and task labels at predict time.

    Uses the fitted ``tasks_`` and ``n_features_in_``.
    """

    def _validate_feature_names(self, X: Any, tasks: Any) -> None:
        """scikit-learn's feature-name bookkeeping for one-array input at fit."""
        reject_empty_task_list(X)
        if tasks is None and not is_list_form(X):
            validate_data(self, X, skip_check_array=True, reset=True)

    def _check_n_features(self, n_features: int, name: str) -> None:
        if n_features != self.n_features_in_:
            raise ValueError(
                f"{name} has {n_features} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input"
            )

    def _task_positions(self, tasks: np.ndarray) -> np.ndarray:
        """Index into ``tasks_`` of every label; ValueError for labels not seen in fit."""
        try:
            positions = np.searchsorted(self.tasks_, tasks)
            known = positions < self.tasks_.size
            known[known] = self.tasks_[positions[known]] == tasks[known]
        except TypeError as error:
            raise ValueError(f"tasks has labels of another type than those seen in fit: {error}") from None
        if not np.all(known):
            unseen = np.unique(tasks[~known])[:5]
            raise ValueError(f"tasks contains labels not seen in fit, e.g. {unseen.tolist()}")
        return positions


class KernelCoupledLinearModel(MultiTaskInputMixin, BaseEstimator):
    """Base class: linear task models ``f_t(x) = <w_t, x> + b_t`` coupled by K.

    Subclasses implement ``fit`` and ``_check_design``; they use
    :meth:`_linear_predictions` for the three input forms at predict time.
    Dense or ``scipy.sparse`` designs, one or several targets (tasks).
    """

    _parameter_constraints: dict = {
        "coupling": [StrOptions(set(BUILDER_NAMES)), "array-like"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1": [Interval(Real, 0, None, closed="left")],
        "l21": [Interval(Real, 0, None, closed="left")],
        "trace_norm": [Interval(Real, 0, None, closed="left")],
        "task_weights": [StrOptions({"uniform", "balanced"}), "array-like"],
        "fit_intercept": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "warm_start": ["boolean"],
    }

    def _warm_start_coef(self, blocks: TaskBlocks, dtype: np.dtype) -> np.ndarray | None:
        if not (self.warm_start and hasattr(self, "coef_")):
            return None
        if self.coef_.shape != (blocks.n_tasks, blocks.X[0].shape[1]):
            return None
        return np.ascontiguousarray(self.coef_, dtype=dtype)

    def _store_result(self, result: dict, blocks: TaskBlocks, coupling: np.ndarray) -> None:
        """Fitted attributes from the core's result; ConvergenceWarning when it did not converge."""
        self.coef_ = result["coef"]
        self.intercept_ = result["intercept"]
        self.tasks_ = blocks.labels
        self.coupling_ = coupling
        self.n_iter_ = int(result["n_iter"])
        self.solver_ = str(result["solver"])
        self.objective_history_ = result["objective_history"]
        self.objective_ = float(self.objective_history_[-1]) if self.objective_history_.size else float("nan")
        self.kkt_residual_ = float(result["residual"])
        self.dual_gap_ = float(result["dual_gap"])
        self._input_form = blocks.form
        if not result["converged"]:
            criterion = (
                f"duality gap {self.dual_gap_:.2e} (tol bounds it relative to the objective at W = 0)"
                if np.isfinite(self.dual_gap_)
                else f"relative KKT residual {self.kkt_residual_:.2e}"
            )
            warnings.warn(
                f"solver '{self.solver_}' stopped after {self.n_iter_} iterations with {criterion} "
                f"> tol={self.tol:.1e}; increase max_iter or tol, or try another solver",
                ConvergenceWarning,
                stacklevel=3,
            )

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.sparse = True
        return tags

    def _uses_sparsity_penalty(self) -> bool:
        return self.l1 > 0 or self.l21 > 0 or self.trace_norm > 0

    def _check_design(self, X: Any, name: str) -> Any:
        """A validated design block for predict (dense, or sparse when the estimator accepts it)."""
        raise NotImplementedError

    def _linear_predictions(self, X: Any, tasks: Any) -> Any:
        """<w_t, x> + b_t in the form of the input (see ``predict`` of the subclasses)."""
        check_is_fitted(self)
        if tasks is not None:
            return self._predict_long(X, tasks)
        if is_list_form(X):
            return self._predict_lists(X)
        X_checked = self._check_design(X, "X")
        validate_data(self, X, skip_check_array=True, reset=False)  # feature count and names
        predictions = np.asarray(X_checked @ self.coef_.T) + self.intercept_
        return predictions[:, 0] if self._input_form == "single" else predictions

    def _predict_lists(self, X: list) -> list[np.ndarray]:
        if len(X) != self.tasks_.size:
            raise ValueError(f"X holds {len(X)} tasks but the model was fitted on {self.tasks_.size}")
        predictions = []
        for t, block in enumerate(X):
            block = self._check_design(block, f"X[{t}]")
            self._check_n_features(block.shape[1], f"X[{t}]")
            predictions.append(np.asarray(block @ self.coef_[t]) + self.intercept_[t])
        return predictions

    def _predict_long(self, X: Any, tasks: Any) -> np.ndarray:
        X = self._check_design(X, "X")
        self._check_n_features(X.shape[1], "X")
        task_index = self._task_positions(check_tasks(tasks, X.shape[0]))
        predictions = np.empty(X.shape[0], dtype=np.result_type(X.dtype, self.coef_.dtype))
        for t, rows in enumerate(group_rows(task_index, self.tasks_.size)):
            if rows.size:
                predictions[rows] = np.asarray(X[rows] @ self.coef_[t]) + self.intercept_[t]
        return predictions
