"""kernel_ridge_path against separate MultiTaskKernelRidge fits at every alpha
(cholesky and kronecker) and against a numpy solve of the bordered dual system."""

import numpy as np
import pytest

import multitask as mt
from reference import random_coupling
from test_kernel_ridge import dual_reference, per_task_data, rbf

SIZES = [12, 30, 21, 17]
# Unsorted, with a repeat: the path keeps the caller's order.
ALPHAS = np.array([3e-2, 1e-4, 1.0, 2e-3, 1e-4, 0.3, 5e-4, 1e-2])


def assert_same_model(path_model, fitted):
    """dual_coef_ and intercept_ equal to 1e-8 of their scale."""
    scale = np.max(np.abs(fitted.dual_coef_))
    np.testing.assert_allclose(path_model.dual_coef_, fitted.dual_coef_, rtol=1e-8, atol=1e-8 * scale)
    np.testing.assert_allclose(path_model.intercept_, fitted.intercept_, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("method", ["band", "tridiagonal", "per_alpha"])
@pytest.mark.parametrize(
    "fit_intercept, task_weights, task_kernel",
    [(True, "uniform", "pd"), (True, [0.5, 2.0, 1.0, 3.0], "singular"), (False, "balanced", "pd"),
     (False, "uniform", "singular")],
)
def test_per_task_inputs_equal_separate_fits_and_numpy(method, fit_intercept, task_weights, task_kernel):
    """B positive definite, or singular PSD (rank 2 of 4: M is singular, the ridge makes A definite)."""
    rng = np.random.default_rng(0)
    Xs, ys = per_task_data(rng, SIZES)
    if task_kernel == "pd":
        B = np.linalg.inv(random_coupling(rng, len(SIZES), "pd"))
    else:
        A = rng.normal(size=(len(SIZES), 2))
        B = A @ A.T
    estimator = mt.MultiTaskKernelRidge(kernel="rbf", gamma=0.4, task_kernel=B, task_weights=task_weights,
                                        fit_intercept=fit_intercept, solver="cholesky")
    path = mt.kernel_ridge_path(estimator, Xs, ys, alphas=ALPHAS, method=method)
    assert path.method == method
    assert path.dual_coef.shape == (ALPHAS.size, sum(SIZES)) and path.intercept.shape == (ALPHAS.size, len(SIZES))
    np.testing.assert_array_equal(path.alphas, ALPHAS)
    weights = None if isinstance(task_weights, str) else np.asarray(task_weights)
    if task_weights == "balanced":  # omega_t = N / (T n_t)
        weights = sum(SIZES) / (len(SIZES) * np.asarray(SIZES, dtype=float))
    tests = [rng.normal(size=(6, Xs[0].shape[1])) for _ in SIZES]
    for alpha, model, c, b in zip(ALPHAS, path.estimators, path.dual_coef, path.intercept):
        fitted = estimator.set_params(alpha=alpha).fit(Xs, ys)
        assert_same_model(model, fitted)
        np.testing.assert_array_equal(model.dual_coef_, c)
        np.testing.assert_array_equal(model.intercept_, b)
        predict, c_ref, b_ref = dual_reference(Xs, ys, B, alpha, rbf, omega=weights, fit_intercept=fit_intercept)
        np.testing.assert_allclose(c, c_ref, rtol=1e-8, atol=1e-8 * np.max(np.abs(c_ref)))
        np.testing.assert_allclose(b, b_ref, rtol=1e-8, atol=1e-8)
        for t, (X_test, predicted) in enumerate(zip(tests, model.predict(tests))):
            np.testing.assert_allclose(predicted, predict(X_test, t), rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("method", ["tridiagonal", "per_alpha"])
@pytest.mark.parametrize("fit_intercept, task_weights", [(True, "uniform"), (True, [2.0, 0.5, 1.0, 1.5, 1.0])])
def test_shared_design_equals_kronecker_and_cholesky_fits(method, fit_intercept, task_weights):
    """B singular PSD (rank 3 of 5): directions with zero eigenvalue are the identity at every alpha."""
    rng = np.random.default_rng(1)
    n, T = 40, 5
    X = rng.normal(size=(n, 2))
    Y = np.column_stack([np.cos(X @ rng.normal(size=2)) + t for t in range(T)])
    A = rng.normal(size=(T, 3))
    B = A @ A.T
    estimator = mt.MultiTaskKernelRidge(kernel="rbf", gamma=0.7, task_kernel=B, task_weights=task_weights,
                                        fit_intercept=fit_intercept)
    path = mt.kernel_ridge_path(estimator, X, Y, alphas=ALPHAS, method=method)
    assert path.dual_coef.shape == (ALPHAS.size, n, T)
    X_test = rng.normal(size=(9, 2))
    for alpha, model in zip(ALPHAS, path.estimators):
        for solver in ("kronecker", "cholesky"):
            fitted = estimator.set_params(alpha=alpha, solver=solver).fit(X, Y)
            assert_same_model(model, fitted)
            np.testing.assert_allclose(model.predict(X_test), fitted.predict(X_test), rtol=1e-8, atol=1e-8)


def test_long_format_and_precomputed_kernel():
    """Rows of the long format in any order, and a precomputed input kernel, as the fit has them."""
    rng = np.random.default_rng(2)
    Xs, ys = per_task_data(rng, SIZES)
    X, y = np.vstack(Xs), np.concatenate(ys)
    tasks = np.repeat(np.array(["a", "b", "c", "d"]), SIZES)
    shuffle = rng.permutation(y.size)
    X, y, tasks = X[shuffle], y[shuffle], tasks[shuffle]
    B = random_coupling(rng, len(SIZES), "pd")
    for kernel, data in (("rbf", X), ("precomputed", rbf(X, X))):
        estimator = mt.MultiTaskKernelRidge(kernel=kernel, gamma=0.4, task_kernel=B)
        path = mt.kernel_ridge_path(estimator, data, y, tasks=tasks, alphas=ALPHAS, method="band")
        test_rows = rng.normal(size=(8, X.shape[1]))
        test_data = test_rows if kernel == "rbf" else rbf(test_rows, X)
        test_tasks = rng.choice(["a", "b", "c", "d"], size=8)
        for alpha, model in zip(ALPHAS, path.estimators):
            fitted = estimator.set_params(alpha=alpha).fit(data, y, tasks=tasks)
            assert_same_model(model, fitted)
            np.testing.assert_allclose(model.predict(test_data, tasks=test_tasks),
                                       fitted.predict(test_data, tasks=test_tasks), rtol=1e-8, atol=1e-8)


def test_auto_method_and_estimator_untouched():
    """auto: per-task inputs, the band reduction is costed as 5 factorisations per thread;
    shared design, the tridiagonal reduction of an (n, n) matrix as n / 250 per thread."""
    rng = np.random.default_rng(3)
    Xs, ys = per_task_data(rng, [75] * 4)
    estimator = mt.MultiTaskKernelRidge(kernel="rbf", alpha=0.5, n_jobs=1)
    assert mt.kernel_ridge_path(estimator, Xs, ys, alphas=[0.1] * 5).method == "per_alpha"
    path = mt.kernel_ridge_path(estimator, Xs, ys, alphas=[0.1] * 6)
    assert path.method == "band" and path.estimators[0].solver_ == "path-band"
    Xs, ys = per_task_data(rng, [150] * 4)
    X, Y = np.vstack(Xs), np.column_stack([np.concatenate(ys), -np.concatenate(ys)])  # shared, n = 600, T = 2
    assert mt.kernel_ridge_path(estimator, X, Y, alphas=[1.0]).method == "per_alpha"
    path = mt.kernel_ridge_path(estimator, X, Y, alphas=[1e-3, 1e-2])
    assert path.method == "tridiagonal"
    assert [model.alpha for model in path.estimators] == [1e-3, 1e-2]
    assert path.estimators[0].solver_ == "path-tridiagonal"
    assert estimator.alpha == 0.5 and not hasattr(estimator, "dual_coef_")


@pytest.mark.parametrize(
    "alphas", [[], [[0.1, 1.0]], [0.1, 0.0], [0.1, -1.0], [0.1, np.nan], [np.inf], "large", None]
)
def test_bad_alphas(alphas):
    Xs, ys = per_task_data(np.random.default_rng(4), SIZES)
    with pytest.raises(ValueError, match="alphas"):
        mt.kernel_ridge_path(mt.MultiTaskKernelRidge(), Xs, ys, alphas=alphas)


def test_bad_method_and_estimator():
    Xs, ys = per_task_data(np.random.default_rng(5), SIZES)
    with pytest.raises(ValueError, match="method"):
        mt.kernel_ridge_path(mt.MultiTaskKernelRidge(), Xs, ys, alphas=[1.0], method="eigen")
    with pytest.raises(ValueError, match="estimator"):
        mt.kernel_ridge_path(mt.KernelCoupledRegressor(), Xs, ys, alphas=[1.0])
