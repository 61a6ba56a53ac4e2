"""Our estimators with the suite's conventions, and direct calls of the C++ core.

The direct core calls skip the Python layer (input checks): they are used to profile that layer and
to read the core's ``data_passes``, never as the figure a target is judged on. They return None when
the private signature has changed, which drops a profiling row instead of failing the workload.
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import scipy.sparse as sp

import multitask as mt
from multitask._core import core

from ..problems.least_squares import Problem
from ..problems.logistic import signed_labels
from .optional import quiet

MAX_ITER = 100_000


def fit_regressor(problem: Problem, solver: str, tol: float, threads: int, max_iter: int = MAX_ITER):
    """``KernelCoupledRegressor`` on the problem's task lists."""
    model = mt.KernelCoupledRegressor(coupling=problem.K, alpha=problem.alpha, solver=solver, tol=tol,
                                      max_iter=max_iter, n_jobs=threads)
    with quiet():
        return model.fit(problem.Xs, problem.ys)


def core_regressor_run(problem: Problem, solver: str, tol: float, threads: int) -> Optional[Callable[[], object]]:
    """The same fit as ``fit_regressor`` as a direct call of the core, or None (see the module docstring)."""
    weights = np.full(len(problem.Xs), 1.0 / problem.n_total)  # uniform task weights: s_t = 1/N

    def run():
        return core.fit_least_squares_f64(X=problem.Xs, y=problem.ys, sample_weight=weights, coupling=problem.K,
                                          alpha=float(problem.alpha), fit_intercept=True, shared_design=False,
                                          solver=solver, tol=tol, max_iter=MAX_ITER, n_threads=threads,
                                          warm_start=None)

    try:
        coef = np.asarray(run()["coef"])
        reference = fit_regressor(problem, solver, tol, threads)
        coef = coef if coef.shape == reference.coef_.shape else coef.T
        if not np.allclose(coef, reference.coef_, rtol=1e-8, atol=1e-12):
            return None
    except Exception:  # noqa: BLE001 - a changed private API only drops a profiling row
        return None
    return run


def fit_shared_design(X: np.ndarray, Y: np.ndarray, K: np.ndarray, alpha: float, threads: int):
    """``KernelCoupledRegressor(solver="exact").fit(X, Y)``: the shared-design Sylvester solver."""
    return mt.KernelCoupledRegressor(coupling=K, alpha=alpha, solver="exact", n_jobs=threads).fit(X, Y)


def fit_classifier(Xs: list, ys: list, *, coupling, alpha: float, solver: str = "auto", tol: float = 1e-8,
                   threads: int = 1, max_iter: int = MAX_ITER):
    """``KernelCoupledClassifier`` on task lists (callers check the gap)."""
    model = mt.KernelCoupledClassifier(coupling=coupling, alpha=alpha, solver=solver, tol=tol, max_iter=max_iter,
                                       n_jobs=threads)
    with quiet():
        return model.fit(Xs, ys)


def core_classifier_fit(Xs: list, ys: list, K: np.ndarray, alpha: float, solver: str, tol: float,
                        threads: int = 1, max_iter: int = MAX_ITER) -> Optional[dict]:
    """The classifier's fit as a direct core call: its result dict (coef, intercept, n_iter, data_passes),
    or None. ``fit_linear_model_f64`` is the estimator's call; ``fit_classifier_f64`` its older name."""
    blocks = [(X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32), X.shape[1]) if sp.issparse(X)
              else np.ascontiguousarray(X, dtype=np.float64) for X in Xs]
    weights = np.full(len(Xs), 1.0 / sum(X.shape[0] for X in Xs))
    labels, coupling = signed_labels(ys), np.ascontiguousarray(K, dtype=float)
    try:
        if hasattr(core, "fit_linear_model_f64"):
            return core.fit_linear_model_f64(X=blocks, y=labels, sample_weight=weights, coupling=coupling,
                                             alpha=float(alpha), fit_intercept=True, loss="logistic", l1=0.0, l21=0.0,
                                             trace_norm=0.0, solver=solver, tol=tol, max_iter=max_iter,
                                             n_threads=threads, warm_coef=None, warm_intercept=None)
        return core.fit_classifier_f64(blocks, labels, weights, coupling, float(alpha), True, "logistic", solver,
                                       tol, max_iter, threads, None, None)
    except Exception:  # noqa: BLE001 - a changed private signature only drops the column
        return None


def core_data_passes(Xs: list, ys: list, K: np.ndarray, alpha: float, solver: str, tol: float,
                     threads: int = 1) -> tuple[Optional[int], Optional[int]]:
    """(n_iter, data_passes) of the classifier's fit from the core; (None, None) if that fails."""
    result = core_classifier_fit(Xs, ys, K, alpha, solver, tol, threads)
    if result is None:
        return None, None
    return int(result["n_iter"]), int(result["data_passes"])


def l21_estimator(rho: float, tol: float, threads: int, max_iter: int = MAX_ITER):
    """``KernelCoupledRegressor(coupling="identity", alpha=0, l21=rho)``: the L2,1 problem alone."""
    return mt.KernelCoupledRegressor(coupling="identity", alpha=0.0, l21=rho, tol=tol, max_iter=max_iter,
                                     n_jobs=threads)


def fit_l21(X, y, rho: float, tol: float, threads: int, max_iter: int = MAX_ITER):
    """The L2,1 estimator fitted on raw data (intercepts fitted)."""
    with quiet():
        return l21_estimator(rho, tol, threads, max_iter).fit(X, y)


def l21_penalty_max(X, y, threads: int) -> float:
    """rho_max from ``multitask.penalty_max`` (the smallest rho with W = 0)."""
    return mt.penalty_max(l21_estimator(0.0, 1e-8, threads), X, y, penalty="l21")


def l21_penalty_levels(X, y, T: int, threads: int, ratio: float) -> tuple[float, float, float]:
    """(rho_max, rho = ratio rho_max, a = T rho): our penalty and the peers' on the P = T F scale."""
    rho_max = l21_penalty_max(X, y, threads)
    rho = ratio * rho_max
    return rho_max, rho, T * rho


class RecordedL21Fits:
    """Our L2,1 fit as a ``Method.solve``; each fit kept by tolerance (for its ``solver_``, ``dual_gap_``)."""

    def __init__(self, X, y, rho: float, threads: int):
        self.X, self.y, self.rho, self.threads, self.fits = X, y, rho, threads, {}

    def __call__(self, tol: float) -> tuple[np.ndarray, int]:
        self.fits[tol] = fit_l21(self.X, self.y, self.rho, tol, self.threads)
        return self.fits[tol].coef_, self.fits[tol].n_iter_


def l21_path(X, Y, values: np.ndarray, tol: float, threads: int, max_iter: int = MAX_ITER):
    """``regularization_path`` over ``values``: (coef (K, T, d), iterations summed over the path)."""
    with quiet():
        path = mt.regularization_path(l21_estimator(0.0, tol, threads, max_iter=max_iter), X, Y,
                                      penalty="l21", values=values)
    return path.coef, int(np.sum(path.n_iter))


def kernel_ridge(task_kernel: np.ndarray, alpha: float, threads: int, gamma: float, **params):
    """An unfitted ``MultiTaskKernelRidge`` with an RBF input kernel and no intercept."""
    return mt.MultiTaskKernelRidge(kernel="rbf", gamma=gamma, task_kernel=task_kernel, alpha=alpha,
                                   fit_intercept=False, n_jobs=threads, **params)


def stacked_predictions(model, X_test) -> np.ndarray:
    """A multi-task model's predictions as one vector (task lists concatenated)."""
    predicted = model.predict(X_test)
    return np.concatenate(predicted) if isinstance(predicted, list) else np.ravel(predicted)
