"""The parameter mappings to MALSAR and RMTL that the docs state, checked by fitting both sides.

MALSAR (MATLAB) and RMTL (R) cannot be installed here, so their side is their objective, written
in numpy from the formulas of their source files, and minimised without any of the package's code:
a dense solve of the normal equations where it is quadratic, proximal gradient descent run to a
fixed point where it has an l1, l2,1 or trace-norm term. The package's side is a
``KernelCoupledRegressor`` with the documented parameters (README, "Mappings to other packages";
``multitask.coupling.graph_laplacian``). Each test also checks that the package's objective times
the documented factor (N or T) equals the peer's objective at the same coefficients.

MALSAR's least-squares models (``Least_SRMTL``, ``Least_Lasso``, ``Least_L21``, ``Least_Trace``;
W is (d, T), column t the model of task t, no intercept):

    sum_t 1/2 ||X_t w_t - y_t||^2 + rho1 ||W R||_F^2 + rho_L2 ||W||_F^2 + rho_sparse Omega(W)

RMTL's regression with ``Regularization="Graph"`` (intercepts c_t, not penalised):

    sum_t 1/(2 n_t) ||y_t - X_t w_t - c_t||^2 + lam1 ||W G||_F^2 + lam2 ||W||_F^2

The Gaussian-process reading of ``MultiTaskKernelRidge`` is checked against scikit-learn's
``GaussianProcessRegressor`` at the end. The other scikit-learn mappings (``Ridge``,
``MultiTaskLasso``, ``ElasticNet``, ``LogisticRegression``, ``LinearSVC``, ``KernelRidge``,
``SVC``) are tested by fitting scikit-learn in test_special_cases.py, test_structure_penalties.py,
test_classifier.py, test_classification_core.py, test_kernel_ridge.py and test_svc.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF

import multitask as mt

SIZES = (25, 40, 30, 35)
D = 5


def _problem(seed: int):
    """Unequal tasks with related models, some coefficients near zero (so that sparse penalties act)."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(size=D) * np.array([2.0, 1.5, 0.05, 1.0, 0.02])
    Xs = [rng.normal(size=(n, D)) for n in SIZES]
    ys = [X @ (shared + 0.3 * rng.normal(size=D)) + 0.5 + 0.1 * rng.normal(size=n) for X, n in zip(Xs, SIZES)]
    return Xs, ys


def _graph(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A weighted task graph: adjacency A and MALSAR's/RMTL's T x E matrix R (column e = sqrt(a_st)(e_s - e_t))."""
    rng = np.random.default_rng(seed)
    T = len(SIZES)
    A = np.triu(rng.uniform(0.2, 2.0, size=(T, T)) * (rng.uniform(size=(T, T)) < 0.7), k=1)
    A[0, 1] = 1.3  # at least one edge
    A = A + A.T
    edges = [(s, t) for s in range(T) for t in range(s + 1, T) if A[s, t] > 0]
    R = np.zeros((T, len(edges)))
    for e, (s, t) in enumerate(edges):
        R[s, e], R[t, e] = np.sqrt(A[s, t]), -np.sqrt(A[s, t])
    return A, R


# --- MALSAR ---------------------------------------------------------------------------------


def _malsar_penalty(W: np.ndarray, kind: str) -> float:
    if kind == "l1":
        return float(np.abs(W).sum())
    if kind == "l21":
        return float(np.linalg.norm(W, axis=1).sum())  # rows of W (d, T) are features
    if kind == "trace":
        return float(np.linalg.svd(W, compute_uv=False).sum())
    return 0.0


def _malsar_prox(V: np.ndarray, threshold: float, kind: str) -> np.ndarray:
    """argmin_W 1/2 ||W - V||^2 + threshold Omega(W)."""
    if kind == "l1":
        return np.sign(V) * np.maximum(np.abs(V) - threshold, 0.0)
    if kind == "l21":
        norms = np.linalg.norm(V, axis=1, keepdims=True)
        return V * np.maximum(1.0 - threshold / np.maximum(norms, 1e-300), 0.0)
    if kind == "trace":
        U, s, Vt = np.linalg.svd(V, full_matrices=False)
        return (U * np.maximum(s - threshold, 0.0)) @ Vt
    return V


def malsar_objective(Xs, ys, W, rho1, R, rho_L2, rho_sparse=0.0, kind="none") -> float:
    """MALSAR's least-squares objective (Least_SRMTL.m, Least_Lasso.m, Least_L21.m, Least_Trace.m)."""
    data = sum(0.5 * np.sum((y - X @ w) ** 2) for X, y, w in zip(Xs, ys, W.T))
    return float(data + rho1 * np.linalg.norm(W @ R) ** 2 + rho_L2 * np.linalg.norm(W) ** 2
                 + rho_sparse * _malsar_penalty(W, kind))


def malsar_minimiser(Xs, ys, rho1, R, rho_L2, rho_sparse=0.0, kind="none") -> np.ndarray:
    """W (d, T) minimising MALSAR's objective, computed with numpy only.

    The smooth part has gradient X_t^T (X_t w_t - y_t) + 2 (W Q)_t with Q = rho1 R R^T + rho_L2 I:
    quadratic case, the normal equations (blockdiag(X_t^T X_t) + 2 Q kron I_d) vec W = vec(X_t^T y_t)
    solved densely; otherwise proximal gradient steps of length 1/L to a fixed point (the smooth
    part is strongly convex here, so they converge linearly).
    """
    T, d = len(Xs), Xs[0].shape[1]
    Q = rho1 * R @ R.T + rho_L2 * np.eye(T)
    H = np.kron(2 * Q, np.eye(d))
    for t, X in enumerate(Xs):
        H[t * d : (t + 1) * d, t * d : (t + 1) * d] += X.T @ X
    rhs = np.concatenate([X.T @ y for X, y in zip(Xs, ys)])
    W = np.linalg.solve(H, rhs).reshape(T, d).T
    if kind == "none":
        return W
    lipschitz = np.linalg.eigvalsh(H)[-1]
    for _ in range(20000):
        gradient = (H @ W.T.ravel() - rhs).reshape(T, d).T
        W_next = _malsar_prox(W - gradient / lipschitz, rho_sparse / lipschitz, kind)
        if np.max(np.abs(W_next - W)) <= 1e-15 * np.max(np.abs(W_next)):
            return W_next
        W = W_next
    raise AssertionError("the proximal gradient reference did not reach a fixed point")


@pytest.mark.parametrize("graph", ["laplacian", "mean_regularized"])
def test_malsar_least_srmtl_is_graph_coupling_with_alpha_2_rho1_over_N(graph):
    """Least_SRMTL(X, Y, R, rho1, 0) with opts.rho_L2: coupling R R^T + (rho_L2 / rho1) I, alpha = 2 rho1 / N."""
    Xs, ys = _problem(0)
    T, N = len(SIZES), sum(SIZES)
    rho1, rho_L2 = 7.0, 2.0
    if graph == "laplacian":
        A, R = _graph(1)
        coupling = mt.coupling.graph_laplacian(A, ridge=rho_L2 / rho1)
    else:  # MALSAR's mean-regularised structure R = I - 11^T / T
        R = np.eye(T) - np.ones((T, T)) / T
        coupling = mt.coupling.mean_regularized(T, mu=rho_L2 / rho1)
    reference = malsar_minimiser(Xs, ys, rho1, R, rho_L2)
    model = mt.KernelCoupledRegressor(coupling=coupling, alpha=2 * rho1 / N, fit_intercept=False).fit(Xs, ys)
    np.testing.assert_allclose(model.coef_.T, reference, rtol=0, atol=1e-10 * np.abs(reference).max())
    assert N * model.objective_ == pytest.approx(malsar_objective(Xs, ys, model.coef_.T, rho1, R, rho_L2), rel=1e-12)
    # The mapping stated before (alpha = 2 rho1, ignoring that MALSAR's data term is a sum) is far off.
    wrong = mt.KernelCoupledRegressor(coupling=coupling, alpha=2 * rho1, fit_intercept=False).fit(Xs, ys)
    assert np.abs(wrong.coef_.T - reference).max() > 0.1 * np.abs(reference).max()


@pytest.mark.parametrize("solver", ["feature_bcd", "gradient"])
def test_malsar_least_srmtl_with_l1_is_l1_over_N(solver):
    """Least_SRMTL(X, Y, R, rho1, rho2): additionally l1 = rho2 / N."""
    Xs, ys = _problem(2)
    N = sum(SIZES)
    rho1, rho_L2, rho2 = 5.0, 1.0, 15.0
    A, R = _graph(3)
    reference = malsar_minimiser(Xs, ys, rho1, R, rho_L2, rho2, "l1")
    assert 0 < np.count_nonzero(reference) < reference.size  # the l1 term is active
    model = mt.KernelCoupledRegressor(
        coupling=mt.coupling.graph_laplacian(A, ridge=rho_L2 / rho1), alpha=2 * rho1 / N, l1=rho2 / N,
        fit_intercept=False, solver=solver, tol=1e-13, max_iter=100000,
    ).fit(Xs, ys)
    np.testing.assert_allclose(model.coef_.T, reference, rtol=0, atol=1e-8 * np.abs(reference).max())
    assert N * model.objective_ == pytest.approx(
        malsar_objective(Xs, ys, model.coef_.T, rho1, R, rho_L2, rho2, "l1"), rel=1e-10
    )


@pytest.mark.parametrize(
    "kind, parameter, malsar_name",
    [("l1", "l1", "Least_Lasso"), ("l21", "l21", "Least_L21"), ("trace", "trace_norm", "Least_Trace")],
)
def test_malsar_sparse_models_are_identity_coupling_with_penalty_over_N(kind, parameter, malsar_name):
    """Least_Lasso / Least_L21 / Least_Trace(X, Y, rho1) with opts.rho_L2: coupling="identity",
    alpha = 2 rho_L2 / N and l1 / l21 / trace_norm = rho1 / N, no intercept."""
    Xs, ys = _problem(4)
    T, N = len(SIZES), sum(SIZES)
    rho_L2, rho_sparse = 1.5, {"l1": 15.0, "l21": 20.0, "trace": 40.0}[kind]
    no_graph = np.zeros((T, 1))
    reference = malsar_minimiser(Xs, ys, 0.0, no_graph, rho_L2, rho_sparse, kind)
    if kind == "trace":
        singular_values = np.linalg.svd(reference, compute_uv=False)
        assert 0 < np.sum(singular_values > 1e-10 * singular_values[0]) < min(D, T)  # rank reduced
    else:
        assert 0 < np.count_nonzero(reference) < reference.size
    model = mt.KernelCoupledRegressor(
        coupling="identity", alpha=2 * rho_L2 / N, fit_intercept=False, tol=1e-13, max_iter=100000,
        **{parameter: rho_sparse / N},
    ).fit(Xs, ys)
    np.testing.assert_allclose(model.coef_.T, reference, rtol=0, atol=1e-8 * np.abs(reference).max(),
                               err_msg=malsar_name)
    assert N * model.objective_ == pytest.approx(
        malsar_objective(Xs, ys, model.coef_.T, 0.0, no_graph, rho_L2, rho_sparse, kind), rel=1e-10
    )


# --- RMTL -----------------------------------------------------------------------------------


def rmtl_graph_objective(Xs, ys, W, c, lam1, G, lam2) -> float:
    """RMTL's LS_Graph objective (Graph_penalty.R with LS_funcVal_eval of utiles.R)."""
    data = sum(0.5 * np.mean((y - X @ w - b) ** 2) for X, y, w, b in zip(Xs, ys, W.T, c))
    return float(data + lam1 * np.linalg.norm(W @ G) ** 2 + lam2 * np.linalg.norm(W) ** 2)


def rmtl_graph_minimiser(Xs, ys, lam1, G, lam2) -> tuple[np.ndarray, np.ndarray]:
    """(W (d, T), c (T,)) from the normal equations in z_t = (w_t, c_t), design [X_t, 1]:
    (1/n_t) Z_t^T Z_t z_t + 2 sum_s Q_ts P z_s = (1/n_t) Z_t^T y_t, Q = lam1 G G^T + lam2 I,
    P = diag(1, ..., 1, 0) (the intercepts are not penalised)."""
    T, d = len(Xs), Xs[0].shape[1]
    Q = lam1 * G @ G.T + lam2 * np.eye(T)
    P = np.diag(np.r_[np.ones(d), 0.0])
    H = np.kron(2 * Q, P)
    rhs = []
    for t, (X, y) in enumerate(zip(Xs, ys)):
        Z = np.column_stack([X, np.ones(len(X))])
        H[t * (d + 1) : (t + 1) * (d + 1), t * (d + 1) : (t + 1) * (d + 1)] += Z.T @ Z / len(X)
        rhs.append(Z.T @ y / len(X))
    z = np.linalg.solve(H, np.concatenate(rhs)).reshape(T, d + 1)
    return z[:, :d].T, z[:, d]


def test_rmtl_graph_is_balanced_weights_with_alpha_2_lam1_over_T():
    """MTL(type="Regression", Regularization="Graph", Lam1, Lam2, G): coupling G G^T + (Lam2 / Lam1) I
    (graph_laplacian(A, ridge=Lam2 / Lam1)), alpha = 2 Lam1 / T, task_weights="balanced", intercepts."""
    Xs, ys = _problem(5)
    T = len(SIZES)
    lam1, lam2 = 0.05, 0.01
    A, G = _graph(6)
    W_ref, c_ref = rmtl_graph_minimiser(Xs, ys, lam1, G, lam2)
    model = mt.KernelCoupledRegressor(
        coupling=mt.coupling.graph_laplacian(A, ridge=lam2 / lam1), alpha=2 * lam1 / T, task_weights="balanced"
    ).fit(Xs, ys)
    scale = np.abs(W_ref).max()
    np.testing.assert_allclose(model.coef_.T, W_ref, rtol=0, atol=1e-10 * scale)
    np.testing.assert_allclose(model.intercept_, c_ref, rtol=0, atol=1e-10 * max(scale, np.abs(c_ref).max()))
    assert T * model.objective_ == pytest.approx(
        rmtl_graph_objective(Xs, ys, model.coef_.T, model.intercept_, lam1, G, lam2), rel=1e-12
    )


# --- Gaussian processes (scikit-learn) --------------------------------------------------------


@pytest.mark.parametrize("task_kernel", ["identity", "ones"])
def test_kernel_ridge_is_gaussian_process_posterior_mean_with_alpha_noise_over_N(task_kernel):
    """MultiTaskKernelRidge(alpha = sigma^2 / N, fit_intercept=False) predicts the posterior mean of
    the Gaussian process with kernel B_st k(x, x') and noise variance sigma^2: for B = I one
    GaussianProcessRegressor per task, for B = 11^T one on the pooled data (k = exp(-gamma ||x - x'||^2)
    is scikit-learn's RBF with length scale 1 / sqrt(2 gamma))."""
    rng = np.random.default_rng(7)
    Xs = [rng.uniform(-2, 2, size=(n, 2)) for n in SIZES]
    ys = [np.sin(X[:, 0]) + 0.2 * t + 0.1 * rng.normal(size=len(X)) for t, X in enumerate(Xs)]
    X_test = rng.uniform(-2, 2, size=(7, 2))
    T, N, gamma, noise_variance = len(SIZES), sum(SIZES), 0.7, 0.05
    B = np.eye(T) if task_kernel == "identity" else np.ones((T, T))
    model = mt.MultiTaskKernelRidge(kernel="rbf", gamma=gamma, task_kernel=B, alpha=noise_variance / N,
                                    fit_intercept=False).fit(Xs, ys)
    predictions = model.predict([X_test] * T)

    def gaussian_process(X, y):
        kernel = RBF(length_scale=1 / np.sqrt(2 * gamma))
        return GaussianProcessRegressor(kernel=kernel, alpha=noise_variance, optimizer=None).fit(X, y)

    if task_kernel == "identity":
        expected = [gaussian_process(X, y).predict(X_test) for X, y in zip(Xs, ys)]
    else:
        expected = [gaussian_process(np.vstack(Xs), np.concatenate(ys)).predict(X_test)] * T
    np.testing.assert_allclose(predictions, expected, rtol=0, atol=1e-9)
