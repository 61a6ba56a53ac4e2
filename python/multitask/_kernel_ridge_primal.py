r"""The primal route of MultiTaskKernelRidge: an explicit feature map, then the core's kernel-coupled solver.

With a feature map z (``_feature_maps``: Nyström or random Fourier features) the
multi-task kernel becomes :math:`B_{st}\,\langle z(x), z(x')\rangle`, a linear
kernel on the features. Its kernel ridge problem is then solved in the primal
(README, "Multi-task kernel machines"):

* **B positive definite**: exactly ``KernelCoupledRegressor`` on the features Z_t =
  z(X_t) with coupling K = B^{-1}, the same α, task weights and intercepts. The
  core forms the r x r Grams Z_t^T Z_t (O(N r^2)) and solves the (r T) system.
* **B only semidefinite** (e.g. B = 11^T: every task the same function): K = B^{-1}
  does not exist, and B^+ alone would leave the null space of B unpenalised
  instead of forbidden. With :math:`B = L L^T`, L (T, q) from the q positive
  eigenpairs of B, the functions of the multi-task RKHS are exactly
  :math:`f_t(x) = z(x)^T V L_t` (L_t row t of L) with norm ‖V‖_F, V (r, q). So
  :math:`f_t(x) = \langle \mathrm{vec} V, L_t \otimes z(x) \rangle`: ONE linear
  model on the features ψ(x, t) = L_t ⊗ z(x) of dimension r q with a plain ridge
  penalty (α/2)‖vec V‖², which is the core's problem with one task and coupling
  [[1]]. Two exact transformations make the per-task parts fit that single task:
  the unpenalised intercepts are profiled out by centring each task's features and
  targets (for fixed V the optimal b_t is ȳ_t − z̄_t^T V L_t), and the task weights
  s_t = ω_t / N of the squared loss are absorbed by scaling task t's rows by √s_t.
  Then W = V L^T (r, T) and b_t = ȳ_t − z̄_t^T w_t.

Memory: the features are built once, chunk by chunk, in the dtype of the input
(float32 stays float32) and handed to the core as per-task row views, without
further copies (N x r). The semidefinite route builds ψ in place of z when q = 1
(B = 11^T), otherwise its N x r q matrix next to z.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Union

import numpy as np
from sklearn.utils import check_random_state

from ._fit_result import FitResult, SolverOutcome, core_function, finite_predictions, solver_tol
from ._feature_maps import RANDOM_FEATURE_KERNELS, NystroemMap, RandomFourierMap, fill_features, nystroem_projection
from ._input import TaskBlocks
from ._sparse_input import is_sparse
from ._threads import effective_n_threads

if TYPE_CHECKING:
    from ._kernel_ridge import MultiTaskKernelRidge

__all__ = ["APPROXIMATE_SOLVERS", "feature_function", "fit_primal", "training_features"]

APPROXIMATE_SOLVERS = ("nystroem", "random_features")

FeatureMap = Union[NystroemMap, RandomFourierMap]

# Eigenvalues of B below this fraction of the largest are zero: B is then only
# semidefinite and goes through the range of B (module docstring). Above it,
# K = B^{-1} has a condition number below 1e10, which the core solves accurately.
TASK_KERNEL_RANK_RTOL = 1e-10

# The core's dense Cholesky on the (r T, r T) coupled system up to this size
# (2.3e10 flops, 128 MiB in float64); its conjugate gradient beyond.
DENSE_CORE_MAX_SIZE = 4096


def check_approximation(model: "MultiTaskKernelRidge") -> None:
    """ValueError for a kernel the approximate solvers cannot map to features."""
    if model.kernel == "precomputed":
        raise ValueError(
            f"kernel='precomputed' cannot be used with solver={model.solver!r}: the feature map evaluates the "
            "kernel at new points (landmarks, frequencies); pass the inputs and a kernel name or callable"
        )
    if model.solver == "random_features" and model.kernel not in RANDOM_FEATURE_KERNELS:
        raise ValueError(
            f"solver='random_features' needs a shift-invariant kernel, one of {RANDOM_FEATURE_KERNELS}; got "
            f"kernel={model.kernel!r} (use solver='nystroem' for it)"
        )


def _draw_map(model: "MultiTaskKernelRidge", inputs: np.ndarray) -> FeatureMap:
    """The feature map of ``model.solver`` from the training inputs (n_inputs, d) in the caller's order."""
    rng = check_random_state(model.random_state)
    m = int(model.n_components)
    if model.solver == "random_features":
        return RandomFourierMap.draw(model.kernel, model._gamma_value(), inputs.shape[1], m, rng, inputs.dtype)
    if m > inputs.shape[0]:
        raise ValueError(
            f"n_components={m} exceeds the {inputs.shape[0]} training inputs the Nyström landmarks are drawn from"
        )
    indices = np.sort(rng.choice(inputs.shape[0], size=m, replace=False))
    landmarks = inputs[indices] if is_sparse(inputs) else np.ascontiguousarray(inputs[indices])
    # k(L, L) in float64 whatever the input dtype: its small eigenvalues decide the rank.
    landmark_gram = finite_predictions(model._kernel_product(landmarks.astype(np.float64), landmarks, np.eye(m)))
    return NystroemMap(landmarks, indices, nystroem_projection(landmark_gram, inputs.dtype))


def feature_function(
    model: "MultiTaskKernelRidge", feature_map: FeatureMap | None = None
) -> Callable[[np.ndarray], np.ndarray]:
    """rows (k, d) -> z(rows) (k, r) for ``feature_map`` (default: the fitted ``model.feature_map_``).

    ``model`` supplies the input kernel of the Nyström features; it is only read.
    """
    feature_map = model.feature_map_ if feature_map is None else feature_map
    if isinstance(feature_map, NystroemMap):
        # k(rows, L) P: the estimator's input kernel against the landmarks.
        return lambda rows: finite_predictions(
            model._kernel_product(rows, feature_map.landmarks, feature_map.projection)
        )
    return feature_map.transform


def training_features(
    model: "MultiTaskKernelRidge", feature_map: FeatureMap, blocks: TaskBlocks
) -> tuple[np.ndarray, list[np.ndarray]]:
    """z(X_t) for every task: one (N, r) array, tasks one after the other, and its per-task row views.

    Parameters
    ----------
    model : MultiTaskKernelRidge
        Supplies the input kernel (see :func:`feature_function`); only read.
    feature_map : NystroemMap or RandomFourierMap
        The map z.
    blocks : TaskBlocks
        The training inputs per task.

    Returns
    -------
    Z : ndarray of shape (N, r), or (n, r) for a shared design
        In the dtype of the inputs.
    views : list of ndarray (n_t, r)
        C-contiguous row blocks of Z (Z itself for every task of a shared design).
    """
    features = feature_function(model, feature_map)
    r, dtype = feature_map.n_components, blocks.X[0].dtype
    if blocks.form in ("shared", "single"):
        Z = fill_features(features, blocks.X[0], np.empty((blocks.X[0].shape[0], r), dtype=dtype))
        return Z, [Z] * blocks.n_tasks
    offsets = np.concatenate([[0], np.cumsum([block.shape[0] for block in blocks.X])])
    Z = np.empty((offsets[-1], r), dtype=dtype)
    views = [Z[offsets[t] : offsets[t + 1]] for t in range(blocks.n_tasks)]
    for block, view in zip(blocks.X, views):
        fill_features(features, block, view)
    return Z, views


def _core_solver(size: int, shared: bool) -> str:
    """The core's solver for a coupled system of ``size`` unknowns: exact while small, else cg."""
    return "auto" if shared else ("exact" if size <= DENSE_CORE_MAX_SIZE else "cg")


def _solve_core(model: "MultiTaskKernelRidge", X: list, y: list, sample_weight: np.ndarray, coupling: np.ndarray,
                fit_intercept: bool, shared: bool) -> dict:
    """The core's kernel-coupled least squares (KernelCoupledRegressor's solver) on feature blocks X."""
    dtype = X[0].dtype
    return core_function("fit_least_squares", dtype)(
        X=X,
        y=y,
        sample_weight=np.asarray(sample_weight, dtype=np.float64),
        coupling=np.asarray(coupling, dtype=np.float64),
        alpha=float(model.alpha),
        fit_intercept=bool(fit_intercept),
        shared_design=bool(shared),
        solver=_core_solver(X[0].shape[1] * len(X), shared),
        tol=solver_tol(model.tol, dtype),
        max_iter=int(model.max_iter),
        n_threads=effective_n_threads(model.n_jobs),
        warm_start=None,
    )


def _fit_definite(model: "MultiTaskKernelRidge", feature_map: FeatureMap, blocks: TaskBlocks,
                  sample_weight: np.ndarray, K: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
    """B positive definite: KernelCoupledRegressor's problem on the features with coupling K = B^{-1}."""
    _, views = training_features(model, feature_map, blocks)
    shared = blocks.form in ("shared", "single")
    result = _solve_core(model, views, blocks.y, sample_weight, K, model.fit_intercept, shared)
    return result["coef"], result["intercept"], result


def _fit_semidefinite(model: "MultiTaskKernelRidge", feature_map: FeatureMap, blocks: TaskBlocks,
                      sample_weight: np.ndarray, L: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
    """B = L L^T only semidefinite: one ridge model vec V on ψ = √s_t (L_t ⊗ z̃) (module docstring)."""
    Z, views = training_features(model, feature_map, blocks)
    r, q, T, dtype = Z.shape[1], L.shape[1], blocks.n_tasks, Z.dtype
    offsets = np.concatenate([[0], np.cumsum([view.shape[0] for view in views])])
    # ψ overwrites z when q = 1 and the tasks own their rows of Z; otherwise it is a new (N, r q) array.
    in_place = q == 1 and blocks.form not in ("shared", "single")
    psi = Z if in_place else np.empty((offsets[-1], r * q), dtype=dtype)
    y_psi = np.empty(offsets[-1], dtype=dtype)
    feature_means, target_means = np.zeros((T, r)), np.zeros(T)
    for t in range(T):
        rows = slice(offsets[t], offsets[t + 1])
        scale = np.sqrt(sample_weight[t])
        if model.fit_intercept:
            feature_means[t] = views[t].mean(axis=0, dtype=np.float64)
            target_means[t] = blocks.y[t].mean(dtype=np.float64)
        # Column block 0 last: in place, it is z_t itself.
        for k in reversed(range(q)):
            block = psi[rows, k * r : (k + 1) * r]
            np.subtract(views[t], feature_means[t].astype(dtype), out=block)
            block *= dtype.type(scale * L[t, k])
        np.subtract(blocks.y[t], dtype.type(target_means[t]), out=y_psi[rows])
        y_psi[rows] *= dtype.type(scale)
    del Z, views  # the core reads only psi
    result = _solve_core(model, [psi], [y_psi], np.ones(1), np.ones((1, 1)), False, False)
    V = result["coef"][0].astype(np.float64).reshape(q, r).T  # (r, q): column k is the k-th block of vec V
    W = V @ L.T  # (r, T): w_t = V L_t
    intercept = target_means - np.einsum("tj,jt->t", feature_means, W)
    return W.T.astype(dtype), intercept.astype(dtype), result


def fit_primal(model: "MultiTaskKernelRidge", blocks: TaskBlocks, B: np.ndarray, sample_weight: np.ndarray,
               inputs: np.ndarray) -> FitResult:
    """Fit by ``model.solver`` in {"nystroem", "random_features"}: the fitted attributes, for ``store_fit``.

    Parameters
    ----------
    model : MultiTaskKernelRidge
        Supplies the parameters and the input kernel; only read.
    blocks : TaskBlocks
        Training data per task (in the core's task order).
    B : ndarray of shape (T, T)
        The task kernel, symmetric positive semidefinite.
    sample_weight : ndarray of shape (T,)
        s_t = ω_t / N.
    inputs : ndarray of shape (n_inputs, d)
        The distinct training inputs in the caller's order (the rows shared by every
        task, or all N rows); the Nyström landmarks are drawn from them.

    Returns
    -------
    result : FitResult
        How the core's solver ended and the attributes ``coef_``, ``intercept_``,
        ``feature_map_``, ``X_fit_`` (the landmarks, or None), ``kkt_residual_`` and
        what predicting needs.
    """
    check_approximation(model)
    feature_map = _draw_map(model, inputs)
    eigenvalues, eigenvectors = np.linalg.eigh(B)
    positive = eigenvalues > TASK_KERNEL_RANK_RTOL * eigenvalues[-1]
    if np.all(positive):
        K = (eigenvectors / eigenvalues) @ eigenvectors.T
        coef, intercept, result = _fit_definite(model, feature_map, blocks, sample_weight, 0.5 * (K + K.T))
    else:
        L = eigenvectors[:, positive] * np.sqrt(eigenvalues[positive])
        coef, intercept, result = _fit_semidefinite(model, feature_map, blocks, sample_weight, L)
    # Predictions f_t(x) = z(x) w_t + b_t; for Nyström z(x) w_t = k(x, L) (P w_t), the
    # expansion over the landmarks that predict evaluates for every model.
    if isinstance(feature_map, NystroemMap):
        weights = feature_map.projection @ coef.T.astype(np.float64)
    else:
        weights = coef.T
    residual = float(result["residual"])
    outcome = SolverOutcome(str(model.solver), int(result["n_iter"]), bool(result["converged"]),
                            f"relative KKT residual (the core's {result['solver']!r} solver on the features)",
                            residual, solver_tol(model.tol, coef.dtype))
    attributes = {
        "coef_": coef,  # (T, r): row t is w_t on the features
        "intercept_": intercept,
        "dual_coef_": None,
        "feature_map_": feature_map,
        "X_fit_": feature_map.landmarks if isinstance(feature_map, NystroemMap) else None,
        "_expansion_weights": np.ascontiguousarray(weights, dtype=coef.dtype),
        "task_kernel_": B,
        "tasks_": blocks.labels,
        "kkt_residual_": residual,
        "_input_form": blocks.form,
    }
    return FitResult(outcome, attributes)
