r"""MultiTaskKernelRidge: kernel ridge regression with a multi-task kernel B_st k(x, x')."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any, Callable, NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import MultiTaskInputMixin
from ._core import core
from ._input import TaskBlocks, check_tasks, check_task_matrix, common_float_dtype, is_list_form, to_task_blocks
from ._task_weights import per_sample_weights
from ._threads import effective_n_threads
from .coupling import BUILDER_NAMES, from_task_kernel, resolve_coupling, validate_coupling

__all__ = ["MultiTaskKernelRidge"]

SOLVERS = ("auto", "cholesky", "kronecker", "cg")
KERNELS = ("linear", "rbf", "poly", "polynomial", "laplacian", "precomputed")

# cg on per-task inputs keeps the (N, N) multi-task Gram in memory up to this
# size and recomputes it block by block beyond (N = 11,585 in float64).
CG_CACHE_BYTES = 2**30


def _check_symmetric_gram(gram: np.ndarray, rtol: float = 1e-10) -> None:
    """ValueError unless max |G_ij - G_ji| <= rtol max |G_ij|; in row blocks (no (N, N) temporaries)."""
    asymmetry, scale = 0.0, 0.0
    for start in range(0, gram.shape[0], 1024):
        rows = gram[start : start + 1024]
        asymmetry = max(asymmetry, float(np.max(np.abs(rows - gram[:, start : start + 1024].T))))
        scale = max(scale, float(np.max(np.abs(rows))))
    if asymmetry > rtol * scale:
        raise ValueError(
            f"the training kernel matrix must be symmetric; its largest asymmetry is {asymmetry:.3g} "
            f"(largest entry {scale:.3g})"
        )


class DualProblem(NamedTuple):
    """The dual system of a fit except alpha (its ridge is ``alpha * unit_ridge``), in the core's order."""

    blocks: TaskBlocks
    B: np.ndarray  # (T, T) task kernel
    inputs: np.ndarray  # training inputs in the caller's order
    order: np.ndarray  # permutation sorting the inputs task by task
    shared: bool
    gram: np.ndarray | None  # input Gram for precomputed/callable kernels, else None
    offsets: np.ndarray  # (T + 1) task offsets
    unit_ridge: np.ndarray  # (T) N / omega_t


class MultiTaskKernelRidge(MultiTaskInputMixin, RegressorMixin, BaseEstimator):
    r"""Kernel ridge regression with the multi-task kernel :math:`B_{st}\,k(x, x')`.

    Task t predicts :math:`f_t(x) = \sum_{(s,j)} c_{sj} B_{ts} k(x_{sj}, x) + b_t`,
    where the dual coefficients c solve (DESIGN §1)

    .. math::

        (M + \alpha N \Omega^{-1})\, c = y, \qquad
        M_{(s,i),(t,j)} = B_{st}\, k(x_{si}, x_{tj}),

    with N the total number of samples and :math:`\Omega` the diagonal of
    per-sample task weights :math:`\omega_t`. This is the minimiser of
    :math:`\frac1N \sum_t \omega_t \sum_{i\in t} \frac12 (y_{ti} - f_t(x_{ti}))^2
    + \frac\alpha2 \|f\|^2_{\mathcal H}` in the RKHS of the multi-task kernel: for
    the linear kernel and :math:`B = K^{-1}` it is ``KernelCoupledRegressor``
    with coupling K. The intercepts :math:`b_t` are not penalised; they solve the
    bordered system with :math:`\sum_{i \in t} c_{ti} = 0` for every task.

    Parameters
    ----------
    kernel : {"rbf", "linear", "poly", "polynomial", "laplacian", "precomputed"} or callable, default="rbf"
        Input kernel k: ``exp(-gamma ||x - y||^2)``, ``<x, y>``,
        ``(gamma <x, y> + coef0)^degree``, ``exp(-gamma ||x - y||_1)``; a callable
        ``k(X1, X2) -> (n1, n2)`` array; or "precomputed": X holds kernel values
        (see Notes).
    gamma : float, default=None
        Positive scale of the rbf, polynomial and laplacian kernels; 1 / n_features when None.
    degree : int, default=3
        Degree of the polynomial kernel, >= 1.
    coef0 : float, default=1.0
        Constant of the polynomial kernel.
    task_kernel : array-like of shape (T, T), default=None
        The task kernel B, symmetric positive semidefinite. With neither
        ``task_kernel`` nor ``coupling``, B = I (independent tasks).
    coupling : {"mean_regularized", "identity", "chain"} or array-like of shape (T, T), default=None
        A positive definite coupling K of :class:`KernelCoupledRegressor`; then
        B = K^{-1}. Giving both ``task_kernel`` and ``coupling`` is a ValueError.
    alpha : float, default=1.0
        Regularisation strength, > 0. With B = I and uniform weights each task
        is scikit-learn ``KernelRidge(alpha=alpha * N)`` on that task.
    task_weights : {"uniform", "balanced"} or array-like of shape (T,), default="uniform"
        :math:`\omega_t`, as in :class:`KernelCoupledRegressor`.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept per task.
    solver : {"auto", "cholesky", "kronecker", "cg"}, default="auto"
        "cholesky": dense in-place factorisation of the (N, N) system, O(N^3/3);
        "kronecker": shared design only (``fit(X, Y)``), O(n^3 + T^3 + n^2 T);
        "cg": matrix-free preconditioned conjugate gradient; "auto": kronecker
        for a shared design, cholesky up to N = 12,000, cg beyond.
    tol : float, default=1e-8
        cg stops when the relative residual of the (bordered) system is at most
        tol. float32 data cannot get much below 1e-6: use a larger tol there.
    max_iter : int, default=1000
        Maximum number of cg iterations.
    n_jobs : int, default=None
        Threads of the C++ core, as in :class:`KernelCoupledRegressor`.

    Attributes
    ----------
    dual_coef_ : ndarray of shape (N,) or (n_samples, T)
        c, shaped like y at fit: (N,) for lists (tasks concatenated) and the long
        format (in the order of the rows), (n_samples, T) for a shared design.
    intercept_ : ndarray of shape (T,)
    task_kernel_ : ndarray of shape (T, T)
        The task kernel B used.
    tasks_ : ndarray of shape (T,)
    X_fit_ : ndarray of shape (n_inputs, n_features) or None
        The training inputs the predictions expand over (None when precomputed).
    solver_ : str
    n_iter_ : int
        cg iterations (1 for the direct solvers).
    residual_ : float
        Final relative residual of cg (NaN for the direct solvers).
    n_features_in_ : int

    Notes
    -----
    **Precomputed kernels.** X holds input-kernel values k against the
    training inputs, one column per training input in training order, in the
    same form as the data: ``fit(K, Y)`` with K (n, n) for a shared design;
    ``fit(K, y, tasks=ids)`` with K (N, N) over all rows in their given order;
    ``fit([K_1, ..., K_T], ys)`` with K_t (n_t, N), the rows of task t against
    all N training samples (tasks concatenated). ``predict`` takes the same
    forms with test rows: (m, n), (m, N) with ``tasks``, or a list of (m_t, N).
    """

    _parameter_constraints: dict = {
        "kernel": [StrOptions(set(KERNELS)), callable],
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
        "degree": [Interval(Integral, 1, None, closed="left")],
        "coef0": [Interval(Real, None, None, closed="neither")],
        "task_kernel": ["array-like", None],
        "coupling": [StrOptions(set(BUILDER_NAMES)), "array-like", None],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "task_weights": [StrOptions({"uniform", "balanced"}), "array-like"],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions(set(SOLVERS))],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        kernel: str | Callable = "rbf",
        gamma: float | None = None,
        degree: int = 3,
        coef0: float = 1.0,
        task_kernel: Any = None,
        coupling: Any = None,
        alpha: float = 1.0,
        task_weights: Any = "uniform",
        fit_intercept: bool = True,
        solver: str = "auto",
        tol: float = 1e-8,
        max_iter: int = 1000,
        n_jobs: int | None = None,
    ) -> None:
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.task_kernel = task_kernel
        self.coupling = coupling
        self.alpha = alpha
        self.task_weights = task_weights
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, tasks: Any = None) -> "MultiTaskKernelRidge":
        """Solve the dual system for the dual coefficients and intercepts.

        Parameters
        ----------
        X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
            Per-task inputs, stacked rows (with ``tasks``) or inputs shared by
            every task (with a 2-D ``y``); kernel values for ``kernel="precomputed"``.
        y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T)
        tasks : array-like of shape (n_samples,), default=None
            Task label of every row (long format).

        Returns
        -------
        self : MultiTaskKernelRidge
        """
        problem = self._dual_problem(X, y, tasks)
        dtype = problem.inputs.dtype
        fit_core = core.fit_kernel_ridge_f32 if dtype == np.float32 else core.fit_kernel_ridge_f64
        result = fit_core(
            *self._core_arguments(problem, dtype),
            float(self.alpha) * problem.unit_ridge,
            np.ascontiguousarray(np.concatenate(problem.blocks.y), dtype=dtype),
            bool(self.fit_intercept),
            self.solver,
            float(self.tol),
            int(self.max_iter),
            effective_n_threads(self.n_jobs),
            float(CG_CACHE_BYTES),
        )
        self._store_result(result, problem)
        return self

    def _dual_problem(self, X: Any, y: Any, tasks: Any) -> DualProblem:
        """Validate the data and set ``n_features_in_``; the dual system's pieces that do not depend on alpha."""
        self._validate_feature_names(X, tasks)
        blocks = to_task_blocks(X, y, tasks)
        T = blocks.n_tasks
        n_per_task = np.array([block.shape[0] for block in blocks.X])
        shared = blocks.form in ("shared", "single")
        # Training inputs in the caller's order (the columns of a precomputed kernel) and
        # the permutation `order` that sorts them task by task (the core's order).
        inputs = blocks.X[0] if shared else self._stacked_rows(blocks, X)
        order = np.concatenate(blocks.rows) if blocks.form == "long" else np.arange(inputs.shape[0])
        self.n_features_in_ = inputs.shape[1]
        return DualProblem(
            blocks=blocks,
            B=self._resolve_task_kernel(T),
            inputs=inputs,
            order=order,
            shared=shared,
            gram=self._training_gram(inputs, order),
            offsets=np.concatenate([[0], np.cumsum(n_per_task)]).astype(np.int64),
            # alpha N / omega_t at alpha = 1 (s_t = omega_t / N)
            unit_ridge=1.0 / per_sample_weights(self.task_weights, n_per_task),
        )

    def _core_arguments(self, problem: DualProblem, dtype: type) -> tuple:
        """The core's leading arguments (X, gram, kernel, gamma, coef0, degree, B, offsets, shared)."""
        return (
            None if problem.gram is not None else np.ascontiguousarray(problem.inputs[problem.order], dtype=dtype),
            None if problem.gram is None else np.ascontiguousarray(problem.gram, dtype=dtype),
            self._kernel_name(),
            self._gamma_value(),
            float(self.coef0),
            int(self.degree),
            problem.B,
            problem.offsets.tolist(),
            problem.shared,
        )

    def _stacked_rows(self, blocks: TaskBlocks, X: Any) -> np.ndarray:
        """All training rows in the caller's order: the list concatenated, or X itself (long format)."""
        if blocks.form == "long":
            return check_task_matrix(X, "X", blocks.X[0].dtype)
        return np.vstack(blocks.X)

    def _resolve_task_kernel(self, n_tasks: int) -> np.ndarray:
        """B from ``task_kernel``, or K^{-1} from ``coupling``, or I."""
        if self.task_kernel is not None and self.coupling is not None:
            raise ValueError("give either task_kernel (B) or coupling (K, then B = K^-1), not both")
        if self.coupling is not None:
            K = resolve_coupling(self.coupling, n_tasks)
            return from_task_kernel(K, name="coupling")
        if self.task_kernel is None:
            return np.eye(n_tasks)
        return validate_coupling(self.task_kernel, n_tasks, name="task_kernel")

    def _kernel_name(self) -> str:
        return self.kernel if isinstance(self.kernel, str) and self.kernel != "precomputed" else "linear"

    def _gamma_value(self) -> float:
        return 1.0 / self.n_features_in_ if self.gamma is None else float(self.gamma)

    def _training_gram(self, inputs: np.ndarray, order: np.ndarray) -> np.ndarray | None:
        """The input Gram in the core's order for precomputed and callable kernels; None otherwise."""
        if self.kernel == "precomputed":
            n = inputs.shape[0]
            if inputs.shape[1] != n:
                raise ValueError(
                    f"kernel='precomputed' needs X of kernel values against the {n} training inputs, one column "
                    f"each (shape ({n}, {n}) in all), got {inputs.shape[1]} columns"
                )
            sorted_already = np.array_equal(order, np.arange(n))
            gram = inputs if sorted_already else inputs[np.ix_(order, order)]
        elif callable(self.kernel):
            sorted_inputs = inputs[order]
            gram = self._callable_values(sorted_inputs, sorted_inputs, inputs.dtype)
        else:
            return None
        _check_symmetric_gram(gram)
        return np.ascontiguousarray(gram)

    def _callable_values(self, X1: np.ndarray, X2: np.ndarray, dtype: type) -> np.ndarray:
        values = np.asarray(self.kernel(X1, X2), dtype=dtype)
        if values.shape != (X1.shape[0], X2.shape[0]):
            raise ValueError(
                f"kernel returned an array of shape {values.shape}, expected ({X1.shape[0]}, {X2.shape[0]})"
            )
        return values

    def _store_result(self, result: dict, problem: DualProblem) -> None:
        blocks, B, order = problem.blocks, problem.B, problem.order
        T = blocks.n_tasks
        c_sorted = result["dual_coef"]
        n_per_task = [block.shape[0] for block in blocks.X]
        if problem.shared:
            C = c_sorted.reshape(T, -1).T  # (n, T): column t is c_t
            self.dual_coef_ = C[:, 0] if blocks.form == "single" else C
            weights = C @ B  # W_jt = sum_s c_sj B_st
        else:
            self.dual_coef_ = np.empty_like(c_sorted)
            self.dual_coef_[order] = c_sorted
            task_of = np.repeat(np.arange(T), n_per_task)
            weights = np.empty((c_sorted.size, T), dtype=c_sorted.dtype)
            weights[order] = c_sorted[:, None] * B[task_of]  # W_jt = c_j B_{task(j) t}
        # f_t(x) = sum_j k(x, x_j) W_jt + b_t over the training inputs in the caller's order.
        self._expansion_weights = np.ascontiguousarray(weights)
        self.intercept_ = result["intercept"]
        self.task_kernel_ = B
        self.tasks_ = blocks.labels
        self.X_fit_ = None if self.kernel == "precomputed" else problem.inputs
        self.solver_ = str(result["solver"])
        self.n_iter_ = int(result["n_iter"])
        self.residual_ = float(result["residual"])
        self._input_form = blocks.form
        if not result["converged"]:
            warnings.warn(
                f"solver 'cg' stopped after {self.n_iter_} iterations with relative residual {self.residual_:.2e} "
                f"> tol={self.tol:.1e}; increase max_iter or alpha, or use solver='cholesky'",
                ConvergenceWarning,
                stacklevel=3,
            )

    # -------------------------------------------------------------- predict

    def predict(self, X: Any, tasks: Any = None) -> Any:
        """Predict with every task's kernel expansion.

        Parameters
        ----------
        X : list of array-like (m_t, d), or array-like of shape (m, d)
            Test inputs per task (lists), labelled by ``tasks``, or for every
            task; kernel values against the training inputs when precomputed.
        tasks : array-like of shape (m,), default=None
            Task label of every row; each must be one of ``tasks_``.

        Returns
        -------
        list of ndarray (m_t,), or ndarray of shape (m,) or (m, T)
            In the form of the input, as ``KernelCoupledRegressor.predict``.
        """
        check_is_fitted(self)
        if tasks is not None:
            X = self._checked_test_rows(X, "X")
            task_index = self._task_positions(check_tasks(tasks, X.shape[0]))
            predictions = self._expansion(X, self._expansion_weights)
            return predictions[np.arange(X.shape[0]), task_index] + self.intercept_[task_index]
        if is_list_form(X):
            if len(X) != self.tasks_.size:
                raise ValueError(f"X holds {len(X)} tasks but the model was fitted on {self.tasks_.size}")
            return [
                self._expansion(self._checked_test_rows(block, f"X[{t}]"), self._expansion_weights[:, [t]])[:, 0]
                + self.intercept_[t]
                for t, block in enumerate(X)
            ]
        X_checked = self._checked_test_rows(X, "X")
        validate_data(self, X, skip_check_array=True, reset=False)
        predictions = self._expansion(X_checked, self._expansion_weights) + self.intercept_
        return predictions[:, 0] if self._input_form == "single" else predictions

    def _checked_test_rows(self, X: Any, name: str) -> np.ndarray:
        X = check_task_matrix(X, name, common_float_dtype([X]))
        self._check_n_features(X.shape[1], name)
        return X

    def _expansion(self, X: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """k(X, X_fit_) @ weights (m, w), or X @ weights for precomputed kernel values."""
        if self.kernel == "precomputed":
            return X @ weights
        if callable(self.kernel):
            return self._callable_values(X, self.X_fit_, weights.dtype) @ weights
        dtype = np.result_type(X.dtype, self.X_fit_.dtype)
        values = core.kernel_values_f32 if dtype == np.float32 else core.kernel_values_f64
        return values(
            np.ascontiguousarray(X, dtype=dtype),
            np.ascontiguousarray(self.X_fit_, dtype=dtype),
            self._kernel_name(),
            self._gamma_value(),
            float(self.coef0),
            int(self.degree),
            np.ascontiguousarray(weights, dtype=dtype),
            effective_n_threads(self.n_jobs),
        )

    def score(self, X: Any, y: Any, tasks: Any = None, sample_weight: Any = None) -> float:
        """R^2 of the predictions, pooled over tasks (lists, long format) or averaged over the columns of Y."""
        predictions = self.predict(X, tasks=tasks)
        if isinstance(predictions, list):
            y = np.concatenate([np.asarray(target, dtype=np.float64).ravel() for target in y])
            predictions = np.concatenate(predictions)
        return float(r2_score(y, predictions, sample_weight=sample_weight))

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.pairwise = self.kernel == "precomputed"
        return tags
