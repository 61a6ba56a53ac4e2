# Type stub of the compiled core as the package sees it: `core` is the
# extension module `_core_<isa>` chosen at import time. Every fit function takes
# keyword arguments only (the bindings declare them with py::kw_only), so a
# transposed argument is a TypeError, never a silently different model.
from types import ModuleType
from typing import Any, Protocol, Sequence, TypedDict, Union

import numpy as np
from numpy.typing import NDArray

# A design (a task's rows, or a kernel machine's inputs): a C-contiguous (n, d) array, or CSR as
# (data, indices, indptr, n_features) with int32 indices.
DesignBlock = Union[NDArray[np.floating[Any]], tuple[NDArray[np.floating[Any]], NDArray[np.int32], NDArray[np.int32], int]]

class SolveReport(TypedDict):
    """What every fit reports (C++ SolveReport): the solver that ran and its final convergence measure."""

    solver: str
    n_iter: int
    converged: bool
    residual: float  # the quantity tol bounds: relative KKT residual, cg's relative residual, SVM KKT violation

class LinearFitResult(SolveReport):
    coef: NDArray[np.floating[Any]]  # (T, d)
    intercept: NDArray[np.floating[Any]]  # (T,)
    data_passes: int
    objective_history: NDArray[np.float64]
    preconditioner: str
    exact_method: str  # exact only: "sylvester", "low_rank_coupling" or "dense_cholesky"
    dual_gap: float  # row solver only, else NaN
    dual_gap_scale: float  # P(0): the row solver stops on dual_gap / dual_gap_scale <= tol
    screened: NDArray[np.bool_]

class KernelRidgeResult(SolveReport):
    dual_coef: NDArray[np.floating[Any]]
    intercept: NDArray[np.floating[Any]]
    gram: str  # cg only: how M was applied ("kronecker", "cached", "on_the_fly")

class SVCResult(SolveReport):
    dual: NDArray[np.float64]  # the dual variables a_i
    intercept: NDArray[np.float64]

class SharedSubspaceResult(SolveReport):
    components: NDArray[np.float64]  # U (d, r)
    heads: NDArray[np.float64]  # A (r, T)
    intercept: NDArray[np.float64]  # (T,)
    objective_history: NDArray[np.float64]  # F at the start, then after every iteration
    alternating_sweeps: int
    hessian_products: int
    zero_solution: bool  # W = 0 certified optimal, returned without iterating

class KernelRidgePathResult(TypedDict):
    dual_coefs: NDArray[np.float64]
    intercepts: NDArray[np.float64]
    method: str

class CoreModule(Protocol):
    build_info: dict[str, Any]
    def openmp_max_threads(self) -> int: ...
    def cpu_isa_levels(self) -> list[str]: ...
    def fit_least_squares_f64(
        self, *, X: Sequence[NDArray[np.float64]], y: Sequence[NDArray[np.float64]], sample_weight: NDArray[np.float64],
        coupling: NDArray[np.float64], alpha: float, fit_intercept: bool, shared_design: bool, solver: str, tol: float,
        max_iter: int, n_threads: int, warm_start: NDArray[np.float64] | None,
    ) -> LinearFitResult: ...
    def fit_least_squares_path_f64(
        self, *, X: Sequence[NDArray[np.float64]], y: Sequence[NDArray[np.float64]], sample_weight: NDArray[np.float64],
        coupling: NDArray[np.float64], alphas: Sequence[float], fit_intercept: bool, shared_design: bool, solver: str,
        tol: float, max_iter: int, n_threads: int,
    ) -> list[LinearFitResult]: ...
    def fit_shared_subspace_f64(
        self, *, X: Sequence[DesignBlock], y: Sequence[NDArray[np.float64]], sample_weight: NDArray[np.float64],
        coupling: NDArray[np.float64], alpha: float, alpha_u: float, n_components: int, fit_intercept: bool,
        shared_design: bool, tol: float, max_iter: int, n_threads: int,
        initial_components: NDArray[np.float64] | None,
    ) -> SharedSubspaceResult: ...
    def fit_linear_model_f64(
        self, *, X: Sequence[DesignBlock], y: Sequence[NDArray[np.float64]], sample_weight: NDArray[np.float64],
        coupling: NDArray[np.float64], alpha: float, fit_intercept: bool, loss: str, loss_parameter: float = ...,
        l1: float, l21: float, trace_norm: float, solver: str, tol: float, max_iter: int, n_threads: int,
        warm_coef: NDArray[np.float64] | None, warm_intercept: NDArray[np.float64] | None,
    ) -> LinearFitResult: ...
    def linear_model_objective(
        self, *, X: Sequence[DesignBlock], y: Sequence[NDArray[np.float64]], sample_weight: NDArray[np.float64],
        coupling: NDArray[np.float64], alpha: float, fit_intercept: bool, loss: str, loss_parameter: float = ...,
        coef: NDArray[np.float64], intercept: NDArray[np.float64],
    ) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]: ...
    def linear_model_hessian_product(
        self, *, X: Sequence[DesignBlock], y: Sequence[NDArray[np.float64]], sample_weight: NDArray[np.float64],
        coupling: NDArray[np.float64], alpha: float, fit_intercept: bool, loss: str, loss_parameter: float = ...,
        coef: NDArray[np.float64], intercept: NDArray[np.float64], direction_coef: NDArray[np.float64],
        direction_intercept: NDArray[np.float64],
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
    def penalty_max(
        self, *, X: Sequence[DesignBlock], y: Sequence[NDArray[np.float64]], sample_weight: NDArray[np.float64],
        fit_intercept: bool, loss: str, loss_parameter: float = ..., l1: float, l21: float, penalty: str,
    ) -> float: ...
    def penalty_value(self, coef: NDArray[np.float64], *, l1: float, l21: float, trace_norm: float) -> float: ...
    def penalty_prox(
        self, coef: NDArray[np.float64], *, tau: float, l1: float, l21: float, trace_norm: float
    ) -> NDArray[np.float64]: ...
    def penalty_prox_row_scaled(
        self, row: NDArray[np.float64], step: NDArray[np.float64], *, l1: float, l21: float
    ) -> NDArray[np.float64]: ...
    def row_kkt_violation(
        self, gradient: NDArray[np.float64], coef: NDArray[np.float64], *, l1: float, l21: float
    ) -> float: ...
    def row_dual_norm(self, v: NDArray[np.float64], *, l1: float, l21: float) -> float: ...
    def fit_kernel_ridge_f64(
        self, *, X: DesignBlock | None, gram: NDArray[np.float64] | None, kernel: str, gamma: float,
        coef0: float, degree: int, task_kernel: NDArray[np.float64], offsets: list[int], shared: bool,
        ridge: NDArray[np.float64], y: NDArray[np.float64], fit_intercept: bool, solver: str, tol: float,
        max_iter: int, n_threads: int, max_cache_bytes: float,
    ) -> KernelRidgeResult: ...
    def fit_kernel_ridge_f32(
        self, *, X: DesignBlock | None, gram: NDArray[np.float32] | None, kernel: str, gamma: float,
        coef0: float, degree: int, task_kernel: NDArray[np.float64], offsets: list[int], shared: bool,
        ridge: NDArray[np.float64], y: NDArray[np.float32], fit_intercept: bool, solver: str, tol: float,
        max_iter: int, n_threads: int, max_cache_bytes: float,
    ) -> KernelRidgeResult: ...
    def kernel_values_f64(
        self, *, X1: DesignBlock, X2: DesignBlock, kernel: str, gamma: float, coef0: float,
        degree: int, weights: NDArray[np.float64] | None, n_threads: int,
    ) -> NDArray[np.float64]: ...
    def kernel_values_f32(
        self, *, X1: DesignBlock, X2: DesignBlock, kernel: str, gamma: float, coef0: float,
        degree: int, weights: NDArray[np.float32] | None, n_threads: int,
    ) -> NDArray[np.float32]: ...
    def kernel_ridge_path_f64(
        self, *, X: DesignBlock | None, gram: NDArray[np.float64] | None, kernel: str, gamma: float,
        coef0: float, degree: int, task_kernel: NDArray[np.float64], offsets: list[int], shared: bool,
        unit_ridge: NDArray[np.float64], y: NDArray[np.float64], fit_intercept: bool, alphas: NDArray[np.float64],
        method: str, n_threads: int,
    ) -> KernelRidgePathResult: ...
    def fit_svc(
        self, *, X: DesignBlock | None, gram: NDArray[np.float64] | None, kernel: str, gamma: float,
        coef0: float, degree: int, task_kernel: NDArray[np.float64], offsets: list[int], shared: bool,
        y: NDArray[np.float64], upper: NDArray[np.float64], intercept: str, tol: float, max_iter: int,
        cache_bytes: float, shrinking: bool, n_threads: int,
    ) -> SVCResult: ...
    # The multi-task GP (cpp/include/multitask/gp): the LCM covariance is given as four lists with one
    # entry per term: kernels ("rbf", "matern32", "matern52", "linear"), L (T, r), log_kappa (T,), theta.
    def gp_covariance(
        self, *, X1: NDArray[np.float64], tasks1: NDArray[np.int64], X2: NDArray[np.float64],
        tasks2: NDArray[np.int64], kernels: list[str], L: list[NDArray[np.float64]],
        log_kappa: list[NDArray[np.float64]], theta: list[NDArray[np.float64]], n_threads: int,
    ) -> NDArray[np.float64]: ...
    def gp_covariance_diagonal(
        self, *, X: NDArray[np.float64], tasks: NDArray[np.int64], kernels: list[str],
        L: list[NDArray[np.float64]], log_kappa: list[NDArray[np.float64]], theta: list[NDArray[np.float64]],
    ) -> NDArray[np.float64]: ...
    def gp_covariance_gradient(
        self, *, X1: NDArray[np.float64], tasks1: NDArray[np.int64], X2: NDArray[np.float64],
        tasks2: NDArray[np.int64], W: NDArray[np.float64], kernels: list[str], L: list[NDArray[np.float64]],
        log_kappa: list[NDArray[np.float64]], theta: list[NDArray[np.float64]], n_threads: int,
    ) -> NDArray[np.float64]: ...
    def gp_covariance_diagonal_gradient(
        self, *, X: NDArray[np.float64], tasks: NDArray[np.int64], w: NDArray[np.float64], kernels: list[str],
        L: list[NDArray[np.float64]], log_kappa: list[NDArray[np.float64]], theta: list[NDArray[np.float64]],
    ) -> NDArray[np.float64]: ...
    def gp_lml_dense(
        self, *, X: NDArray[np.float64], tasks: NDArray[np.int64], y: NDArray[np.float64], kernels: list[str],
        L: list[NDArray[np.float64]], log_kappa: list[NDArray[np.float64]], theta: list[NDArray[np.float64]],
        log_noise: NDArray[np.float64], mean: NDArray[np.float64], profile_mean: bool, eval_gradient: bool,
        keep_factor: bool, n_threads: int,
    ) -> dict[str, Any]: ...  # positive_definite, value, gradient, alpha, mean, factor
    def gp_lml_kronecker(
        self, *, X: NDArray[np.float64], Y: NDArray[np.float64], kernels: list[str], L: list[NDArray[np.float64]],
        log_kappa: list[NDArray[np.float64]], theta: list[NDArray[np.float64]], log_noise: NDArray[np.float64],
        mean: NDArray[np.float64], profile_mean: bool, eval_gradient: bool, keep_factors: bool, n_threads: int,
    ) -> dict[str, Any]: ...  # value, gradient, mean; with keep_factors V, delta, U, lambda, alpha
    def centred_task_statistics(
        self, X: NDArray[np.floating], y: NDArray[np.floating], task: NDArray[np.int64], *, n_tasks: int,
        n_threads: int = 1,
    ) -> dict[str, NDArray[np.float64]]: ...  # counts, x_mean, y_mean, xx, xy, yy
    def task_newton_sums(
        self, X: NDArray[np.floating], y: NDArray[np.floating], task: NDArray[np.int64], *,
        coef: NDArray[np.float64], intercept: NDArray[np.float64], loss: str, fit_intercept: bool,
        n_threads: int = 1,
    ) -> dict[str, NDArray[np.float64]]: ...  # loss, gradient, hessian

core: CoreModule

def available_isa_levels() -> list[str]: ...
def load_core(level: str | None = None) -> ModuleType: ...
