"""Special cases with known answers, and the three input forms agreeing."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge

import multitask as mt
from reference import dense_solution, random_problem

SIZES = [15, 40, 25, 60]
D = 6


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_identity_coupling_is_per_task_ridge(fit_intercept):
    """K = I, uniform weights: task t minimises (1/N) 1/2 ||y_t - X_t w - b||^2 + alpha/2 ||w||^2,
    i.e. ||y_t - X_t w - b||^2 + (alpha N) ||w||^2: scikit-learn Ridge(alpha = alpha * N)."""
    rng = np.random.default_rng(0)
    Xs, ys, _ = random_problem(rng, SIZES, D)
    alpha, N = 0.05, sum(SIZES)
    model = mt.KernelCoupledRegressor(coupling="identity", alpha=alpha, fit_intercept=fit_intercept).fit(Xs, ys)
    for t, (X, y) in enumerate(zip(Xs, ys)):
        ridge = Ridge(alpha=alpha * N, fit_intercept=fit_intercept, solver="cholesky").fit(X, y)
        np.testing.assert_allclose(model.coef_[t], ridge.coef_, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(model.intercept_[t], ridge.intercept_, rtol=1e-9, atol=1e-12)


def test_balanced_weights_identity_is_ridge_with_task_size():
    """omega_t = N / (T n_t): the loss of task t is (1/(T n_t)) 1/2 ||r||^2, so Ridge(alpha = alpha T n_t)."""
    rng = np.random.default_rng(1)
    Xs, ys, _ = random_problem(rng, SIZES, D)
    alpha, T = 0.05, len(SIZES)
    model = mt.KernelCoupledRegressor(coupling="identity", alpha=alpha, task_weights="balanced").fit(Xs, ys)
    for t, (X, y) in enumerate(zip(Xs, ys)):
        ridge = Ridge(alpha=alpha * T * X.shape[0], solver="cholesky").fit(X, y)
        np.testing.assert_allclose(model.coef_[t], ridge.coef_, rtol=1e-9, atol=1e-12)


def test_strong_mean_coupling_approaches_pooled_ridge():
    """K = (1 + mu) I - 11^T/T with alpha -> infinity and alpha mu = lam fixed: the
    deviations from the mean are forced to zero, all w_t = w, and the penalty on the
    common w is (lam / 2) T ||w||^2. Uniform weights make the loss the pooled
    (1/N) 1/2 ||y - X w - b_t||^2, so w is ridge on the pooled data with
    alpha_ridge = lam T N and per-task intercepts. Without intercepts (a single
    pooled intercept would differ) we compare with Ridge(fit_intercept=False)."""
    rng = np.random.default_rng(2)
    Xs, ys, _ = random_problem(rng, SIZES, D)
    T, N, lam = len(SIZES), sum(SIZES), 1e-3
    pooled = Ridge(alpha=lam * T * N, fit_intercept=False).fit(np.vstack(Xs), np.concatenate(ys)).coef_
    errors = []
    for alpha in (1e1, 1e3, 1e5):
        K = mt.coupling.mean_regularized(T, mu=lam / alpha)
        model = mt.KernelCoupledRegressor(coupling=K, alpha=alpha, fit_intercept=False, solver="exact").fit(Xs, ys)
        errors.append(np.abs(model.coef_ - pooled).max())
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-4 * np.abs(pooled).max()


def test_lists_long_and_shared_forms_agree():
    rng = np.random.default_rng(3)
    n, T = 30, 3
    X = rng.normal(size=(n, D))
    Y = X @ rng.normal(size=(D, T)) + rng.normal(size=(n, T))
    K = mt.coupling.chain(T)
    shared = mt.KernelCoupledRegressor(coupling=K, solver="exact").fit(X, Y)
    lists = mt.KernelCoupledRegressor(coupling=K).fit([X] * T, list(Y.T))
    labels = np.array(["red", "green", "blue"])  # sorted: blue, green, red
    order = np.argsort(labels)
    X_long = np.vstack([X] * T)
    y_long = np.concatenate(list(Y.T))
    tasks = np.repeat(labels, n)
    perm = rng.permutation(X_long.shape[0])
    long = mt.KernelCoupledRegressor(coupling=K[np.ix_(order, order)]).fit(X_long[perm], y_long[perm], tasks=tasks[perm])
    np.testing.assert_allclose(lists.coef_, shared.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(long.tasks_, np.sort(labels))
    np.testing.assert_allclose(long.coef_, shared.coef_[order], rtol=1e-8, atol=1e-10)
    # Long-format predictions come back in the caller's row order.
    expected = np.concatenate(list(shared.predict(X).T))
    np.testing.assert_allclose(long.predict(X_long[perm], tasks=tasks[perm]), expected[perm], rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(np.concatenate(lists.predict([X] * T)), expected, rtol=1e-8, atol=1e-9)


def test_linear_multitask_kernel_equals_primal_model():
    """For K positive definite and no intercept, the model equals kernel ridge with
    k((x, s), (x', t)) = B_st <x, x'>, B = K^{-1}: (M + N alpha Omega^{-1}) c = y,
    Omega the diagonal of per-sample task weights, f_t(x) = sum_(s,j) c_sj B_ts <x_sj, x>."""
    rng = np.random.default_rng(4)
    Xs, ys, K = random_problem(rng, [8, 5, 12], D)
    alpha, N = 0.2, 25
    weights = np.array([1.0, 2.0, 0.5])
    B = np.linalg.inv(K)
    X_all = np.vstack(Xs)
    task_of = np.repeat(np.arange(3), [8, 5, 12])
    M = B[np.ix_(task_of, task_of)] * (X_all @ X_all.T)
    c = np.linalg.solve(M + N * alpha * np.diag(1.0 / weights[task_of]), np.concatenate(ys))
    X_test = rng.normal(size=(7, D))
    dual_predictions = [(B[t, task_of] * (X_test @ X_all.T)) @ c for t in range(3)]
    model = mt.KernelCoupledRegressor(coupling=K, alpha=alpha, task_weights=weights, fit_intercept=False)
    primal_predictions = model.fit(Xs, ys).predict([X_test] * 3)
    for primal, dual in zip(primal_predictions, dual_predictions):
        np.testing.assert_allclose(primal, dual, rtol=1e-8, atol=1e-10)


def test_single_task_one_dimensional_target():
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(40, D)), rng.normal(size=40)
    model = mt.KernelCoupledRegressor(coupling="identity", alpha=0.1).fit(X, y)
    ridge = Ridge(alpha=0.1 * 40).fit(X, y)
    assert model.predict(X).shape == (40,)
    np.testing.assert_allclose(model.coef_[0], ridge.coef_, rtol=1e-9)


def test_dense_reference_itself_agrees_with_scipy_minimize():
    """The reference used everywhere solves the objective it claims to."""
    from scipy.optimize import minimize

    from reference import objective

    rng = np.random.default_rng(6)
    Xs, ys, K = random_problem(rng, [5, 7], 3)
    coef, intercept = dense_solution(Xs, ys, K, 0.4)
    x0 = np.zeros(2 * 3 + 2)

    def F(x):
        return objective(Xs, ys, x[:6].reshape(2, 3), x[6:], K, 0.4)

    found = minimize(F, x0, method="BFGS", options={"gtol": 1e-10}).x
    np.testing.assert_allclose(found[:6].reshape(2, 3), coef, atol=1e-5)
    np.testing.assert_allclose(found[6:], intercept, atol=1e-5)
