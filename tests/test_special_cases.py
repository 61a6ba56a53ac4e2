"""Special cases with known answers, and the three input forms agreeing."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge

import multitask as mt
from reference import dense_solution, dual_kernel_predictions, random_problem

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


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_strong_mean_coupling_approaches_pooled_ridge(fit_intercept):
    """Mean-regularised coupling K = (1 + mu) I - 11^T/T gives
        alpha/2 tr(W K W^T) = alpha/2 sum_t ||w_t - wbar||^2 + (alpha mu)/2 sum_t ||w_t||^2.
    Let alpha -> infinity with alpha mu = lam fixed: the first term forces every
    w_t to the common w (the deviations are O(1/alpha)), and the second becomes
    (lam/2) T ||w||^2. With uniform weights the loss is (1/N) 1/2 sum_t ||y_t - X_t w - b_t||^2,
    so (times 2N) the limit is ridge on the stacked data with penalty lam T N ||w||^2
    and one intercept per task; profiling the intercepts out means centring each
    task, then ridge without intercept on the stacked centred rows (computed here
    by numpy), b_t = ybar_t - xbar_t^T w. The distance to the limit must shrink
    (roughly like 1/alpha) as alpha grows."""
    rng = np.random.default_rng(2)
    Xs, ys, _ = random_problem(rng, SIZES, D, shift=1.0)
    T, N, lam = len(SIZES), sum(SIZES), 1e-3
    if fit_intercept:
        Xc = np.vstack([X - X.mean(axis=0) for X in Xs])
        yc = np.concatenate([y - y.mean() for y in ys])
    else:
        Xc, yc = np.vstack(Xs), np.concatenate(ys)
    pooled = np.linalg.solve(Xc.T @ Xc + lam * T * N * np.eye(D), Xc.T @ yc)
    if not fit_intercept:  # the same limit through scikit-learn, as a check of the algebra
        sk = Ridge(alpha=lam * T * N, fit_intercept=False, solver="cholesky").fit(np.vstack(Xs), np.concatenate(ys))
        np.testing.assert_allclose(sk.coef_, pooled, rtol=1e-10)
    pooled_intercepts = np.array([y.mean() - X.mean(axis=0) @ pooled for X, y in zip(Xs, ys)])
    errors = []
    for alpha in (1e1, 1e3, 1e5):
        K = mt.coupling.mean_regularized(T, mu=lam / alpha)
        model = mt.KernelCoupledRegressor(coupling=K, alpha=alpha, fit_intercept=fit_intercept, solver="exact")
        model.fit(Xs, ys)
        errors.append(np.abs(model.coef_ - pooled).max())
        if fit_intercept and alpha == 1e5:
            np.testing.assert_allclose(model.intercept_, pooled_intercepts, atol=1e-4 * np.abs(pooled_intercepts).max())
    assert errors[0] > 10 * errors[1] > 100 * errors[2]
    assert errors[2] < 1e-4 * np.abs(pooled).max()


def test_task_weight_array_with_identity_is_ridge_per_task():
    """omega_t given: task t minimises (omega_t/N) 1/2 ||r||^2 + alpha/2 ||w||^2,
    i.e. ||r||^2 + (alpha N / omega_t) ||w||^2: Ridge(alpha = alpha N / omega_t)."""
    rng = np.random.default_rng(7)
    Xs, ys, _ = random_problem(rng, SIZES, D, shift=1.0)
    weights = np.array([0.3, 1.0, 2.5, 7.0])
    alpha, N = 0.05, sum(SIZES)
    model = mt.KernelCoupledRegressor(coupling="identity", alpha=alpha, task_weights=weights).fit(Xs, ys)
    for t, (X, y) in enumerate(zip(Xs, ys)):
        ridge = Ridge(alpha=alpha * N / weights[t], solver="cholesky").fit(X, y)
        np.testing.assert_allclose(model.coef_[t], ridge.coef_, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(model.intercept_[t], ridge.intercept_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_shared_design_identity_is_multi_output_ridge(fit_intercept):
    """Shared design (n, d) with Y (n, T): N = n T samples in all, so with K = I and
    uniform weights every column is Ridge(alpha = alpha n T)."""
    rng = np.random.default_rng(8)
    n, T = 35, 3
    X = rng.normal(size=(n, D)) + 2.0
    Y = X @ rng.normal(size=(D, T)) + rng.normal(size=(n, T)) + 1.0
    alpha = 0.02
    model = mt.KernelCoupledRegressor(coupling="identity", alpha=alpha, fit_intercept=fit_intercept).fit(X, Y)
    ridge = Ridge(alpha=alpha * n * T, fit_intercept=fit_intercept, solver="cholesky").fit(X, Y)
    np.testing.assert_allclose(model.coef_, ridge.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.intercept_, ridge.intercept_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.predict(X), ridge.predict(X), rtol=1e-9, atol=1e-10)


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
    long = mt.KernelCoupledRegressor(coupling=K[np.ix_(order, order)])
    long.fit(X_long[perm], y_long[perm], tasks=tasks[perm])
    np.testing.assert_allclose(lists.coef_, shared.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(long.tasks_, np.sort(labels))
    np.testing.assert_allclose(long.coef_, shared.coef_[order], rtol=1e-8, atol=1e-10)
    # Long-format predictions come back in the caller's row order.
    expected = np.concatenate(list(shared.predict(X).T))
    np.testing.assert_allclose(long.predict(X_long[perm], tasks=tasks[perm]), expected[perm], rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(np.concatenate(lists.predict([X] * T)), expected, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("task_weights", ["uniform", "balanced", "array"])
@pytest.mark.parametrize("solver", ["exact", "cg"])
def test_linear_multitask_kernel_equals_primal_model(task_weights, solver):
    """For K positive definite and no intercept, the model equals kernel ridge with
    k((x, s), (x', t)) = B_st <x, x'>, B = K^{-1}: (M + N alpha Omega^{-1}) c = y,
    Omega the diagonal of per-sample task weights (the identity for uniform weights),
    f_t(x) = sum_(s,j) c_sj B_ts <x_sj, x>. Why: with the representer theorem
    w_t = sum_(s,j) c_sj B_ts x_sj, i.e. W = X^T diag(c) (rows tagged by task) B,
    tr(W K W^T) = c^T M c and the stationarity condition of the primal becomes the
    dual system above. Sizes include n_t < d."""
    rng = np.random.default_rng(4)
    sizes = [8, 2, 12]
    Xs, ys, K = random_problem(rng, sizes, D)
    weights = np.array([1.0, 2.0, 0.5]) if task_weights == "array" else task_weights
    alpha = 0.2
    X_test = rng.normal(size=(7, D))
    dual_predictions = dual_kernel_predictions(Xs, ys, K, alpha, weights, X_test)
    model = mt.KernelCoupledRegressor(coupling=K, alpha=alpha, task_weights=weights, fit_intercept=False,
                                      solver=solver, tol=1e-12)
    primal_predictions = model.fit(Xs, ys).predict([X_test] * 3)
    for primal, dual in zip(primal_predictions, dual_predictions):
        np.testing.assert_allclose(primal, dual, rtol=1e-8, atol=1e-10)
    # The same in the training points, in long format.
    X_all, task_of = np.vstack(Xs), np.repeat(np.arange(3), sizes)
    dual_train = dual_kernel_predictions(Xs, ys, K, alpha, weights, X_all)
    expected = np.array([dual_train[t][i] for i, t in enumerate(task_of)])
    np.testing.assert_allclose(model.predict(X_all, tasks=task_of), expected, rtol=1e-8, atol=1e-10)


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


@pytest.mark.parametrize("solver", ["exact", "cg", "task_bcd", "gradient"])
def test_long_format_labels_are_sorted_and_predictions_scatter_back(solver):
    """Integer labels that are neither contiguous nor in order: tasks_ holds them sorted,
    coef_ row k belongs to tasks_[k], and predict returns rows in the caller's order."""
    rng = np.random.default_rng(9)
    Xs, ys, K = random_problem(rng, [12, 30, 9], D)
    labels = np.array([42, -3, 7])  # sorted: -3, 7, 42 -> list positions 1, 2, 0
    order = np.argsort(labels)
    reference = mt.KernelCoupledRegressor(coupling=K, solver=solver, tol=1e-12, max_iter=100000).fit(Xs, ys)
    X_long, y_long = np.vstack(Xs), np.concatenate(ys)
    tasks = np.repeat(labels, [12, 30, 9])
    perm = rng.permutation(len(y_long))
    long = mt.KernelCoupledRegressor(coupling=K[np.ix_(order, order)], solver=solver, tol=1e-12,
                                     max_iter=100000).fit(X_long[perm], y_long[perm], tasks=tasks[perm])
    np.testing.assert_array_equal(long.tasks_, np.sort(labels))
    np.testing.assert_allclose(long.coef_, reference.coef_[order], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(long.intercept_, reference.intercept_[order], rtol=1e-8, atol=1e-10)
    expected = np.concatenate(reference.predict(Xs))[perm]
    got = long.predict(X_long[perm], tasks=tasks[perm])
    assert got.shape == (len(y_long),)
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-9)
    # A subset of the tasks, in any order, at predict time.
    rows = np.flatnonzero(tasks != 7)[::-1]
    np.testing.assert_allclose(long.predict(X_long[rows], tasks=tasks[rows]),
                               np.concatenate(reference.predict(Xs))[rows], rtol=1e-8, atol=1e-9)
    assert long.score(X_long, y_long, tasks=tasks) == pytest.approx(
        reference.score(Xs, ys), rel=1e-10)


@pytest.mark.parametrize("task_weights", ["uniform", "balanced"])
def test_lists_and_long_forms_agree_with_unequal_tasks(task_weights):
    rng = np.random.default_rng(10)
    Xs, ys, K = random_problem(rng, [3, 25, 40, 7], D, shift=1.0)
    lists = mt.KernelCoupledRegressor(coupling=K, task_weights=task_weights).fit(Xs, ys)
    tasks = np.repeat(["t0", "t1", "t2", "t3"], [3, 25, 40, 7])
    long = mt.KernelCoupledRegressor(coupling=K, task_weights=task_weights).fit(
        np.vstack(Xs), np.concatenate(ys), tasks=tasks)
    coef, intercept = dense_solution(Xs, ys, K, 1.0, task_weights)
    np.testing.assert_allclose(lists.coef_, coef, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(long.coef_, coef, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(long.intercept_, intercept, rtol=1e-8, atol=1e-10)
