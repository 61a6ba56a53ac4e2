"""scikit-learn as a peer (a hard dependency of the package, so never missing)."""

from __future__ import annotations

import numpy as np

from ..problems.kernels import task_index
from .numpy_scipy import multitask_gram, test_gram
from .optional import quiet

MAX_ITER = 100_000


def logistic_one_task(X, y, C: float, tol: float) -> tuple[np.ndarray, float]:
    """``LogisticRegression(lbfgs, C)`` on one task: (coef (d,), intercept). Module level: picklable."""
    from sklearn.linear_model import LogisticRegression

    with quiet():
        model = LogisticRegression(solver="lbfgs", C=C, tol=tol, max_iter=MAX_ITER).fit(X, y)
    return model.coef_[0], model.intercept_[0]


def logistic_per_task(Xs: list, ys: list, C: float, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-task ``LogisticRegression`` in a Python loop: (coef (T, d), intercept (T,))."""
    fits = [logistic_one_task(X, y, C, tol) for X, y in zip(Xs, ys)]
    return np.array([c for c, _ in fits]), np.array([b for _, b in fits])


def logistic_per_task_processes(Xs: list, ys: list, C: float, tol: float,
                                n_jobs: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """The per-task fits spread over joblib ``loky`` processes (threads would serialise on the GIL);
    loky limits each worker's BLAS/OpenMP threads to cpu_count // n_jobs."""
    from joblib import Parallel, delayed

    fits = Parallel(n_jobs=n_jobs, backend="loky")(delayed(logistic_one_task)(X, y, C, tol) for X, y in zip(Xs, ys))
    return np.array([c for c, _ in fits]), np.array([b for _, b in fits])


def multitask_lasso(Xc, Yc, a: float, tol: float) -> tuple[np.ndarray, object]:
    """``MultiTaskLasso(alpha=a, fit_intercept=False)`` on centred data: (coef (T, d), n_iter)."""
    from sklearn.linear_model import MultiTaskLasso

    with quiet():
        model = MultiTaskLasso(alpha=a, fit_intercept=False, tol=tol, max_iter=MAX_ITER).fit(Xc, Yc)
    return model.coef_, model.n_iter_


def multitask_lasso_path(Xc, Yc, alphas: np.ndarray, tol: float) -> tuple[np.ndarray, int]:
    """``MultiTaskLasso.path`` (enet_path, ``l1_ratio=1.0``: its default is 0.5): (coef (K, T, d), iterations)."""
    from sklearn.linear_model import MultiTaskLasso

    with quiet():
        _, coefs, _, n_iters = MultiTaskLasso.path(Xc, Yc, l1_ratio=1.0, alphas=alphas, tol=tol, max_iter=MAX_ITER,
                                                   copy_X=False, return_n_iter=True)
    return np.moveaxis(coefs, -1, 0), int(np.sum(n_iters))


def kernel_ridge_precomputed(Xs, ys, tests, B, noise) -> np.ndarray:
    """``KernelRidge(kernel="precomputed", alpha=noise)`` on the multi-task Gram: test predictions."""
    from sklearn.kernel_ridge import KernelRidge

    M, X_all, task_of = multitask_gram(Xs, B)
    model = KernelRidge(alpha=noise, kernel="precomputed").fit(M, np.concatenate(ys))
    return model.predict(test_gram(tests, X_all, task_of, B))


def svc_gram(X1s: list, X2s: list, B: np.ndarray, gamma: float) -> np.ndarray:
    """Rows (task s, x) against columns (task t, x'): B_st k(x, x'), k from scikit-learn's rbf_kernel."""
    from sklearn.metrics.pairwise import rbf_kernel

    return B[np.ix_(task_index(X1s), task_index(X2s))] * rbf_kernel(np.vstack(X1s), np.vstack(X2s), gamma=gamma)
