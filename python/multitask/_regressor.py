"""KernelCoupledRegressor: the kernel-coupled least-squares estimator."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._core import core
from ._input import TaskBlocks, check_task_matrix, check_tasks, common_float_dtype, group_rows, is_list_form
from ._input import reject_empty_task_list, to_task_blocks
from ._task_weights import per_sample_weights
from ._threads import effective_n_threads
from .coupling import BUILDER_NAMES, resolve_coupling

__all__ = ["KernelCoupledRegressor"]

SOLVERS = ("auto", "exact", "cg", "bcd", "gradient")


class KernelCoupledRegressor(RegressorMixin, BaseEstimator):
    r"""Multi-task linear regression with tasks coupled by a T x T matrix K.

    Minimises the kernel-coupled objective

    .. math::

        F(W, b) = \frac{1}{N} \sum_t \omega_t \sum_{i \in t} \tfrac12 (y_{ti} - \langle w_t, x_{ti}\rangle - b_t)^2
                  + \frac{\alpha}{2} \sum_{s,t} K_{st} \langle w_s, w_t \rangle

    with N the total number of samples, task weights :math:`\omega_t` and
    unpenalised intercepts :math:`b_t`.

    Parameters
    ----------
    coupling : {"mean_regularized", "identity", "chain"} or array-like of shape (T, T), default="mean_regularized"
        The coupling K: a builder of :mod:`multitask.coupling` applied with its
        default parameters to the number of tasks, or a symmetric positive
        semidefinite matrix (e.g. from ``multitask.coupling.graph_laplacian``).
    alpha : float, default=1.0
        Strength of the coupling penalty, >= 0. With ``coupling="identity"`` and
        uniform weights each task is ridge regression, scikit-learn
        ``Ridge(alpha=alpha * N)`` on that task.
    task_weights : {"uniform", "balanced"} or array-like of shape (T,), default="uniform"
        :math:`\omega_t`: "uniform" (1: every sample counts the same),
        "balanced" (N / (T n_t): every task counts the same) or positive values.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept per task (by centring each task's data).
    solver : {"auto", "exact", "cg", "bcd", "gradient"}, default="auto"
        "exact": Sylvester equation in eigenbases for a shared design, dense
        Cholesky of the (dT, dT) system otherwise; "cg": block-Jacobi
        preconditioned conjugate gradient on the per-task Gram matrices; "bcd":
        block Gauss-Seidel over tasks; "gradient": accelerated gradient on the
        data itself; "auto": exact for a shared design or small d*T, else cg.
    tol : float, default=1e-8
        Iterative solvers stop when the relative KKT residual
        ``||grad F(W)||_F / ||grad F(0)||_F`` is at most ``tol`` (for the
        gradient solver: at the extrapolated point of the last step).
    max_iter : int, default=1000
        Maximum number of iterations (CG iterations, BCD sweeps, gradient steps).
    n_jobs : int, default=None
        Threads of the C++ core: None uses ``OMP_NUM_THREADS`` or every core,
        -1 every core. Results do not depend on it beyond round-off.
    warm_start : bool, default=False
        Start the iterative solvers from the previous ``coef_`` when shapes agree.

    Attributes
    ----------
    coef_ : ndarray of shape (T, n_features)
        Row t is :math:`w_t`.
    intercept_ : ndarray of shape (T,)
    tasks_ : ndarray of shape (T,)
        Task labels (sorted labels in the long format; 0..T-1 otherwise).
    coupling_ : ndarray of shape (T, T)
        The coupling K used.
    n_iter_ : int
    solver_ : str
        The solver that ran (what "auto" chose).
    objective_ : float
        F at the returned coefficients.
    objective_history_ : ndarray
        F after every iteration.
    kkt_residual_ : float
        Final relative KKT residual.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np, multitask as mt
    >>> rng = np.random.default_rng(0)
    >>> Xs = [rng.normal(size=(n, 3)) for n in (20, 30)]
    >>> ys = [X @ [1.0, 2.0, 0.5] for X in Xs]
    >>> model = mt.KernelCoupledRegressor(alpha=1e-3).fit(Xs, ys)
    >>> model.coef_.shape
    (2, 3)
    """

    _parameter_constraints: dict = {
        "coupling": [StrOptions(set(BUILDER_NAMES)), "array-like"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "task_weights": [StrOptions({"uniform", "balanced"}), "array-like"],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions(set(SOLVERS))],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        coupling: Any = "mean_regularized",
        alpha: float = 1.0,
        task_weights: Any = "uniform",
        fit_intercept: bool = True,
        solver: str = "auto",
        tol: float = 1e-8,
        max_iter: int = 1000,
        n_jobs: int | None = None,
        warm_start: bool = False,
    ) -> None:
        self.coupling = coupling
        self.alpha = alpha
        self.task_weights = task_weights
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.warm_start = warm_start

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, tasks: Any = None) -> "KernelCoupledRegressor":
        """Fit the coupled task models.

        Parameters
        ----------
        X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
            Per-task matrices (lists form), stacked rows (with ``tasks``), or
            one design shared by every task (with a 2-D ``y``).
        y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T)
            Targets in the form matching ``X``.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row (long format). Routed as metadata by
            scikit-learn's ``GridSearchCV``/``cross_validate`` once requested
            with ``set_fit_request(tasks=True)``.

        Returns
        -------
        self : KernelCoupledRegressor
        """
        reject_empty_task_list(X)
        if tasks is None and not is_list_form(X):
            validate_data(self, X, skip_check_array=True, reset=True)
        blocks = to_task_blocks(X, y, tasks)
        self.n_features_in_ = blocks.X[0].shape[1]
        coupling = resolve_coupling(self.coupling, blocks.n_tasks)
        sample_weight = per_sample_weights(self.task_weights, [block.shape[0] for block in blocks.X])
        dtype = blocks.X[0].dtype
        fit_core = core.fit_least_squares_f32 if dtype == np.float32 else core.fit_least_squares_f64
        result = fit_core(
            blocks.X,
            blocks.y,
            sample_weight,
            coupling,
            float(self.alpha),
            bool(self.fit_intercept),
            blocks.form in ("shared", "single"),
            self.solver,
            float(self.tol),
            int(self.max_iter),
            effective_n_threads(self.n_jobs),
            self._warm_start_coef(blocks, dtype),
        )
        self._store_result(result, blocks, coupling)
        return self

    def _warm_start_coef(self, blocks: TaskBlocks, dtype: np.dtype) -> np.ndarray | None:
        if not (self.warm_start and hasattr(self, "coef_")):
            return None
        if self.coef_.shape != (blocks.n_tasks, blocks.X[0].shape[1]):
            return None
        return np.ascontiguousarray(self.coef_, dtype=dtype)

    def _store_result(self, result: dict, blocks: TaskBlocks, coupling: np.ndarray) -> None:
        self.coef_ = result["coef"]
        self.intercept_ = result["intercept"]
        self.tasks_ = blocks.labels
        self.coupling_ = coupling
        self.n_iter_ = int(result["n_iter"])
        self.solver_ = str(result["solver"])
        self.objective_history_ = result["objective_history"]
        self.objective_ = float(self.objective_history_[-1]) if self.objective_history_.size else float("nan")
        self.kkt_residual_ = float(result["residual"])
        self._input_form = blocks.form
        if not result["converged"]:
            warnings.warn(
                f"solver '{self.solver_}' stopped after {self.n_iter_} iterations with relative KKT residual "
                f"{self.kkt_residual_:.2e} > tol={self.tol:.1e}; increase max_iter or tol, or try another solver",
                ConvergenceWarning,
                stacklevel=3,
            )

    def predict(self, X: Any, tasks: Any = None) -> Any:
        """Predict with each task's model.

        Parameters
        ----------
        X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
            Per-task matrices (one per fitted task, in order), rows labelled by
            ``tasks``, or rows to predict for every task.
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row; each must be one of ``tasks_``.

        Returns
        -------
        list of ndarray (n_t,), or ndarray of shape (n_samples,) or (n_samples, T)
            A list for list input; (n_samples,) with ``tasks`` or for a model
            fitted on a single 1-D target; otherwise every task's prediction.
        """
        check_is_fitted(self)
        if tasks is not None:
            return self._predict_long(X, tasks)
        if is_list_form(X):
            return self._predict_lists(X)
        X_checked = check_task_matrix(X, "X", common_float_dtype([X]))
        validate_data(self, X, skip_check_array=True, reset=False)  # feature count and names
        X = X_checked
        predictions = X @ self.coef_.T + self.intercept_
        return predictions[:, 0] if self._input_form == "single" else predictions

    def _check_n_features(self, n_features: int, name: str) -> None:
        if n_features != self.n_features_in_:
            raise ValueError(
                f"{name} has {n_features} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input"
            )

    def _predict_lists(self, X: list) -> list[np.ndarray]:
        if len(X) != self.tasks_.size:
            raise ValueError(f"X holds {len(X)} tasks but the model was fitted on {self.tasks_.size}")
        predictions = []
        for t, block in enumerate(X):
            block = check_task_matrix(block, f"X[{t}]", common_float_dtype([block]))
            self._check_n_features(block.shape[1], f"X[{t}]")
            predictions.append(block @ self.coef_[t] + self.intercept_[t])
        return predictions

    def _predict_long(self, X: Any, tasks: Any) -> np.ndarray:
        X = check_task_matrix(X, "X", common_float_dtype([X]))
        self._check_n_features(X.shape[1], "X")
        task_index = self._task_positions(check_tasks(tasks, X.shape[0]))
        predictions = np.empty(X.shape[0], dtype=np.result_type(X.dtype, self.coef_.dtype))
        for t, rows in enumerate(group_rows(task_index, self.tasks_.size)):
            if rows.size:
                predictions[rows] = X[rows] @ self.coef_[t] + self.intercept_[t]
        return predictions

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

    def score(self, X: Any, y: Any, tasks: Any = None, sample_weight: Any = None) -> float:
        """Coefficient of determination R^2 of the predictions, pooled over tasks.

        For list input, every task's samples are pooled; for a 2-D ``y`` the
        R^2 of each task is averaged (scikit-learn's multi-output convention).
        """
        predictions = self.predict(X, tasks=tasks)
        if isinstance(predictions, list):
            y = np.concatenate([np.asarray(target, dtype=np.float64).ravel() for target in y])
            predictions = np.concatenate(predictions)
        return float(r2_score(y, predictions, sample_weight=sample_weight))

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
