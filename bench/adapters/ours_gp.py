"""Our multi-task Gaussian process (``MultiTaskGaussianProcessRegressor``) with the suite's conventions.

The benchmark model: one ICM term with the RBF input kernel (ARD), zero mean, the L-BFGS-B ML-II with
no restarts, ``random_state=0`` (a fixed start), and ``n_jobs`` = the suite's thread count.
"""

from __future__ import annotations

import numpy as np

import multitask as mt

from .optional import quiet


def estimator(rank: int, method: str, max_iter: int, threads: int, optimizer: str | None = "L-BFGS-B"):
    """The benchmark configuration of ``MultiTaskGaussianProcessRegressor``."""
    return mt.MultiTaskGaussianProcessRegressor(kernel="rbf", rank=rank, ard=True, mean="zero", method=method,
                                                optimizer=optimizer, max_iter=max_iter, n_restarts=0,
                                                random_state=0, n_jobs=threads)


def fit(X, y, rank: int, method: str, max_iter: int, threads: int):
    """The full ML-II fit (``X, y``: task lists, or a shared design X (n, d) and Y (n, T))."""
    with quiet():  # a ConvergenceWarning at max_iter is reported by the counts, not by a warning
        return estimator(rank, method, max_iter, threads).fit(X, y)


def initial(X, y, rank: int, method: str, threads: int):
    """The estimator at its default starting hyperparameters (``optimizer=None``: no optimisation)."""
    with quiet():
        return estimator(rank, method, 1, threads, optimizer=None).fit(X, y)


def evaluation(model, theta: np.ndarray):
    """One log marginal likelihood + gradient evaluation of a fitted model at ``theta`` (a callable)."""
    return lambda: model.log_marginal_likelihood(theta, eval_gradient=True)


def counts(model) -> tuple[int, int]:
    """(L-BFGS-B iterations, likelihood evaluations) of a fit."""
    return int(np.sum(model.n_iter_)), int(model.n_evaluations_)


def core_parts(Xs: list, ys: list, hyper, threads: int) -> dict[str, object]:
    """The parts of one dense evaluation as direct calls of the C++ core (the profile of G1), or {} when the
    private signatures have changed (a profiling table is dropped, nothing fails).

    ``hyper`` is a ``problems.gaussian_process.ICMHyper``. The covariance matrix; the likelihood without
    gradient (covariance, Cholesky, triangular solves); the inverse from the Cholesky factor (LAPACK
    dpotri, which the core calls through SciPy); the gradient pass over the N^2/2 pairs with a weight
    matrix.
    """
    import scipy.linalg

    from multitask._core import core

    X, tasks, y = np.vstack(Xs), np.repeat(np.arange(len(Xs)), [len(x) for x in Xs]), np.concatenate(ys)
    terms = dict(kernels=["rbf"], L=[hyper.W], log_kappa=[np.log(hyper.kappa)], theta=[np.log(hyper.lengthscale)])
    pairs = dict(X1=X, tasks1=tasks, X2=X, tasks2=tasks, **terms, n_threads=threads)
    try:
        likelihood = dict(X=X, tasks=tasks, y=y, **terms, log_noise=np.log(hyper.noise), mean=np.zeros(len(Xs)),
                          profile_mean=False, eval_gradient=False, keep_factor=True, n_threads=threads)
        factor = np.asfortranarray(core.gp_lml_dense(**likelihood)["factor"])
        weights = np.asfortranarray(scipy.linalg.lapack.dpotri(factor, lower=1)[0])
        core.gp_covariance_gradient(W=weights, **pairs)
    except Exception:  # noqa: BLE001 - a changed private API only drops the profile
        return {}
    likelihood["keep_factor"] = False
    return {"covariance matrix (core gp_covariance)": lambda: core.gp_covariance(**pairs),
            "covariance + Cholesky + solves (core gp_lml_dense, no gradient)": lambda: core.gp_lml_dense(**likelihood),
            "inverse from the factor (LAPACK dpotri)": lambda: scipy.linalg.lapack.dpotri(factor, lower=1),
            "gradient pass over the pairs (core gp_covariance_gradient)":
                lambda: core.gp_covariance_gradient(W=weights, **pairs)}
