"""Reference routes written directly in numpy/scipy (LAPACK through scipy.linalg)."""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse.linalg

from ..problems.gaussian_process import rbf_ard
from ..problems.kernels import rbf, task_index
from ..problems.least_squares import Problem


# --------------------------------------------------------------------------- least squares, per-task designs


def dense_cholesky(problem: Problem) -> np.ndarray:
    """coef (T, d) from a dense Cholesky of (blockdiag(A_t) + alpha K (x) I_d) vec(W) = vec(C).

    Everything counts: the Grams, forming the (dT, dT) matrix, cho_factor, cho_solve.
    """
    grams, rhs = problem.centred_statistics()
    T, d = rhs.shape
    H = np.kron(problem.alpha * problem.K, np.eye(d))
    for t in range(T):
        H[t * d : (t + 1) * d, t * d : (t + 1) * d] += grams[t]
    factor = scipy.linalg.cho_factor(H, lower=True, overwrite_a=True, check_finite=False)
    return scipy.linalg.cho_solve(factor, rhs.ravel(), check_finite=False).reshape(T, d)


def scipy_cg(problem: Problem, rtol: float, maxiter: int | None = None) -> tuple[np.ndarray, int]:
    """Unpreconditioned scipy CG on H vec(W) = vec(C), H(W)_t = A_t w_t + alpha (K W)_t from the Grams.

    Returns
    -------
    coef : ndarray of shape (T, d)
    iterations : int
    """
    grams, rhs = problem.centred_statistics()
    T, d = rhs.shape
    alpha_K = problem.alpha * problem.K

    def apply(v: np.ndarray) -> np.ndarray:
        W = v.reshape(T, d)
        return (np.matmul(grams, W[:, :, None])[:, :, 0] + alpha_K @ W).ravel()

    iterations = [0]

    def count(_):
        iterations[0] += 1

    operator = scipy.sparse.linalg.LinearOperator((T * d, T * d), matvec=apply, dtype=np.float64)
    solution, _ = scipy.sparse.linalg.cg(operator, rhs.ravel(), rtol=rtol, atol=0.0, maxiter=maxiter or 100_000,
                                         callback=count)
    return solution.reshape(T, d), iterations[0]


# --------------------------------------------------------------------------- least squares, shared design
# With uniform task weights N = n T, A_t = G / N with G = Xc^T Xc, C = Xc^T Yc / N, and the optimum
# solves the Sylvester equation (G / N) W + alpha W K = C (W: d x T).


def centred_statistics(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """G / N and C = Xc^T Yc / N with N = n T, from centred copies of X and Y."""
    Xc = X - X.mean(axis=0)
    Yc = Y - Y.mean(axis=0)
    scale = 1.0 / (X.shape[0] * Y.shape[1])
    return (Xc.T @ Xc) * scale, (Xc.T @ Yc) * scale


def raw_statistics(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same from products of the raw X: Xc^T Xc = X^T X - n m m^T, Xc^T Yc = X^T Y - n m ybar^T."""
    n = X.shape[0]
    m, ybar = X.mean(axis=0), Y.mean(axis=0)
    scale = 1.0 / (n * Y.shape[1])
    G = X.T @ X
    G -= n * np.outer(m, m)
    C = X.T @ Y
    C -= n * np.outer(m, ybar)
    return G * scale, C * scale


def eigh_solve(A: np.ndarray, C: np.ndarray, K: np.ndarray, alpha: float) -> np.ndarray:
    """W (T, d) solving A W + alpha W K = C in the eigenbases of A (d, d) and K (T, T)."""
    lam, Q = np.linalg.eigh(A)
    kappa, U = np.linalg.eigh(K)
    Z = (Q.T @ C @ U) / (lam[:, None] + alpha * kappa[None, :])
    return (Q @ Z @ U.T).T


def eigh_route(X, Y, K, alpha):
    """eigh of the centred Gram and of K."""
    return eigh_solve(*centred_statistics(X, Y), K, alpha)


def eigh_raw_route(X, Y, K, alpha):
    """eigh route with the products formed on the raw X (no centred copy of X)."""
    return eigh_solve(*raw_statistics(X, Y), K, alpha)


def sylvester_route(X, Y, K, alpha):
    """scipy.linalg.solve_sylvester(G / N, alpha K, C) (Bartels-Stewart)."""
    A, C = centred_statistics(X, Y)
    return scipy.linalg.solve_sylvester(A, alpha * K, C).T


SHARED_DESIGN_ROUTES = {
    "numpy eigh route (centred copies)": eigh_route,
    "numpy eigh route (raw products, rank-one correction)": eigh_raw_route,
    "scipy.linalg.solve_sylvester": sylvester_route,
}


# --------------------------------------------------------------------------- kernel ridge


def multitask_gram(Xs: list, B: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """M = B[t_i, t_j] k(x_i, x_j) over the stacked samples, the stacked X, and the task of each row."""
    X_all = np.vstack(Xs)
    task_of = task_index(Xs)
    return B[np.ix_(task_of, task_of)] * rbf(X_all, X_all), X_all, task_of


def test_gram(tests: list, X_all: np.ndarray, task_of: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Rows (task t, test x) of the multi-task kernel against every training sample."""
    return np.vstack([B[t, task_of] * rbf(X, X_all) for t, X in enumerate(tests)])


def _cholesky_predict(Xs, ys, tests, B, noise, transpose: bool) -> np.ndarray:
    M, X_all, task_of = multitask_gram(Xs, B)
    M[np.diag_indices_from(M)] += noise
    factor = scipy.linalg.cho_factor(M.T if transpose else M, lower=True, overwrite_a=True, check_finite=False)
    c = scipy.linalg.cho_solve(factor, np.concatenate(ys), check_finite=False)
    return test_gram(tests, X_all, task_of, B) @ c


def kernel_ridge_cholesky(Xs, ys, tests, B, noise) -> np.ndarray:
    """cdist + exp, then cho_factor/cho_solve on M as it is (C order: cho_factor copies it)."""
    return _cholesky_predict(Xs, ys, tests, B, noise, transpose=False)


def kernel_ridge_cholesky_in_place(Xs, ys, tests, B, noise) -> np.ndarray:
    """As ``kernel_ridge_cholesky`` on the F-ordered transpose: M is symmetric, so LAPACK factorises it in
    place without the N x N copy (the fastest honest numpy route)."""
    return _cholesky_predict(Xs, ys, tests, B, noise, transpose=True)


def kernel_ridge_kronecker_dense(X, Y, X_test, B, noise) -> np.ndarray:
    """The (nT, nT) system B (x) K_x + s2 I, task-major, by cho_factor."""
    T = B.shape[0]
    M = np.kron(B, rbf(X, X))
    M[np.diag_indices_from(M)] += noise
    factor = scipy.linalg.cho_factor(M, lower=True, overwrite_a=True, check_finite=False)
    del M
    C = scipy.linalg.cho_solve(factor, Y.T.ravel(), check_finite=False).reshape(T, -1).T
    return rbf(X_test, X) @ C @ B


# --------------------------------------------------------------------------- Gaussian process


def gp_covariance(Xs: list, hyper) -> np.ndarray:
    """The ICM training covariance B[t_i, t_j] k(x_i, x_j) + diag(s2_{t_i}) over the stacked samples (F order).

    ``hyper`` is a ``problems.gaussian_process.ICMHyper``.
    """
    X_all, task_of = np.vstack(Xs), task_index(Xs)
    K = hyper.B[np.ix_(task_of, task_of)] * rbf_ard(X_all, X_all, hyper.lengthscale)
    K[np.diag_indices_from(K)] += hyper.noise[task_of]
    return np.asfortranarray(K)


def cholesky_and_inverse(K: np.ndarray) -> np.ndarray:
    """LAPACK dpotrf then dpotri on a copy of K: the (N, N) inverse that an exact likelihood gradient
    needs (tr(K^{-1} dK) for every parameter), N^3 flops: the floor of one evaluation."""
    factor, info = scipy.linalg.lapack.dpotrf(K, lower=1, overwrite_a=0)
    if info != 0:
        raise np.linalg.LinAlgError(f"dpotrf failed (info={info})")
    inverse, info = scipy.linalg.lapack.dpotri(factor, lower=1, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"dpotri failed (info={info})")
    return inverse
