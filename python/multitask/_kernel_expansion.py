"""What the multi-task kernel machines share: the dual problem's pieces and the kernel expansion.

A fitted machine predicts with f_t(x) = sum_(s,j) c_sj B_ts k(x_sj, x) + b_t, its dual
coefficients c coming from kernel ridge's linear system or the SVM's quadratic programme
(c_i = y_i a_i); validating the three input forms, the task kernel B, the input kernel, and
evaluating the expansion are the same for both.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from ._base import MultiTaskInputMixin
from ._deprecation import deprecated_attribute
from ._fit_result import core_function, finite_predictions
from ._errors import NumericalError
from ._feature_maps import RandomFourierMap
from ._input import TaskBlocks, check_design, check_tasks, common_float_dtype, to_task_blocks
from ._sparse_input import as_canonical_csr, core_block, is_sparse
from ._task_weights import per_sample_weights
from ._threads import effective_n_threads
from .coupling import from_task_kernel, resolve_coupling, validate_coupling


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


def _as_float(block: Any, dtype: type, name: str = "X") -> Any:
    """A validated design (ndarray or canonical CSR block) in ``dtype``."""
    return as_canonical_csr(block, name, dtype) if is_sparse(block) else np.asarray(block, dtype=dtype)


def _core_design(rows: Any, dtype: type, name: str = "X") -> Any:
    """Rows as the core's kernels read them: a C-contiguous array, or a CSR tuple for sparse rows."""
    if is_sparse(rows):
        return core_block(as_canonical_csr(rows, name, dtype))
    return np.ascontiguousarray(rows, dtype=dtype)


class DualProblem(NamedTuple):
    """The dual system of a fit except alpha (its ridge is ``alpha * unit_ridge``), in the core's order."""

    blocks: TaskBlocks
    B: np.ndarray  # (T, T) task kernel
    inputs: Any  # training inputs in the caller's order: ndarray, or a CSR block for sparse X
    order: np.ndarray  # permutation sorting the inputs task by task
    shared: bool
    gram: np.ndarray | None  # input Gram for precomputed/callable kernels, else None
    offsets: np.ndarray  # (T + 1) task offsets
    unit_ridge: np.ndarray  # (T) N / omega_t


class KernelExpansionMixin(MultiTaskInputMixin):
    """Input handling and prediction of an estimator whose model is a multi-task kernel expansion.

    Subclasses have the parameters ``kernel``, ``gamma``, ``degree``, ``coef0``,
    ``task_kernel``, ``coupling``, ``task_weights`` and ``n_jobs``.
    """

    #: Cast the training inputs to float64 (the solver has no float32 version).
    _solves_in_float64 = False

    #: Deprecated: the final convergence measure has one name across the estimators.
    residual_ = deprecated_attribute("residual_", "kkt_residual_")

    def _accepts_sparse(self) -> bool:
        """Sparse X is read in place by the kernels (the core's, or a callable's); kernel values must be dense."""
        return not (isinstance(self.kernel, str) and self.kernel == "precomputed")

    def _needs_training_gram(self) -> bool:
        """Whether the fit needs the input Gram of precomputed/callable kernels."""
        return True

    def _dual_problem(self, X: Any, y: Any, tasks: Any, labels: bool = False) -> DualProblem:
        """Validate the data and set ``n_features_in_``; the dual system's pieces that do not depend on alpha."""
        self._validate_feature_names(X, tasks)
        blocks = to_task_blocks(X, y, tasks, labels=labels, accept_sparse=self._accepts_sparse())
        if self._solves_in_float64:
            blocks.X = [_as_float(block, np.float64, f"X[{t}]") for t, block in enumerate(blocks.X)]
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
            gram=self._training_gram(inputs, order) if self._needs_training_gram() else None,
            offsets=np.concatenate([[0], np.cumsum(n_per_task)]).astype(np.int64),
            # alpha N / omega_t at alpha = 1 (s_t = omega_t / N)
            unit_ridge=1.0 / per_sample_weights(self.task_weights, n_per_task),
        )

    def _core_arguments(self, problem: DualProblem, dtype: type) -> dict[str, Any]:
        """The core's arguments that describe the dual problem (X, gram, kernel, ..., shared), by keyword."""
        return {
            "X": None if problem.gram is not None else _core_design(self._sorted_inputs(problem), dtype),
            "gram": None if problem.gram is None else np.ascontiguousarray(problem.gram, dtype=dtype),
            "kernel": self._kernel_name(),
            "gamma": self._gamma_value(),
            "coef0": float(self.coef0),
            "degree": int(self.degree),
            "task_kernel": problem.B,
            "offsets": problem.offsets.tolist(),
            "shared": problem.shared,
        }

    @staticmethod
    def _sorted_inputs(problem: DualProblem) -> Any:
        """The training inputs task by task (the core's order)."""
        already_sorted = problem.order.size == problem.inputs.shape[0] and np.array_equal(
            problem.order, np.arange(problem.order.size))
        return problem.inputs if already_sorted else problem.inputs[problem.order]

    def _stacked_rows(self, blocks: TaskBlocks, X: Any) -> Any:
        """All training rows in the caller's order: the list concatenated, or X itself (long format).

        Sparse when any block is (a list mixing dense and sparse blocks becomes one CSR block)."""
        dtype = blocks.X[0].dtype
        if blocks.form == "long":
            return check_design(X, "X", dtype, accept_sparse=self._accepts_sparse())
        if any(is_sparse(block) for block in blocks.X):
            return as_canonical_csr(sp.vstack(blocks.X, format="csr", dtype=dtype), "X", dtype)
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
        if not np.all(np.isfinite(values)):
            raise NumericalError(
                "the callable kernel returned NaN or infinite values; check the kernel and the scale of X"
            )
        return values

    def _expansion_attributes(
        self, c_sorted: np.ndarray, intercept: np.ndarray, problem: DualProblem
    ) -> dict[str, Any]:
        """The fitted attributes of the expansion (for ``store_fit``): ``dual_coef_`` from c in the core's
        order, ``intercept_`` and what predicting needs."""
        blocks, B, order = problem.blocks, problem.B, problem.order
        T = blocks.n_tasks
        n_per_task = [block.shape[0] for block in blocks.X]
        if problem.shared:
            C = c_sorted.reshape(T, -1).T  # (n, T): column t is c_t
            dual_coef = C[:, 0] if blocks.form == "single" else C
            weights = C @ B  # W_jt = sum_s c_sj B_st
        else:
            dual_coef = np.empty_like(c_sorted)
            dual_coef[order] = c_sorted
            task_of = np.repeat(np.arange(T), n_per_task)
            weights = np.empty((c_sorted.size, T), dtype=c_sorted.dtype)
            weights[order] = c_sorted[:, None] * B[task_of]  # W_jt = c_j B_{task(j) t}
        # f_t(x) = sum_j k(x, x_j) W_jt + b_t over the training inputs in the caller's order.
        return {
            "dual_coef_": dual_coef,
            "_expansion_weights": np.ascontiguousarray(weights),
            "intercept_": intercept,
            "task_kernel_": B,
            "tasks_": blocks.labels,
            "X_fit_": None if self.kernel == "precomputed" else problem.inputs,
            "_input_form": blocks.form,
        }

    # -------------------------------------------------------------- predict

    def _expansion_values(self, X: Any, tasks: Any = None) -> Any:
        """Every task's kernel expansion f_t(x) at the test inputs, in the form of the input
        (the body of ``MultiTaskKernelRidge.predict`` and ``MultiTaskSVC.decision_function``)."""
        return self._expansion_values_of(X, tasks)[0]

    def _expansion_values_of(
        self, X: Any, tasks: Any, coefficients: list[tuple[np.ndarray, np.ndarray]] | None = None
    ) -> list:
        """``_expansion_values`` of several models that share this one's training inputs and
        differ only in their expansion weights and intercepts, ``coefficients`` =
        [(weights (N, w), intercept (T,)), ...] (None: this model's): the kernel between the
        test and the training inputs is evaluated once, against all the weights side by side
        (a path's models)."""
        form, X = self._prediction_form(X, tasks)  # NotFittedError first when unfitted
        if coefficients is None:
            coefficients = [(self._expansion_weights, self.intercept_)]
        width = coefficients[0][0].shape[1]
        if form == "long":
            X = self._checked_test_rows(X, "X")
            task_index = self._task_positions(check_tasks(tasks, X.shape[0]))
            expansions = self._expansion(X, np.hstack([weights for weights, _ in coefficients]))
            rows = np.arange(X.shape[0])
            return [expansions[:, a * width:(a + 1) * width][rows, task_index] + intercept[task_index]
                    for a, (_, intercept) in enumerate(coefficients)]
        if form == "lists":
            blocks = [self._expansion(self._checked_test_rows(block, f"X[{t}]"),
                                      np.column_stack([weights[:, t] for weights, _ in coefficients]))
                      for t, block in enumerate(X)]
            return [[blocks[t][:, a] + intercept[t] for t in range(len(blocks))]
                    for a, (_, intercept) in enumerate(coefficients)]
        X_checked = self._checked_test_rows(X, "X")
        expansions = self._expansion(X_checked, np.hstack([weights for weights, _ in coefficients]))
        predictions = [expansions[:, a * width:(a + 1) * width] + intercept for a, (_, intercept) in enumerate(coefficients)]
        return [values[:, 0] for values in predictions] if self._input_form == "single" else predictions

    def _checked_test_rows(self, X: Any, name: str) -> Any:
        original, X = X, check_design(X, name, common_float_dtype([X]), accept_sparse=self._accepts_sparse())
        self._check_n_features(X.shape[1], name)
        self._check_feature_names(original, name)
        return X

    def _expansion(self, X: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """k(X, X_fit_) @ weights (m, w), or X @ weights for precomputed kernel values; NumericalError on overflow."""
        return finite_predictions(self._raw_expansion(X, weights))

    def _raw_expansion(self, X: np.ndarray, weights: np.ndarray) -> np.ndarray:
        if isinstance(getattr(self, "feature_map_", None), RandomFourierMap):
            return self.feature_map_.expansion(X, weights)
        if self.kernel == "precomputed":
            return X @ weights
        return self._kernel_product(X, self.X_fit_, weights)

    def _kernel_product(self, X: np.ndarray, X_fit: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """k(X, X_fit) @ weights (m, w) for a kernel name or callable (not "precomputed")."""
        if callable(self.kernel):
            return self._callable_values(X, X_fit, weights.dtype) @ weights
        dtype = np.result_type(X.dtype, X_fit.dtype)
        # The core's kernels take both operands of one kind: sparse test rows
        # against dense training inputs are densified (the fit was dense, so d
        # is moderate); dense test rows against sparse ones are made CSR.
        if is_sparse(X_fit):
            X = X if is_sparse(X) else sp.csr_array(X)
        elif is_sparse(X):
            X = X.toarray()
        return core_function("kernel_values", dtype)(
            X1=_core_design(X, dtype, "X"),
            X2=_core_design(X_fit, dtype, "X_fit_"),
            kernel=self._kernel_name(),
            gamma=self._gamma_value(),
            coef0=float(self.coef0),
            degree=int(self.degree),
            weights=np.ascontiguousarray(weights, dtype=dtype),
            n_threads=effective_n_threads(self.n_jobs),
        )
