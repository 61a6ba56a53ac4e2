"""The C++ classification core against independent references.

Objective (README, "The objective"), labels in {-1, +1}, s_t passed directly:

    F(W, b) = sum_t s_t sum_i l(y_ti, <w_t, x_ti> + b_t) + alpha/2 sum_{s,t} K_st <w_s, w_t>,

l logistic or squared hinge. References: the numpy objective, gradient and
Hessian in reference.py, central finite differences, scikit-learn's
LogisticRegression / LinearSVC for independent tasks (K = I), and scipy's
L-BFGS-B (polished by numpy Newton steps) for coupled tasks.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

import reference as ref
from multitask._core import core
from multitask._fit_result import core_function

LOSSES = ["logistic", "squared_hinge"]
SOLVERS = ["block_newton", "newton", "gradient", "auto"]
N_PER_TASK = (30, 55, 80, 41)
N_FEATURES = 7


# --- problems -----------------------------------------------------------------


def make_problem(seed, n_per_task=N_PER_TASK, n_features=N_FEATURES, *, sparsity=0.0, one_class=None):
    """Dense per-task data and -1/+1 labels from noisy, related linear models.

    sparsity: fraction of entries set to zero (the last row of task 0 is then
    all zero, an empty CSR row). one_class: index of a task whose labels are all +1.
    """
    rng = np.random.default_rng(seed)
    shared = rng.normal(size=n_features)
    Xs, ys = [], []
    for t, n in enumerate(n_per_task):
        X = rng.normal(size=(n, n_features)) + 0.3
        if sparsity:
            X[rng.random(X.shape) < sparsity] = 0.0
            if t == 0:
                X[-1] = 0.0
        w = shared + 0.7 * rng.normal(size=n_features)
        f = X @ w + 0.4 + rng.normal(size=n)
        y = np.where(f > 0, 1.0, -1.0)
        if t == one_class:
            y[:] = 1.0
        Xs.append(np.ascontiguousarray(X))
        ys.append(y)
    return Xs, ys


def to_csr(X):
    """(data, indices, indptr, n_features) with int32 index arrays, as the core takes them."""
    A = sp.csr_matrix(X)
    A.sort_indices()
    return (
        np.ascontiguousarray(A.data, dtype=X.dtype),
        np.ascontiguousarray(A.indices, dtype=np.int32),
        np.ascontiguousarray(A.indptr, dtype=np.int32),
        X.shape[1],
    )


def blocks(Xs, sparse):
    return [to_csr(X) for X in Xs] if sparse else Xs


def uniform_weights(ys):
    N = sum(len(y) for y in ys)
    return np.full(len(ys), 1.0 / N)


def balanced_weights(ys):
    """s_t = omega_t / N with omega_t = N / (T n_t): every task counts the same."""
    return np.array([1.0 / (len(ys) * len(y)) for y in ys])


def coupling(name, T, mu=0.2):
    if name == "identity":
        return np.eye(T)
    if name == "mean_regularised":  # sum ||w_t - w_bar||^2 + mu sum ||w_t||^2
        return (1 + mu) * np.eye(T) - np.ones((T, T)) / T
    if name == "chain_laplacian":
        A = np.diag(np.ones(T - 1), 1)
        A = A + A.T
        return np.diag(A.sum(axis=1)) - A + mu * np.eye(T)
    if name == "random_pd":
        return ref.random_coupling(np.random.default_rng(7), T, "pd")
    if name == "random_psd":  # singular: the mean model is unpenalised
        return ref.random_coupling(np.random.default_rng(8), T, "psd")
    raise ValueError(name)


def fit(Xs, ys, s, K, alpha, *, loss="logistic", fit_intercept=True, solver="block_newton", tol=1e-10, max_iter=10000,
        n_threads=1, warm_coef=None, warm_intercept=None, sparse=False, dtype=np.float64):
    X_blocks = blocks([np.ascontiguousarray(X, dtype=dtype) for X in Xs], sparse)
    y_blocks = [np.ascontiguousarray(y, dtype=dtype) for y in ys]
    fit_core = core_function("fit_linear_model", dtype)  # float32: through the float64 core
    return fit_core(X=X_blocks, y=y_blocks, sample_weight=np.asarray(s, dtype=float), coupling=np.asarray(K, dtype=float),
                    alpha=float(alpha), fit_intercept=fit_intercept, loss=loss, l1=0.0, l21=0.0, trace_norm=0.0,
                    solver=solver, tol=tol, max_iter=max_iter, n_threads=n_threads, warm_coef=warm_coef,
                    warm_intercept=warm_intercept)


def core_objective(Xs, ys, s, K, alpha, loss, coef, intercept, fit_intercept=True, sparse=False):
    return core.linear_model_objective(X=blocks(Xs, sparse), y=ys, sample_weight=s, coupling=K, alpha=alpha, fit_intercept=fit_intercept, loss=loss,
                                         coef=np.ascontiguousarray(coef), intercept=np.ascontiguousarray(intercept))


def relative_residual(Xs, ys, s, K, alpha, loss, coef, intercept, fit_intercept=True):
    """||grad F(W, b)|| / ||grad F(0)||, computed in numpy."""
    T, d = len(Xs), Xs[0].shape[1]
    g = np.concatenate([part.ravel() for part in ref.classification_gradient(
        Xs, ys, s, K, alpha, loss, coef, intercept, fit_intercept)])
    g0 = np.concatenate([part.ravel() for part in ref.classification_gradient(
        Xs, ys, s, K, alpha, loss, np.zeros((T, d)), np.zeros(T), fit_intercept)])
    return np.linalg.norm(g) / np.linalg.norm(g0)


@functools.lru_cache(maxsize=None)
def reference_solution(seed, coupling_name, loss, fit_intercept, weights="uniform", alpha=0.1, one_class=None,
                       drop_task=None):
    """Cached L-BFGS-B (+ Newton) solution; drop_task: that task's loss is left out (s_t = 0)."""
    Xs, ys = make_problem(seed, one_class=one_class)
    s = uniform_weights(ys) if weights == "uniform" else balanced_weights(ys)
    if drop_task is not None:
        s = s.copy()
        s[drop_task] = 0.0
    K = coupling(coupling_name, len(Xs))
    coef, intercept, gradient_norm = ref.classification_solution(Xs, ys, s, K, alpha, loss, fit_intercept)
    assert gradient_norm < 1e-11, "the reference itself did not converge"
    return coef, intercept


def random_point(rng, T, d, scale=0.4):
    return scale * rng.normal(size=(T, d)), scale * rng.normal(size=T)


def assert_close_models(result, coef, intercept, atol):
    scale = max(1.0, np.abs(coef).max(), np.abs(intercept).max())
    np.testing.assert_allclose(result["coef"], coef, rtol=0, atol=atol * scale)
    np.testing.assert_allclose(result["intercept"], intercept, rtol=0, atol=atol * scale)


# --- 1. objective, gradient, Hessian-vector product ----------------------------


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("loss", LOSSES)
def test_objective_and_gradient_match_numpy(loss, fit_intercept, sparse):
    Xs, ys = make_problem(1, sparsity=0.4 if sparse else 0.0)
    T, d = len(Xs), N_FEATURES
    s, K, alpha = balanced_weights(ys), coupling("random_pd", T), 0.3
    coef, intercept = random_point(np.random.default_rng(2), T, d)
    if not fit_intercept:
        intercept = np.zeros(T)
    value, grad_coef, grad_intercept = core_objective(Xs, ys, s, K, alpha, loss, coef, intercept, fit_intercept, sparse)
    expected = ref.linear_model_objective(Xs, ys, s, K, alpha, loss, coef, intercept, fit_intercept)
    expected_coef, expected_intercept = ref.classification_gradient(
        Xs, ys, s, K, alpha, loss, coef, intercept, fit_intercept)
    assert value == pytest.approx(expected, rel=1e-13)
    assert grad_coef.shape == (T, d) and grad_intercept.shape == (T,)
    np.testing.assert_allclose(grad_coef, expected_coef, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad_intercept, expected_intercept, rtol=1e-12, atol=1e-14)
    if not fit_intercept:
        assert np.all(grad_intercept == 0)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("loss", LOSSES)
def test_gradient_matches_finite_differences(loss, fit_intercept, sparse):
    Xs, ys = make_problem(3, n_per_task=(20, 33, 26), n_features=5, sparsity=0.4 if sparse else 0.0)
    T, d = len(Xs), 5
    s, K, alpha = uniform_weights(ys), coupling("mean_regularised", T), 0.5
    coef, intercept = random_point(np.random.default_rng(4), T, d)
    if not fit_intercept:
        intercept = np.zeros(T)
    _, grad_coef, grad_intercept = core_objective(Xs, ys, s, K, alpha, loss, coef, intercept, fit_intercept, sparse)

    def value_at(x):
        return core_objective(Xs, ys, s, K, alpha, loss, x[: T * d].reshape(T, d), x[T * d :], fit_intercept,
                              sparse)[0]

    x = np.concatenate([coef.ravel(), intercept])
    numerical = ref.numerical_gradient(value_at, x, step=1e-6)
    analytic = np.concatenate([grad_coef.ravel(), grad_intercept])
    if not fit_intercept:  # b is not a parameter: only the coefficient part is a gradient
        numerical, analytic = numerical[: T * d], analytic[: T * d]
    assert np.linalg.norm(analytic - numerical) <= 1e-6 * np.linalg.norm(numerical)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("loss", LOSSES)
def test_hessian_product_matches_finite_differences(loss, fit_intercept, sparse):
    Xs, ys = make_problem(5, n_per_task=(25, 31, 40), n_features=6, sparsity=0.4 if sparse else 0.0)
    T, d = len(Xs), 6
    s, K, alpha = balanced_weights(ys), coupling("chain_laplacian", T), 0.2
    rng = np.random.default_rng(6)
    coef, intercept = random_point(rng, T, d)
    if not fit_intercept:
        intercept = np.zeros(T)
    direction_coef, direction_intercept = random_point(rng, T, d, scale=1.0)
    if not fit_intercept:
        direction_intercept = np.zeros(T)
    h = 1e-6
    if loss == "squared_hinge":
        # Away from the kinks y f = 1 (within the finite-difference steps), the
        # generalised Hessian is the true one.
        margins = np.concatenate([y * (X @ w + b) for X, y, w, b in zip(Xs, ys, coef, intercept)])
        moves = np.concatenate([X @ v + c for X, v, c in zip(Xs, direction_coef, direction_intercept)])
        assert np.min(np.abs(margins - 1)) > 10 * h * np.max(np.abs(moves))
        assert np.any(margins < 1) and np.any(margins > 1)  # both curvature cases occur

    hv_coef, hv_intercept = core.linear_model_hessian_product(
        X=blocks(Xs, sparse), y=ys, sample_weight=s, coupling=K, alpha=alpha, fit_intercept=fit_intercept, loss=loss, coef=coef, intercept=intercept, direction_coef=direction_coef,
        direction_intercept=direction_intercept)
    assert hv_coef.shape == (T, d) and hv_intercept.shape == (T,)

    def gradient_at(step):
        _, gc, gi = core_objective(Xs, ys, s, K, alpha, loss, coef + step * direction_coef,
                                   intercept + step * direction_intercept, fit_intercept, sparse)
        return np.concatenate([gc.ravel(), gi])

    numerical = (gradient_at(h) - gradient_at(-h)) / (2 * h)
    analytic = np.concatenate([hv_coef.ravel(), hv_intercept])
    assert np.linalg.norm(analytic - numerical) <= 1e-6 * np.linalg.norm(numerical)

    # And against the dense numpy Hessian.
    H = ref.classification_hessian(Xs, ys, s, K, alpha, loss, coef, intercept, fit_intercept)
    expected = H @ np.concatenate([direction_coef.ravel(), direction_intercept])
    np.testing.assert_allclose(analytic, expected, rtol=1e-12, atol=1e-14)
    if not fit_intercept:
        assert np.all(hv_intercept == 0)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_squared_hinge_curvature_is_zero_at_the_kink(sparse):
    """The generalised Hessian uses 2 [y f < 1]: samples exactly at y f = 1 add no curvature."""
    rng = np.random.default_rng(14)
    X = rng.normal(size=(12, 3))
    y = np.where(np.arange(12) % 3 == 0, -1.0, 1.0)
    coef, intercept = np.zeros((1, 3)), np.ones(1)  # f = 1: y f = 1 for y = +1, -1 for y = -1
    s, K, alpha = np.array([0.1]), np.array([[2.0]]), 0.3
    v_coef, v_intercept = rng.normal(size=(1, 3)), rng.normal(size=1)
    hv_coef, hv_intercept = core.linear_model_hessian_product(
        X=blocks([X], sparse), y=[y], sample_weight=s, coupling=K, alpha=alpha, fit_intercept=True, loss="squared_hinge", coef=coef, intercept=intercept, direction_coef=v_coef, direction_intercept=v_intercept)
    negative = y < 0
    u = 2 * s[0] * (X[negative] @ v_coef[0] + v_intercept[0])
    np.testing.assert_allclose(hv_coef[0], X[negative].T @ u + alpha * 2.0 * v_coef[0], rtol=1e-13)
    assert hv_intercept[0] == pytest.approx(u.sum(), rel=1e-13)


def test_objective_without_intercept_is_that_of_zero_intercept():
    """Without intercept b is fixed at 0: the value must not depend on the intercept argument
    (its reported gradient in b is 0, so a value that moved with b would contradict it)."""
    Xs, ys = make_problem(9)
    T = len(Xs)
    s, K = uniform_weights(ys), coupling("identity", T)
    coef, intercept = random_point(np.random.default_rng(10), T, N_FEATURES)
    for loss in LOSSES:
        at_zero = core_objective(Xs, ys, s, K, 0.1, loss, coef, np.zeros(T), fit_intercept=False)
        at_other = core_objective(Xs, ys, s, K, 0.1, loss, coef, intercept, fit_intercept=False)
        assert at_other[0] == pytest.approx(at_zero[0], rel=1e-14)
        np.testing.assert_allclose(at_other[1], at_zero[1], rtol=1e-14, atol=1e-16)
        hv_zero = core.linear_model_hessian_product(X=Xs, y=ys, sample_weight=s, coupling=K, alpha=0.1, fit_intercept=False, loss=loss, coef=coef, intercept=np.zeros(T), direction_coef=coef,
                                                      direction_intercept=np.zeros(T))
        hv_other = core.linear_model_hessian_product(X=Xs, y=ys, sample_weight=s, coupling=K, alpha=0.1, fit_intercept=False, loss=loss, coef=coef, intercept=intercept, direction_coef=coef,
                                                       direction_intercept=intercept)
        np.testing.assert_allclose(hv_other[0], hv_zero[0], rtol=1e-14, atol=1e-16)


# --- 2. sparse = dense ---------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("solver", ["block_newton", "newton", "gradient"])
@pytest.mark.parametrize("loss", LOSSES)
def test_sparse_fit_equals_dense_fit(loss, solver, fit_intercept):
    Xs, ys = make_problem(11, sparsity=0.5)
    T = len(Xs)
    s, K = balanced_weights(ys), coupling("mean_regularised", T)
    kwargs = dict(loss=loss, solver=solver, fit_intercept=fit_intercept, tol=1e-12)
    dense = fit(Xs, ys, s, K, 0.1, **kwargs)
    sparse = fit(Xs, ys, s, K, 0.1, sparse=True, **kwargs)
    assert dense["converged"] and sparse["converged"]
    assert dense["solver"] == sparse["solver"] == solver
    np.testing.assert_allclose(sparse["coef"], dense["coef"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(sparse["intercept"], dense["intercept"], rtol=0, atol=1e-10)


@pytest.mark.parametrize("loss", LOSSES)
def test_sparse_objective_gradient_hessian_equal_dense(loss):
    Xs, ys = make_problem(12, sparsity=0.6)
    T = len(Xs)
    s, K = uniform_weights(ys), coupling("random_pd", T)
    rng = np.random.default_rng(13)
    coef, intercept = random_point(rng, T, N_FEATURES)
    v_coef, v_intercept = random_point(rng, T, N_FEATURES)
    for fit_intercept in (True, False):
        b = intercept if fit_intercept else np.zeros(T)
        dense = core_objective(Xs, ys, s, K, 0.2, loss, coef, b, fit_intercept)
        sparse = core_objective(Xs, ys, s, K, 0.2, loss, coef, b, fit_intercept, sparse=True)
        assert sparse[0] == pytest.approx(dense[0], rel=1e-14)
        np.testing.assert_allclose(sparse[1], dense[1], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(sparse[2], dense[2], rtol=1e-13, atol=1e-15)
        hv_dense = core.linear_model_hessian_product(X=Xs, y=ys, sample_weight=s, coupling=K, alpha=0.2, fit_intercept=fit_intercept, loss=loss, coef=coef, intercept=b, direction_coef=v_coef,
                                                       direction_intercept=v_intercept)
        hv_sparse = core.linear_model_hessian_product(X=[to_csr(X) for X in Xs], y=ys, sample_weight=s, coupling=K, alpha=0.2, fit_intercept=fit_intercept,
                                                        loss=loss, coef=coef, intercept=b, direction_coef=v_coef, direction_intercept=v_intercept)
        for a, e in zip(hv_sparse, hv_dense):
            np.testing.assert_allclose(a, e, rtol=1e-13, atol=1e-15)


# --- 3. independent tasks (K = I) against scikit-learn --------------------------


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("weights", ["uniform", "balanced"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
def test_identity_coupling_logistic_matches_sklearn(fit_intercept, weights, solver):
    Xs, ys = make_problem(21)
    T, alpha = len(Xs), 0.05
    s = uniform_weights(ys) if weights == "uniform" else balanced_weights(ys)
    result = fit(Xs, ys, s, np.eye(T), alpha, loss="logistic", fit_intercept=fit_intercept, solver=solver)
    assert result["converged"]
    for t in range(T):
        # sklearn: 1/2 ||w||^2 + C sum_i l  ==  (1/alpha) (s_t sum_i l + alpha/2 ||w||^2) with C = s_t / alpha.
        model = LogisticRegression(C=s[t] / alpha, fit_intercept=fit_intercept, solver="newton-cholesky", tol=1e-12,
                                   max_iter=1000).fit(Xs[t], ys[t])
        assert list(model.classes_) == [-1.0, 1.0]
        np.testing.assert_allclose(result["coef"][t], model.coef_[0], rtol=0, atol=1e-6)
        expected_intercept = model.intercept_[0] if fit_intercept else 0.0
        assert result["intercept"][t] == pytest.approx(expected_intercept, abs=1e-6)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("weights", ["uniform", "balanced"])
def test_identity_coupling_squared_hinge_matches_linear_svc(weights, solver):
    Xs, ys = make_problem(22)
    T, alpha = len(Xs), 0.05
    s = uniform_weights(ys) if weights == "uniform" else balanced_weights(ys)
    result = fit(Xs, ys, s, np.eye(T), alpha, loss="squared_hinge", fit_intercept=False, solver=solver)
    assert result["converged"]
    np.testing.assert_array_equal(result["intercept"], np.zeros(T))
    for t in range(T):
        # LinearSVC: 1/2 ||w||^2 + C sum_i max(0, 1 - y <w, x>)^2, so again C = s_t / alpha.
        model = LinearSVC(loss="squared_hinge", penalty="l2", dual=False, C=s[t] / alpha, fit_intercept=False,
                          tol=1e-12, max_iter=100000).fit(Xs[t], ys[t])
        np.testing.assert_allclose(result["coef"][t], model.coef_[0], rtol=0, atol=1e-6)


# --- 4. coupled tasks against L-BFGS-B on the same objective -------------------

COUPLINGS = ["mean_regularised", "chain_laplacian", "random_pd", "random_psd"]


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("coupling_name", COUPLINGS)
def test_coupled_fit_matches_lbfgs_reference(coupling_name, loss, fit_intercept, solver):
    seed = 31
    weights = "balanced" if coupling_name == "chain_laplacian" else "uniform"
    Xs, ys = make_problem(seed)
    s = uniform_weights(ys) if weights == "uniform" else balanced_weights(ys)
    K = coupling(coupling_name, len(Xs))
    coef, intercept = reference_solution(seed, coupling_name, loss, fit_intercept, weights)
    result = fit(Xs, ys, s, K, 0.1, loss=loss, fit_intercept=fit_intercept, solver=solver)
    assert result["converged"]
    auto_choice = "block_newton" if coupling_name == "identity" else "newton"  # K couples tasks: newton
    assert result["solver"] == (auto_choice if solver == "auto" else solver)
    assert_close_models(result, coef, intercept, atol=1e-7)
    # The last recorded objective is F at the returned model.
    F = ref.linear_model_objective(Xs, ys, s, K, 0.1, loss, result["coef"], result["intercept"], fit_intercept)
    assert result["objective_history"][-1] == pytest.approx(F, rel=1e-12)
    F_ref = ref.linear_model_objective(Xs, ys, s, K, 0.1, loss, coef, intercept, fit_intercept)
    assert F <= F_ref + 1e-13 * abs(F_ref)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("loss", LOSSES)
def test_float32_fit_matches_reference(loss, sparse, solver):
    seed = 31
    Xs, ys = make_problem(seed)
    s, K = uniform_weights(ys), coupling("mean_regularised", len(Xs))
    coef, intercept = reference_solution(seed, "mean_regularised", loss, True)
    result = fit(Xs, ys, s, K, 0.1, loss=loss, solver=solver, tol=1e-5, sparse=sparse, dtype=np.float32)
    assert result["converged"]
    assert result["coef"].dtype == np.float32 and result["intercept"].dtype == np.float32
    assert_close_models(result, coef, intercept, atol=1e-3)


# --- 5. solver behaviour --------------------------------------------------------


@pytest.mark.parametrize("solver", ["block_newton", "newton", "gradient"])
@pytest.mark.parametrize("loss", LOSSES)
def test_reported_residual_is_the_relative_kkt_residual(loss, solver):
    Xs, ys = make_problem(41)
    s, K = balanced_weights(ys), coupling("random_pd", len(Xs))
    for tol in (1e-4, 1e-8):
        result = fit(Xs, ys, s, K, 0.1, loss=loss, solver=solver, tol=tol)
        assert result["converged"]
        assert 0 <= result["residual"] <= tol
        true_residual = relative_residual(Xs, ys, s, K, 0.1, loss, result["coef"], result["intercept"])
        assert true_residual <= tol
        if solver != "gradient":  # measured at the returned point
            assert result["residual"] == pytest.approx(true_residual, rel=1e-6)
        assert result["n_iter"] >= 1 and result["data_passes"] >= 1
        assert len(result["objective_history"]) == result["n_iter"]


@pytest.mark.parametrize("solver", ["block_newton", "newton"])
@pytest.mark.parametrize("coupling_name", ["identity", "mean_regularised", "chain_laplacian", "random_psd"])
@pytest.mark.parametrize("loss", LOSSES)
def test_newton_objective_history_is_non_increasing(loss, coupling_name, solver):
    Xs, ys = make_problem(42)
    s, K = uniform_weights(ys), coupling(coupling_name, len(Xs))
    result = fit(Xs, ys, s, K, 0.1, loss=loss, solver=solver, tol=1e-12)
    history = np.asarray(result["objective_history"])
    assert result["converged"] and len(history) == result["n_iter"] >= 2
    F0 = ref.linear_model_objective(Xs, ys, s, K, 0.1, loss, np.zeros((len(Xs), N_FEATURES)), np.zeros(len(Xs)))
    assert history[0] < F0
    assert np.all(np.diff(history) <= 1e-13 * abs(history[0]))


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("solver", ["block_newton", "newton", "gradient"])
@pytest.mark.parametrize("loss", LOSSES)
def test_warm_start_from_the_optimum(loss, solver, fit_intercept):
    Xs, ys = make_problem(43)
    s, K = uniform_weights(ys), coupling("mean_regularised", len(Xs))
    first = fit(Xs, ys, s, K, 0.1, loss=loss, solver=solver, fit_intercept=fit_intercept, tol=1e-9)
    again = fit(Xs, ys, s, K, 0.1, loss=loss, solver=solver, fit_intercept=fit_intercept, tol=1e-9,
                warm_coef=first["coef"], warm_intercept=first["intercept"])
    assert again["converged"] and again["n_iter"] <= 1
    assert again["residual"] <= 1e-9
    np.testing.assert_allclose(again["coef"], first["coef"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(again["intercept"], first["intercept"], rtol=0, atol=1e-8)
    assert len(again["objective_history"]) >= 1


@pytest.mark.parametrize("solver", ["block_newton", "newton", "gradient"])
@pytest.mark.parametrize("loss", LOSSES)
def test_warm_start_from_elsewhere_reaches_the_same_optimum(loss, solver):
    seed = 31
    Xs, ys = make_problem(seed)
    T = len(Xs)
    s, K = uniform_weights(ys), coupling("mean_regularised", T)
    coef, intercept = reference_solution(seed, "mean_regularised", loss, True)
    start_coef, start_intercept = random_point(np.random.default_rng(44), T, N_FEATURES, scale=2.0)
    result = fit(Xs, ys, s, K, 0.1, loss=loss, solver=solver, warm_coef=start_coef, warm_intercept=start_intercept)
    assert result["converged"]
    assert_close_models(result, coef, intercept, atol=1e-7)
    # The start was used: the first sweep's objective is below F at the start, above the optimum.
    F_start = ref.linear_model_objective(Xs, ys, s, K, 0.1, loss, start_coef, start_intercept)
    assert result["objective_history"][0] < F_start
    # Without intercept a warm intercept is ignored (b stays 0).
    no_b = fit(Xs, ys, s, K, 0.1, loss=loss, solver=solver, fit_intercept=False, warm_coef=start_coef,
               warm_intercept=start_intercept)
    coef_nb, _ = reference_solution(seed, "mean_regularised", loss, False)
    np.testing.assert_array_equal(no_b["intercept"], np.zeros(T))
    np.testing.assert_allclose(no_b["coef"], coef_nb, rtol=0, atol=1e-7 * max(1, np.abs(coef_nb).max()))


@pytest.mark.parametrize("solver", ["block_newton", "newton", "gradient"])
@pytest.mark.parametrize("loss", LOSSES)
def test_max_iter_stops_without_convergence(loss, solver):
    Xs, ys = make_problem(45)
    T = len(Xs)
    s, K = uniform_weights(ys), coupling("random_pd", T)
    one = fit(Xs, ys, s, K, 0.1, loss=loss, solver=solver, tol=1e-14, max_iter=1)
    assert one["converged"] is False
    assert one["n_iter"] == 1 and len(one["objective_history"]) == 1
    assert one["residual"] > 1e-14
    assert np.all(np.isfinite(one["coef"])) and np.any(one["coef"] != 0)
    zero = fit(Xs, ys, s, K, 0.1, loss=loss, solver=solver, tol=1e-14, max_iter=0)
    assert zero["converged"] is False and zero["n_iter"] == 0
    np.testing.assert_array_equal(zero["coef"], np.zeros((T, N_FEATURES)))
    F0 = ref.linear_model_objective(Xs, ys, s, K, 0.1, loss, np.zeros((T, N_FEATURES)), np.zeros(T))
    assert zero["objective_history"][-1] == pytest.approx(F0, rel=1e-12)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("coupling_name", ["identity", "chain_laplacian"])
@pytest.mark.parametrize("solver", ["block_newton", "newton", "gradient"])
@pytest.mark.parametrize("loss", LOSSES)
def test_thread_count_does_not_change_the_result(loss, solver, coupling_name, sparse):
    # Large enough (> 5e4 stored entries) for the core to actually use two threads;
    # K = I and a chain leave tasks that bcd updates in parallel.
    if not core.build_info["openmp"]:
        pytest.skip("built without OpenMP")
    Xs, ys = make_problem(46, n_per_task=(600, 900, 700, 800), n_features=25, sparsity=0.3 if sparse else 0.0)
    s, K = balanced_weights(ys), coupling(coupling_name, len(Xs))
    kwargs = dict(loss=loss, solver=solver, tol=1e-6 if solver == "gradient" else 1e-8, sparse=sparse)
    one = fit(Xs, ys, s, K, 0.05, n_threads=1, **kwargs)
    two = fit(Xs, ys, s, K, 0.05, n_threads=2, **kwargs)
    assert one["converged"] and two["converged"]
    assert one["n_iter"] == two["n_iter"]
    np.testing.assert_allclose(two["coef"], one["coef"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(two["intercept"], one["intercept"], rtol=0, atol=1e-12)


@pytest.mark.parametrize("solver", ["block_newton", "newton", "auto", "gradient"])
def test_one_class_task_logistic_with_intercept(solver):
    """A task with only +1 labels: its intercept runs off to +inf (no finite minimiser),
    its loss vanishes, and the coefficients tend to the fit without that task's loss."""
    seed, one_class = 51, 1
    Xs, ys = make_problem(seed, one_class=one_class)
    T = len(Xs)
    s, K = uniform_weights(ys), coupling("mean_regularised", T)
    tol = 1e-10 if solver != "gradient" else 1e-6
    result = fit(Xs, ys, s, K, 0.1, loss="logistic", solver=solver, tol=tol, max_iter=100000)
    assert result["converged"] and result["residual"] <= tol
    assert relative_residual(Xs, ys, s, K, 0.1, "logistic", result["coef"], result["intercept"]) <= tol
    assert np.all(Xs[one_class] @ result["coef"][one_class] + result["intercept"][one_class] > 0)
    coef, intercept = reference_solution(seed, "mean_regularised", "logistic", True, one_class=one_class,
                                         drop_task=one_class)
    others = [t for t in range(T) if t != one_class]
    np.testing.assert_allclose(result["coef"], coef, rtol=0, atol=1e-6 if solver != "gradient" else 1e-3)
    np.testing.assert_allclose(result["intercept"][others], intercept[others], rtol=0,
                               atol=1e-6 if solver != "gradient" else 1e-3)


@pytest.mark.parametrize("solver", SOLVERS)
def test_one_class_task_squared_hinge_with_intercept(solver):
    """Squared hinge, a task with only +1 labels: a minimiser exists (b_t is not unique, W is),
    and that task's loss is zero at it."""
    seed, one_class = 52, 2
    Xs, ys = make_problem(seed, one_class=one_class)
    T = len(Xs)
    s, K = uniform_weights(ys), coupling("mean_regularised", T)
    result = fit(Xs, ys, s, K, 0.1, loss="squared_hinge", solver=solver)
    assert result["converged"] and result["residual"] <= 1e-10
    margins = Xs[one_class] @ result["coef"][one_class] + result["intercept"][one_class]
    assert np.min(margins) >= 1 - 1e-6
    coef, intercept = reference_solution(seed, "mean_regularised", "squared_hinge", True, one_class=one_class,
                                         drop_task=one_class)
    others = [t for t in range(T) if t != one_class]
    np.testing.assert_allclose(result["coef"], coef, rtol=0, atol=1e-7)
    np.testing.assert_allclose(result["intercept"][others], intercept[others], rtol=0, atol=1e-7)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("loss", LOSSES)
def test_all_positive_task_without_intercept(loss, solver):
    seed, one_class = 53, 0
    Xs, ys = make_problem(seed, one_class=one_class)
    T = len(Xs)
    s, K = uniform_weights(ys), coupling("mean_regularised", T)
    coef, intercept = reference_solution(seed, "mean_regularised", loss, False, one_class=one_class)
    result = fit(Xs, ys, s, K, 0.1, loss=loss, solver=solver, fit_intercept=False)
    assert result["converged"]
    assert_close_models(result, coef, intercept, atol=1e-7)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("loss", LOSSES)
def test_single_task_all_positive(loss, solver):
    rng = np.random.default_rng(54)
    X = rng.normal(size=(40, 4)) + 1.0
    y = np.ones(40)
    s, K, alpha = np.array([1 / 40]), np.array([[1.0]]), 0.2
    coef, intercept, gradient_norm = ref.classification_solution([X], [y], s, K, alpha, loss, fit_intercept=False)
    assert gradient_norm < 1e-12
    result = fit([X], [y], s, K, alpha, loss=loss, solver=solver, fit_intercept=False)
    assert result["converged"]
    assert_close_models(result, coef, intercept, atol=1e-7)


# --- 6. errors ----------------------------------------------------------------


def _valid_arguments():
    Xs, ys = make_problem(61, n_per_task=(10, 12), n_features=3)
    return Xs, ys, uniform_weights(ys), np.eye(2)


def _fit_args(Xs, ys, s, K, loss="logistic", solver="block_newton", alpha=0.1):
    return dict(X=Xs, y=ys, sample_weight=s, coupling=K, alpha=alpha, fit_intercept=True, loss=loss, l1=0.0, l21=0.0,
                trace_norm=0.0, solver=solver, tol=1e-8, max_iter=100, n_threads=1, warm_coef=None,
                warm_intercept=None)


@pytest.mark.parametrize("labels", ["zero_one", "two", "nan"])
def test_labels_must_be_plus_minus_one(labels):
    Xs, ys, s, K = _valid_arguments()
    bad = [ys[0], ys[1].copy()]
    bad[1] = {"zero_one": (bad[1] > 0).astype(float), "two": 2 * bad[1], "nan": np.where(bad[1] > 0, 1.0, np.nan)}[
        labels]
    coef, intercept = np.zeros((2, 3)), np.zeros(2)
    with pytest.raises(ValueError, match=r"-1 or \+1"):
        core.fit_linear_model_f64(**_fit_args(Xs, bad, s, K))
    with pytest.raises(ValueError, match=r"-1 or \+1"):
        core_function("fit_linear_model", np.float32)(**{**_fit_args(Xs, bad, s, K),
                                                          "X": [X.astype(np.float32) for X in Xs],
                                                          "y": [y.astype(np.float32) for y in bad]})
    with pytest.raises(ValueError, match=r"-1 or \+1"):
        core.linear_model_objective(X=Xs, y=bad, sample_weight=s, coupling=K, alpha=0.1, fit_intercept=True, loss="logistic", coef=coef, intercept=intercept)
    with pytest.raises(ValueError, match=r"-1 or \+1"):
        core.linear_model_hessian_product(X=Xs, y=bad, sample_weight=s, coupling=K, alpha=0.1, fit_intercept=True, loss="logistic", coef=coef, intercept=intercept, direction_coef=coef, direction_intercept=intercept)


def test_mismatched_lengths():
    Xs, ys, s, K = _valid_arguments()
    with pytest.raises(ValueError, match="same number of tasks"):
        core.fit_linear_model_f64(**_fit_args(Xs, ys[:1], s, K))
    with pytest.raises(ValueError, match="same number of rows"):
        core.fit_linear_model_f64(**_fit_args(Xs, [ys[0], ys[1][:-1]], s, K))
    with pytest.raises(ValueError, match="same number of features"):
        core.fit_linear_model_f64(**_fit_args([Xs[0], np.ascontiguousarray(Xs[1][:, :2])], ys, s, K))
    with pytest.raises(ValueError, match="sample_weight"):
        core.fit_linear_model_f64(**_fit_args(Xs, ys, np.ones(3), K))
    with pytest.raises(ValueError, match="same number of rows"):
        core.linear_model_objective(X=Xs, y=[ys[0], ys[1][:-1]], sample_weight=s, coupling=K, alpha=0.1, fit_intercept=True, loss="logistic", coef=np.zeros((2, 3)),
                                      intercept=np.zeros(2))


@pytest.mark.parametrize("loss", ["hinge", "log", "least_squares", ""])
def test_bad_loss_name(loss):
    Xs, ys, s, K = _valid_arguments()
    with pytest.raises(ValueError, match="loss"):
        core.fit_linear_model_f64(**_fit_args(Xs, ys, s, K, loss=loss))
    with pytest.raises(ValueError, match="loss"):
        core.linear_model_objective(X=Xs, y=ys, sample_weight=s, coupling=K, alpha=0.1, fit_intercept=True, loss=loss, coef=np.zeros((2, 3)), intercept=np.zeros(2))


@pytest.mark.parametrize("solver", ["exact", "cg", "lbfgs", "BCD"])
def test_bad_solver_name(solver):
    Xs, ys, s, K = _valid_arguments()
    with pytest.raises(ValueError, match="solver"):
        core.fit_linear_model_f64(**_fit_args(Xs, ys, s, K, solver=solver))


@pytest.mark.parametrize("shape", [(3, 3), (1, 1), (2, 3)])
def test_coupling_of_wrong_shape(shape):
    Xs, ys, s, _ = _valid_arguments()
    K = np.eye(*shape)
    with pytest.raises(ValueError, match="coupling"):
        core.fit_linear_model_f64(**_fit_args(Xs, ys, s, K))
    with pytest.raises(ValueError, match="coupling"):
        core.linear_model_objective(X=Xs, y=ys, sample_weight=s, coupling=K, alpha=0.1, fit_intercept=True, loss="logistic", coef=np.zeros((2, 3)), intercept=np.zeros(2))


def test_other_bad_arguments():
    Xs, ys, s, K = _valid_arguments()
    with pytest.raises(ValueError, match="alpha"):
        core.fit_linear_model_f64(**_fit_args(Xs, ys, s, K, alpha=-1.0))
    with pytest.raises(ValueError, match="all sparse or all dense"):
        core.fit_linear_model_f64(**_fit_args([to_csr(Xs[0]), Xs[1]], ys, s, K))
    data, indices, indptr, d = to_csr(Xs[0])
    with pytest.raises(ValueError, match="int32"):
        core.fit_linear_model_f64(**_fit_args([(data, indices.astype(np.int64), indptr, d), to_csr(Xs[1])], ys, s, K))
    with pytest.raises(ValueError, match="indptr"):
        core.fit_linear_model_f64(**_fit_args([(data, indices, indptr + 1, d), to_csr(Xs[1])], ys, s, K))
    with pytest.raises(ValueError, match="dtype"):  # float32 designs for the float64 core
        core.fit_linear_model_f64(X=[X.astype(np.float32) for X in Xs], y=ys, sample_weight=s, coupling=K, alpha=0.1, fit_intercept=True, loss="logistic", l1=0.0, l21=0.0, trace_norm=0.0, solver="block_newton",
                                    tol=1e-6, max_iter=100, n_threads=1, warm_coef=None, warm_intercept=None)
    with pytest.raises(ValueError, match="warm start"):
        core.fit_linear_model_f64(X=Xs, y=ys, sample_weight=s, coupling=K, alpha=0.1, fit_intercept=True, loss="logistic", l1=0.0, l21=0.0, trace_norm=0.0, solver="block_newton", tol=1e-8, max_iter=100, n_threads=1,
                                  warm_coef=np.zeros((3, 3)), warm_intercept=None)
    with pytest.raises(ValueError, match="task weights must be positive"):
        core.fit_linear_model_f64(**_fit_args(Xs, ys, np.array([0.1, 0.0]), K))
