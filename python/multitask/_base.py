"""What the kernel-coupled linear estimators share: parameters, the three
input forms at predict time, warm starts and the fitted attributes."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _get_feature_names, check_is_fitted, validate_data

from ._fit_result import SolverOutcome, finite_predictions, store_fit
from ._solver_names import BLOCK_NEWTON, DESCRIPTIONS, FEATURE_BCD, GRAM_GRADIENT, bcd_meaning, resolve_alias
from ._cv_guard import check_long_format_fit, long_format_needs_tasks, refuse_split_task_list
from ._input import (
    TaskBlocks,
    _named_errors,
    as_task_list,
    check_tasks,
    group_rows,
    is_list_form,
    reject_empty_task_list,
    reject_malformed_task_list,
)
from ._dask_support import uses_dask
from ._sparse_input import is_sparse
from .coupling import BUILDER_NAMES, _as_real_array

__all__ = ["KernelCoupledLinearModel", "MultiTaskInputMixin", "MAX_C_INT"]

MAX_C_INT = 2**31 - 1
"""Largest ``max_iter`` the core's C ``int`` iteration counters hold."""


class MultiTaskInputMixin:
    """What every multi-task estimator needs of its input: feature-name
    bookkeeping, feature counts, task labels at predict time, and the refusal of
    scikit-learn model selection that would mis-handle multi-task data.

    Uses the fitted ``tasks_``, ``n_features_in_`` and ``_input_form``.
    """

    def _validate_feature_names(self, X: Any, tasks: Any) -> None:
        """The checks of X at fit that need the estimator (called first by every ``fit``).

        scikit-learn's feature-name bookkeeping in every input form:
        ``feature_names_in_`` from a DataFrame X (long format, shared design) or
        from a list of DataFrames, which must all have the same columns. And the
        refusal (ValueError) of scikit-learn's model selection splitting a list
        of tasks, or cross-validating the long format without passing the task
        labels on to scoring (see :mod:`multitask._cv_guard`).
        """
        if uses_dask(X, tasks):
            raise ValueError(
                f"{type(self).__name__} fits in-memory data only: Dask collections are fitted by "
                "KernelCoupledRegressor and KernelCoupledClassifier (compute the collections to fit this one)"
            )
        X = as_task_list(X)
        reject_empty_task_list(X)
        if tasks is not None:
            check_long_format_fit(self, tasks)
            validate_data(self, X, skip_check_array=True, reset=True)
        elif is_list_form(X):
            refuse_split_task_list(self)
            self._reset_list_feature_names(X)
        else:
            reject_malformed_task_list(X)
            validate_data(self, X, skip_check_array=True, reset=True)

    def _reset_list_feature_names(self, X: list) -> None:
        """``feature_names_in_`` of a list of DataFrames; ValueError naming X[t] when the columns differ."""
        # A plain ndarray has no column names: skip scikit-learn's dataframe probing (~60 us a block).
        names = [None if type(block) is np.ndarray else _get_feature_names(block) for block in X]
        for t in range(1, len(X)):
            if names[t] is None and names[0] is None:
                continue
            if names[t] is None or names[0] is None or not np.array_equal(names[t], names[0]):
                raise ValueError(
                    f"X[{t}] has {_describe_columns(names[t])} but X[0] has {_describe_columns(names[0])}: every "
                    "task's DataFrame must have the same columns, in the same order"
                )
        validate_data(self, X[0], skip_check_array=True, reset=True)

    def _prediction_form(self, X: Any, tasks: Any) -> tuple[str, Any]:
        """Which input form ``X`` (and ``tasks``) is at predict time: "long", "lists" or "rows".

        Returns the form and X (a cell array of tasks made a list). ValueError for
        rows without ``tasks`` on a model fitted in the long format, for a list of
        tasks split by scikit-learn's model selection, and for malformed task lists.
        """
        check_is_fitted(self)
        X = as_task_list(X)
        if tasks is not None:
            return "long", X
        if is_list_form(X):
            refuse_split_task_list(self)
            if len(X) != self.tasks_.size:
                raise ValueError(f"X holds {len(X)} tasks but the model was fitted on {self.tasks_.size}")
            return "lists", X
        reject_malformed_task_list(X)
        if getattr(self, "_input_form", None) == "long":
            raise long_format_needs_tasks(self)
        return "rows", X

    def _check_feature_names(self, X: Any, name: str) -> None:
        """scikit-learn's feature-name checks of one block against ``feature_names_in_`` (errors name the block)."""
        with _named_errors(name):
            validate_data(self, X, skip_check_array=True, reset=False)

    def _check_n_features(self, n_features: int, name: str) -> None:
        if n_features != self.n_features_in_:
            raise ValueError(
                f"{name} has {n_features} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input"
            )

    def _task_positions(self, tasks: np.ndarray, allow_unseen: bool = False) -> np.ndarray:
        """Index into ``tasks_`` of every label.

        Labels not seen in fit are -1 when ``allow_unseen``, otherwise a
        ValueError. Labels of another type than ``tasks_`` (that do not compare
        with them) are a ValueError either way; with ``allow_unseen`` so are
        numbers for string labels and the reverse (numpy would compare them
        as unequal, and every row would silently be an unseen task).
        """
        kinds = (_label_kind(tasks.dtype), _label_kind(self.tasks_.dtype))
        if allow_unseen and kinds[0] != kinds[1] and "O" not in kinds:  # object labels: compared one by one below
            raise ValueError(
                f"tasks has labels of another type than those seen in fit: {tasks.dtype} labels, but tasks_ has "
                f"dtype {self.tasks_.dtype}"
            )
        try:
            positions = np.searchsorted(self.tasks_, tasks)
            known = positions < self.tasks_.size
            known[known] = self.tasks_[positions[known]] == tasks[known]
        except TypeError as error:
            raise ValueError(f"tasks has labels of another type than those seen in fit: {error}") from None
        if allow_unseen:
            return np.where(known, positions, -1)
        if not np.all(known):
            unseen = np.unique(tasks[~known])[:5]
            raise ValueError(
                f"tasks contains labels not seen in fit, e.g. {unseen.tolist()}; when cross-validating, split within "
                "every task (multitask.model_selection.TaskKFold) so that every task is in every training fold"
            )
        return positions


def _label_kind(dtype: np.dtype) -> str:
    """The kind of task labels: "number", "string", or numpy's kind character of other dtypes ("O": objects)."""
    if dtype.kind in "biuf":
        return "number"
    if dtype.kind in "US":
        return "string"
    return dtype.kind


def _describe_columns(names: Any) -> str:
    if names is None:
        return "no column names"
    shown = ", ".join(repr(name) for name in list(names)[:6])
    return f"columns [{shown}{', ...' if len(names) > 6 else ''}]"


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
        "max_iter": [Interval(Integral, 1, MAX_C_INT, closed="both")],
        "n_jobs": [Integral, None],
        "warm_start": ["boolean"],
        "unseen_tasks": [StrOptions({"error", "mean"})],
    }

    def _warm_start_coef(self, blocks: TaskBlocks, dtype: np.dtype) -> np.ndarray | None:
        if not (self.warm_start and hasattr(self, "coef_")):
            return None
        if self.coef_.shape != (blocks.n_tasks, blocks.X[0].shape[1]):
            return None
        return np.ascontiguousarray(self.coef_, dtype=dtype)

    def _bcd_meaning(self, on_data: bool) -> str:
        """The algorithm the deprecated ``solver="bcd"`` stands for in this fit."""
        return bcd_meaning(
            on_data=on_data,
            squared_loss=getattr(self, "loss", None) == "squared",
            feature_penalty=self.l1 > 0 or self.l21 > 0,
        )

    def _resolved_solver(self, on_data: bool) -> str:
        """``solver`` with the deprecated "bcd" replaced by its meaning here (FutureWarning)."""
        return resolve_alias(self.solver, self._bcd_meaning(on_data))

    def _check_data_solver(self, solver: str) -> None:
        """ValueError for a solver on the data that cannot take this loss and penalty (the message names
        those that can)."""
        squared = getattr(self, "loss", None) == "squared"
        if solver == FEATURE_BCD and not (squared and (self.l1 > 0 or self.l21 > 0) and self.trace_norm == 0):
            instead = "solver='gradient' or 'auto'" if self._uses_sparsity_penalty() else "another solver, e.g. 'auto'"
            raise ValueError(
                f"solver='{FEATURE_BCD}' ({DESCRIPTIONS[FEATURE_BCD]}) solves the squared loss with an l1 or l21 "
                f"penalty (no trace norm); here use {instead}"
            )
        if solver in (BLOCK_NEWTON, "newton") and self._uses_sparsity_penalty():
            if squared and self.trace_norm == 0:
                alternatives = f"'{FEATURE_BCD}', 'gradient'"
            elif squared:  # the trace norm: also on Gram statistics (dense X)
                alternatives = f"'{GRAM_GRADIENT}', 'gradient'"
            else:
                alternatives = "'gradient'"
            raise ValueError(
                f"solver={solver!r} takes no structure penalty (l1, l21, trace_norm); with one use solver="
                f"{alternatives} or 'auto'"
            )

    def _store_result(self, result: dict, blocks: TaskBlocks, coupling: np.ndarray, tol: float,
                      **extra: Any) -> None:
        """Fitted attributes from the core's result (see :func:`~multitask._fit_result.store_fit`).

        ``tol`` is the tolerance the solver was given; ``extra`` are the
        subclass's own fitted attributes (e.g.
        ``classes_``). The feature solver (l1/l21) stops on its duality gap
        relative to the objective at W = 0; the others on the relative KKT
        residual.
        """
        history = result["objective_history"]
        dual_gap = float(result["dual_gap"])
        if np.isfinite(dual_gap):
            criterion, value = "relative duality gap", dual_gap / float(result["dual_gap_scale"] or 1.0)
        else:
            criterion, value = "relative KKT residual", float(result["residual"])
        solver = str(result["solver"])
        outcome = SolverOutcome(solver, int(result["n_iter"]), bool(result["converged"]), criterion, value, tol)
        attributes = {
            "coef_": result["coef"],
            "intercept_": result["intercept"],
            "tasks_": blocks.labels,
            "coupling_": coupling,
            "objective_history_": history,
            "objective_": float(history[-1]) if history.size else float("nan"),
            "kkt_residual_": float(result["residual"]),
            "dual_gap_": dual_gap,
            "_input_form": blocks.form,
            **extra,
        }
        store_fit(self, outcome, attributes, advice="increase max_iter or tol, or try another solver")

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.sparse = True
        return tags

    def unseen_task_models(self, task_similarity: Any) -> tuple[np.ndarray, np.ndarray]:
        r"""Compute the models of new tasks from their kernel similarity to the fitted tasks.

        When the coupling is :math:`K = B^{-1}` for a task kernel B (see
        :func:`multitask.coupling.from_task_kernel`), the coupling penalty
        :math:`\tfrac\alpha2 \operatorname{tr}(W K W^\top)` is, up to a
        constant, the negative log-density of the matrix-normal prior in which
        every row of :math:`W = [w_1 \dots w_T]` (d, T) is drawn from
        :math:`N(0, B / \alpha)`. Given the fitted W, the conditional mean of
        the models of m new tasks with kernel values :math:`b^*` (m, T) to the
        fitted tasks is :math:`W B^{-1} b^{*\top}`, so
        ``coef = task_similarity @ coupling_ @ coef_`` (α cancels). It is also
        what fitting the new tasks alongside the old ones would give them
        without structure penalties: with the coupling :math:`B_{ext}^{-1}` of
        the kernel over all T + m tasks and no data for the new ones, the T
        fitted tasks are fitted as with ``coupling=from_task_kernel(B)`` (the
        Schur complement) and the new tasks get these models, for any loss.
        (For :class:`~multitask.SharedSubspaceRegressor` the prior is on the
        heads A and W = U A: the same formula.)

        The intercepts are not penalised, so the prior says nothing about them
        and such a joint fit leaves a task without data any intercept. Here a
        new task gets the mean intercept plus the same conditional mean applied
        to the intercepts centred at their mean:
        ``intercept_.mean() + task_similarity @ coupling_ @ (intercept_ - intercept_.mean())``.
        A new task similar to none of the fitted tasks (a row of zeros) gets
        the zero model and the mean intercept; a row equal to row t of B gives
        task t's model and intercept exactly.

        Parameters
        ----------
        task_similarity : array-like of shape (m, T)
            Task kernel values :math:`k(a^*_j, a_t)` between the descriptors of
            the m new tasks and those of the T fitted tasks, in the order of
            ``tasks_``, with the kernel function that gave B, e.g.
            ``task_kernel(np.vstack((A, A_new)))[T:, :T]`` for the descriptors
            ``A`` of the fitted tasks (see :func:`multitask.coupling.task_kernel`).

        Returns
        -------
        coef : ndarray of shape (m, n_features)
            Row j is the model of new task j, in the dtype of ``coef_``.
        intercept : ndarray of shape (m,)
            The intercepts of the new tasks (zeros when ``fit_intercept=False``).

        Raises
        ------
        ValueError
            If ``task_similarity`` is not a finite real 2-D array with T
            columns, or if ``coupling_`` is singular (its smallest eigenvalue
            at most 1e-12 times its largest): no task kernel
            :math:`B = K^{-1}` exists for it.

        Examples
        --------
        >>> import numpy as np, multitask as mt
        >>> rng = np.random.default_rng(0)
        >>> A = np.array([[0.0], [1.0], [2.0]])  # a descriptor per fitted task
        >>> B = mt.coupling.task_kernel(A, gamma=0.5)
        >>> Xs = [rng.normal(size=(30, 2)) for _ in A]
        >>> ys = [X @ [1.0, a] for X, a in zip(Xs, A[:, 0])]
        >>> model = mt.KernelCoupledRegressor(mt.coupling.from_task_kernel(B), alpha=1e-3).fit(Xs, ys)
        >>> A_new = np.array([[1.5]])  # a task not in the data
        >>> similarity = mt.coupling.task_kernel(np.vstack((A, A_new)), gamma=0.5)[3:, :3]
        >>> coef, intercept = model.unseen_task_models(similarity)
        >>> coef.shape, intercept.shape
        ((1, 2), (1,))
        >>> bool(np.allclose(model.unseen_task_models(B[[1]])[0], model.coef_[[1]]))  # task 1 itself
        True
        """
        check_is_fitted(self)
        n_tasks = self.tasks_.size
        similarity = _as_real_array(task_similarity, "task_similarity")
        if similarity.ndim != 2 or similarity.shape[1] != n_tasks:
            raise ValueError(
                f"task_similarity must be a 2-D array of shape (n_new_tasks, {n_tasks}), the kernel between the new "
                f"tasks and the {n_tasks} fitted tasks, got shape {similarity.shape}"
            )
        coupling = np.asarray(self.coupling_, dtype=np.float64)
        eigenvalues = np.linalg.eigvalsh(coupling)
        if not eigenvalues[0] > 1e-12 * eigenvalues[-1]:
            raise ValueError(
                f"coupling_ is singular (smallest eigenvalue {eigenvalues[0]:.6g}, largest {eigenvalues[-1]:.6g}): no "
                "task kernel B = K^{-1} exists for it; fit with the coupling of a task kernel, "
                "coupling=multitask.coupling.from_task_kernel(B)"
            )
        weights = similarity @ coupling  # b* B^{-1}, (m, T)
        intercepts = np.asarray(self.intercept_, dtype=np.float64)
        mean_intercept = intercepts.mean()
        coef = weights @ np.asarray(self.coef_, dtype=np.float64)
        intercept = mean_intercept + weights @ (intercepts - mean_intercept)
        return coef.astype(self.coef_.dtype, copy=False), intercept.astype(self.intercept_.dtype, copy=False)

    def _uses_sparsity_penalty(self) -> bool:
        return self.l1 > 0 or self.l21 > 0 or self.trace_norm > 0

    def _check_design(self, X: Any, name: str) -> Any:
        """A validated design block for predict (dense, or sparse when the estimator accepts it)."""
        raise NotImplementedError

    def _linear_predictions(self, X: Any, tasks: Any) -> Any:
        """<w_t, x> + b_t in the form of the input (see ``predict`` of the subclasses)."""
        form, X = self._prediction_form(X, tasks)
        if form == "long":
            return self._predict_long(X, tasks)
        if form == "lists":
            return self._predict_lists(X)
        X_checked = self._check_design(X, "X")
        validate_data(self, X, skip_check_array=True, reset=False)  # feature count and names
        predictions = finite_predictions(np.asarray(X_checked @ self.coef_.T) + self.intercept_)
        return predictions[:, 0] if self._input_form == "single" else predictions

    def _predict_lists(self, X: list) -> list[np.ndarray]:
        predictions = []
        for t, original in enumerate(X):
            block = self._check_design(original, f"X[{t}]")
            self._check_n_features(block.shape[1], f"X[{t}]")
            self._check_feature_names(original, f"X[{t}]")
            predictions.append(finite_predictions(np.asarray(block @ self.coef_[t]) + self.intercept_[t], f"X[{t}]"))
        return predictions

    def _predict_long(self, X: Any, tasks: Any) -> np.ndarray:
        original, X = X, self._check_design(X, "X")
        self._check_n_features(X.shape[1], "X")
        self._check_feature_names(original, "X")
        allow_unseen = getattr(self, "unseen_tasks", "error") == "mean"
        task_index = self._task_positions(check_tasks(tasks, X.shape[0]), allow_unseen=allow_unseen)
        coef, intercept = self.coef_, self.intercept_
        unseen = task_index < 0
        if unseen.any():
            # unseen_tasks="mean": the rows of unseen labels get the mean model, as an extra task T.
            coef = np.vstack((coef, coef.mean(axis=0)))
            intercept = np.append(intercept, intercept.mean())
            task_index = np.where(unseen, self.tasks_.size, task_index)
        dtype = np.result_type(X.dtype, self.coef_.dtype)
        if not is_sparse(X):  # every row against its task's model at once: <x_i, w_t(i)> + b_t(i)
            products = np.einsum("ij,ij->i", X.astype(dtype, copy=False), coef[task_index].astype(dtype, copy=False))
            return finite_predictions((products + intercept[task_index]).astype(dtype, copy=False))
        predictions = np.empty(X.shape[0], dtype=dtype)
        for t, rows in enumerate(group_rows(task_index, coef.shape[0])):
            if rows.size:
                predictions[rows] = np.asarray(X[rows] @ coef[t]) + intercept[t]
        return finite_predictions(predictions)
