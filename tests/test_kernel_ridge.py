"""MultiTaskKernelRidge against independent references: the primal linear model,
scikit-learn's KernelRidge and pairwise kernels, and a numpy solve of the dual system."""

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.kernel_ridge import KernelRidge
from sklearn.metrics.pairwise import pairwise_kernels

import multitask as mt
import multitask._kernel_ridge as kernel_ridge_module
from multitask._core import core
from reference import random_coupling

SIZES = [12, 30, 21, 17]
D = 3


def rbf(X1, X2, gamma=0.4):
    return pairwise_kernels(X1, X2, metric="rbf", gamma=gamma)


def per_task_data(rng, sizes=SIZES, d=D):
    Xs = [rng.normal(size=(n, d)) for n in sizes]
    ys = [np.sin(X.sum(axis=1)) + 0.1 * rng.normal(size=X.shape[0]) + t for t, X in enumerate(Xs)]
    return Xs, ys


def dual_reference(Xs, ys, B, alpha, kernel, omega=None, fit_intercept=True):
    """Predictor from a numpy solve of the bordered dual system (README, "Multi-task kernel machines"):
        [M + alpha N Omega^{-1}  E] [c]   [y]
        [E^T                     0] [b] = [0],   M[(s,i),(t,j)] = B_st k(x_si, x_tj),
    E the task indicators; f_t(x) = sum_(s,j) c_sj B_ts k(x_sj, x) + b_t."""
    n = [X.shape[0] for X in Xs]
    N, T = sum(n), len(Xs)
    omega = np.ones(T) if omega is None else np.asarray(omega, dtype=float)
    task_of = np.repeat(np.arange(T), n)
    X_all = np.vstack(Xs)
    A = B[np.ix_(task_of, task_of)] * kernel(X_all, X_all) + alpha * N * np.diag(1.0 / omega[task_of])
    E = (task_of[:, None] == np.arange(T)).astype(float)
    if fit_intercept:
        bordered = np.block([[A, E], [E.T, np.zeros((T, T))]])
        solution = np.linalg.solve(bordered, np.concatenate([*ys, np.zeros(T)]))
        c, b = solution[:N], solution[N:]
    else:
        c, b = np.linalg.solve(A, np.concatenate(ys)), np.zeros(T)

    def predict(X_test, t):
        return kernel(X_test, X_all) @ (B[t, task_of] * c) + b[t]

    return predict, c, b


# ------------------------------------------------------------------ special cases with known answers


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_linear_kernel_with_inverse_coupling_is_the_primal_model(fit_intercept):
    """k = <x, x'>, B = K^{-1}: the same predictions as KernelCoupledRegressor with coupling K."""
    rng = np.random.default_rng(0)
    Xs, ys = per_task_data(rng, d=5)
    K = random_coupling(rng, len(SIZES), "pd")
    tests = [rng.normal(size=(7, 5)) for _ in SIZES]
    primal = mt.KernelCoupledRegressor(coupling=K, alpha=0.03, fit_intercept=fit_intercept, solver="exact")
    dual = mt.MultiTaskKernelRidge(kernel="linear", coupling=K, alpha=0.03, fit_intercept=fit_intercept)
    for expected, got in zip(primal.fit(Xs, ys).predict(tests), dual.fit(Xs, ys).predict(tests)):
        np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(dual.task_kernel_, np.linalg.inv(K), rtol=1e-10)


@pytest.mark.parametrize("task_weights", ["uniform", "balanced"])
def test_identity_task_kernel_is_kernel_ridge_per_task(task_weights):
    """B = I: task t solves (K_t + alpha N / omega_t I) c_t = y_t, scikit-learn's
    KernelRidge(alpha = alpha N / omega_t): alpha N (uniform), alpha T n_t (balanced)."""
    rng = np.random.default_rng(1)
    Xs, ys = per_task_data(rng)
    alpha, N, T = 0.01, sum(SIZES), len(SIZES)
    model = mt.MultiTaskKernelRidge(kernel="rbf", gamma=0.4, alpha=alpha, task_weights=task_weights,
                                    fit_intercept=False).fit(Xs, ys)
    tests = [rng.normal(size=(5, D)) for _ in SIZES]
    for t, (X, y, predicted) in enumerate(zip(Xs, ys, model.predict(tests))):
        sk_alpha = alpha * N if task_weights == "uniform" else alpha * T * X.shape[0]
        reference = KernelRidge(alpha=sk_alpha, kernel="rbf", gamma=0.4).fit(X, y)
        np.testing.assert_allclose(predicted, reference.predict(tests[t]), rtol=1e-9, atol=1e-12)


def test_all_ones_task_kernel_is_kernel_ridge_on_pooled_data():
    """B = 11^T: M is the input Gram of all samples, so one KernelRidge(alpha N) on the pooled data."""
    rng = np.random.default_rng(2)
    Xs, ys = per_task_data(rng)
    T, alpha = len(SIZES), 0.02
    model = mt.MultiTaskKernelRidge(kernel="rbf", gamma=0.4, task_kernel=np.ones((T, T)), alpha=alpha,
                                    fit_intercept=False).fit(Xs, ys)
    pooled = KernelRidge(alpha=alpha * sum(SIZES), kernel="rbf", gamma=0.4).fit(np.vstack(Xs), np.concatenate(ys))
    X_test = rng.normal(size=(9, D))
    for predicted in model.predict([X_test] * T):
        np.testing.assert_allclose(predicted, pooled.predict(X_test), rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------ general B against the numpy dual solve


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("task_weights", ["uniform", [0.5, 2.0, 1.0, 3.0]])
def test_general_task_kernel_equals_numpy_dual_solve(fit_intercept, task_weights):
    rng = np.random.default_rng(3)
    Xs, ys = per_task_data(rng)
    B = random_coupling(rng, len(SIZES), "psd")  # singular B: only the ridge makes the system definite
    omega = np.ones(len(SIZES)) if task_weights == "uniform" else np.array(task_weights)
    predict, c, b = dual_reference(Xs, ys, B, 0.01, rbf, omega, fit_intercept)
    model = mt.MultiTaskKernelRidge(kernel="rbf", gamma=0.4, task_kernel=B, alpha=0.01, task_weights=task_weights,
                                    fit_intercept=fit_intercept).fit(Xs, ys)
    np.testing.assert_allclose(model.dual_coef_, c, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(model.intercept_, b, rtol=1e-8, atol=1e-10)
    tests = [rng.normal(size=(4, D)) for _ in SIZES]
    for t, predicted in enumerate(model.predict(tests)):
        np.testing.assert_allclose(predicted, predict(tests[t], t), rtol=1e-8, atol=1e-10)


def test_long_format_equals_lists():
    """Shuffled long-format rows with string labels: the same model; dual_coef_ follows the rows."""
    rng = np.random.default_rng(4)
    Xs, ys = per_task_data(rng)
    B = random_coupling(rng, len(SIZES), "pd")
    labels = np.array(["a", "b", "c", "d"])
    X, y = np.vstack(Xs), np.concatenate(ys)
    tasks = np.repeat(labels, SIZES)
    perm = rng.permutation(len(y))
    lists = mt.MultiTaskKernelRidge(task_kernel=B, alpha=0.01).fit(Xs, ys)
    long = mt.MultiTaskKernelRidge(task_kernel=B, alpha=0.01).fit(X[perm], y[perm], tasks=tasks[perm])
    np.testing.assert_allclose(long.dual_coef_, lists.dual_coef_[perm], rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(long.tasks_, labels)
    X_test, test_tasks = rng.normal(size=(10, D)), rng.choice(labels, size=10)
    expected = np.array([lists.predict([x[None]] * 4)[list(labels).index(t)][0] for x, t in zip(X_test, test_tasks)])
    np.testing.assert_allclose(long.predict(X_test, tasks=test_tasks), expected, rtol=1e-10)


# ------------------------------------------------------------------ solvers agree on shared designs


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("task_weights", ["uniform", [1.0, 0.3, 2.0, 1.5, 0.7]])
def test_kronecker_cholesky_cg_agree_on_shared_design(fit_intercept, task_weights):
    rng = np.random.default_rng(5)
    n, T = 40, 5
    X = rng.normal(size=(n, D))
    Y = np.column_stack([np.cos(X @ rng.normal(size=D)) + t for t in range(T)])
    B = random_coupling(rng, T, "psd")
    omega = np.ones(T) if task_weights == "uniform" else np.array(task_weights)
    predict, _, _ = dual_reference([X] * T, list(Y.T), B, 1e-3, rbf, omega, fit_intercept)
    X_test = rng.normal(size=(6, D))
    expected = np.column_stack([predict(X_test, t) for t in range(T)])
    for solver in ("kronecker", "cholesky", "cg"):
        model = mt.MultiTaskKernelRidge(kernel="rbf", gamma=0.4, task_kernel=B, alpha=1e-3, solver=solver,
                                        task_weights=task_weights, fit_intercept=fit_intercept, tol=1e-12)
        model.fit(X, Y)
        assert model.solver_ == solver and model.dual_coef_.shape == (n, T)
        np.testing.assert_allclose(model.predict(X_test), expected, rtol=1e-7, atol=1e-9, err_msg=solver)
    assert mt.MultiTaskKernelRidge().fit(X, Y).solver_ == "kronecker"


@pytest.mark.parametrize("T, task_kernel", [(3, "ones"), (14, "pd")])
def test_kronecker_routes_against_numpy(T, task_kernel):
    """B = 11^T: one task direction (one factorisation, the rest identity); T = 14 positive
    definite: more than 12 directions, so K_x is reduced to tridiagonal form instead."""
    rng = np.random.default_rng(16)
    n = 25
    X = rng.normal(size=(n, D))
    Y = np.column_stack([np.cos(X @ rng.normal(size=D)) + t for t in range(T)])
    B = np.ones((T, T)) if task_kernel == "ones" else random_coupling(rng, T, "pd")
    weights = rng.uniform(0.5, 2.0, size=T)
    for fit_intercept in (False, True):
        predict, _, b = dual_reference([X] * T, list(Y.T), B, 1e-3, rbf, weights, fit_intercept)
        model = mt.MultiTaskKernelRidge(kernel=rbf, task_kernel=B, alpha=1e-3, task_weights=weights,
                                        fit_intercept=fit_intercept, solver="kronecker").fit(X, Y)
        X_test = rng.normal(size=(4, D))
        expected = np.column_stack([predict(X_test, t) for t in range(T)])
        np.testing.assert_allclose(model.predict(X_test), expected, rtol=1e-8, atol=1e-9)
        np.testing.assert_allclose(model.intercept_, b, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("kernel", ["rbf", "laplacian"])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_cg_cached_and_on_the_fly_equal_cholesky(kernel, fit_intercept, monkeypatch):
    rng = np.random.default_rng(6)
    Xs, ys = per_task_data(rng)
    B = random_coupling(rng, len(SIZES), "pd")
    params = dict(kernel=kernel, gamma=0.4, task_kernel=B, alpha=1e-3, fit_intercept=fit_intercept)
    direct = mt.MultiTaskKernelRidge(solver="cholesky", **params).fit(Xs, ys)
    tests = [rng.normal(size=(4, D)) for _ in SIZES]
    for cache_bytes in (2**30, 0):  # M cached, then recomputed block by block in every product
        monkeypatch.setattr(kernel_ridge_module, "CG_CACHE_BYTES", cache_bytes)
        iterative = mt.MultiTaskKernelRidge(solver="cg", tol=1e-12, **params).fit(Xs, ys)
        assert iterative.kkt_residual_ <= 1e-12 and iterative.n_iter_ > 1
        np.testing.assert_allclose(iterative.intercept_, direct.intercept_, rtol=1e-8, atol=1e-10)
        for got, expected in zip(iterative.predict(tests), direct.predict(tests)):
            np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)


def test_blocked_cholesky_over_several_panels_and_threads():
    """N = 700: six 128-column panels (the last partial) of the parallel Cholesky; the same bits for 1 and 2 threads."""
    rng = np.random.default_rng(15)
    Xs, ys = per_task_data(rng, sizes=[300, 250, 150])
    B = random_coupling(rng, 3, "pd")
    predict, c, b = dual_reference(Xs, ys, B, 1e-4, rbf)
    fits = [mt.MultiTaskKernelRidge(kernel=rbf, task_kernel=B, alpha=1e-4, solver="cholesky", n_jobs=threads)
            .fit(Xs, ys) for threads in (1, 2)]
    np.testing.assert_allclose(fits[0].dual_coef_, c, rtol=1e-7, atol=1e-8 * np.abs(c).max())
    np.testing.assert_allclose(fits[0].intercept_, b, rtol=1e-8)
    np.testing.assert_array_equal(fits[0].dual_coef_, fits[1].dual_coef_)


def test_cg_warns_when_it_stops_early():
    rng = np.random.default_rng(7)
    Xs, ys = per_task_data(rng)
    with pytest.warns(ConvergenceWarning, match="relative residual"):
        mt.MultiTaskKernelRidge(solver="cg", alpha=1e-4, max_iter=2).fit(Xs, ys)


# ------------------------------------------------------------------ kernels


KERNEL_CASES = [
    ("linear", {}, "linear", {}),
    ("rbf", {"gamma": 0.3}, "rbf", {"gamma": 0.3}),
    ("poly", {"gamma": 0.5, "coef0": 0.7, "degree": 3}, "poly", {"gamma": 0.5, "coef0": 0.7, "degree": 3}),
    ("laplacian", {"gamma": 0.6}, "laplacian", {"gamma": 0.6}),
]


@pytest.mark.parametrize("name, params, sk_name, sk_params", KERNEL_CASES)
def test_input_kernels_equal_scikit_learn_pairwise(name, params, sk_name, sk_params):
    rng = np.random.default_rng(8)
    X1, X2 = rng.normal(size=(300, 4)), rng.normal(size=(270, 4))  # more than one row block
    gamma, coef0, degree = params.get("gamma", 1.0), params.get("coef0", 1.0), params.get("degree", 3)
    expected = pairwise_kernels(X1, X2, metric=sk_name, **sk_params)
    values = core.kernel_values_f64(X1=X1, X2=X2, kernel=name, gamma=gamma, coef0=coef0, degree=degree, weights=None, n_threads=2)
    np.testing.assert_allclose(values, expected, rtol=1e-12, atol=1e-13)
    W = rng.normal(size=(270, 3))
    expansion = core.kernel_values_f64(X1=X1, X2=X2, kernel=name, gamma=gamma, coef0=coef0, degree=degree, weights=W, n_threads=2)
    np.testing.assert_allclose(expansion, expected @ W, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, params, sk_name, sk_params", KERNEL_CASES)
def test_every_kernel_fits_the_numpy_dual_solve(name, params, sk_name, sk_params):
    """The core's symmetric Gram (lower triangle, B-scaled blocks) and predictions, per kernel."""
    rng = np.random.default_rng(9)
    Xs, ys = per_task_data(rng, sizes=[150, 140])  # N > one 256-row block
    B = np.array([[1.0, 0.6], [0.6, 1.5]])
    predict, _, _ = dual_reference(Xs, ys, B, 1e-3, lambda P, Q: pairwise_kernels(P, Q, metric=sk_name, **sk_params))
    model = mt.MultiTaskKernelRidge(kernel=name, task_kernel=B, alpha=1e-3, **params).fit(Xs, ys)
    tests = [rng.normal(size=(5, D)) for _ in range(2)]
    for t, predicted in enumerate(model.predict(tests)):
        np.testing.assert_allclose(predicted, predict(tests[t], t), rtol=1e-7, atol=1e-9)


def test_default_gamma_is_one_over_n_features():
    rng = np.random.default_rng(10)
    Xs, ys = per_task_data(rng)
    default = mt.MultiTaskKernelRidge(kernel="rbf").fit(Xs, ys)
    explicit = mt.MultiTaskKernelRidge(kernel="rbf", gamma=1.0 / D).fit(Xs, ys)
    np.testing.assert_allclose(default.dual_coef_, explicit.dual_coef_, rtol=1e-12)


def test_callable_and_precomputed_kernels_equal_the_builtin():
    rng = np.random.default_rng(11)
    Xs, ys = per_task_data(rng)
    B = random_coupling(rng, len(SIZES), "pd")
    tests = [rng.normal(size=(3, D)) for _ in SIZES]
    builtin = mt.MultiTaskKernelRidge(kernel="rbf", gamma=0.4, task_kernel=B, alpha=0.01).fit(Xs, ys)
    expected = builtin.predict(tests)
    callable_model = mt.MultiTaskKernelRidge(kernel=rbf, task_kernel=B, alpha=0.01).fit(Xs, ys)
    for got, want in zip(callable_model.predict(tests), expected):
        np.testing.assert_allclose(got, want, rtol=1e-10)

    # Lists: K_t (n_t, N), rows of task t against all training samples (tasks concatenated).
    X_all = np.vstack(Xs)
    precomputed = mt.MultiTaskKernelRidge(kernel="precomputed", task_kernel=B, alpha=0.01)
    precomputed.fit([rbf(X, X_all) for X in Xs], ys)
    for got, want in zip(precomputed.predict([rbf(X, X_all) for X in tests]), expected):
        np.testing.assert_allclose(got, want, rtol=1e-10)

    # Long format: K (N, N) over the rows in their given (shuffled) order.
    perm = rng.permutation(X_all.shape[0])
    tasks = np.repeat(np.arange(len(SIZES)), SIZES)[perm]
    X_perm = X_all[perm]
    long = mt.MultiTaskKernelRidge(kernel="precomputed", task_kernel=B, alpha=0.01)
    long.fit(rbf(X_perm, X_perm), np.concatenate(ys)[perm], tasks=tasks)
    np.testing.assert_allclose(long.predict(rbf(tests[2], X_perm), tasks=[2] * 3), expected[2], rtol=1e-10)


def test_precomputed_shared_design_and_float32():
    rng = np.random.default_rng(12)
    X, Y = rng.normal(size=(30, D)), rng.normal(size=(30, 3))
    X_test = rng.normal(size=(4, D))
    builtin = mt.MultiTaskKernelRidge(kernel="rbf", gamma=0.4, alpha=0.01).fit(X, Y)
    precomputed = mt.MultiTaskKernelRidge(kernel="precomputed", alpha=0.01).fit(rbf(X, X), Y)
    np.testing.assert_allclose(precomputed.predict(rbf(X_test, X)), builtin.predict(X_test), rtol=1e-10)
    # B = I: task 0 alone, with alpha N the same (N = 30 instead of 90 samples).
    single = mt.MultiTaskKernelRidge(kernel="rbf", gamma=0.4, alpha=0.03).fit(X, Y[:, 0])
    np.testing.assert_allclose(single.predict(X_test), builtin.predict(X_test)[:, 0], rtol=1e-10)
    low = mt.MultiTaskKernelRidge(kernel="rbf", gamma=0.4, alpha=0.01, solver="cholesky")
    low.fit(X.astype(np.float32), Y.astype(np.float32))
    assert low.dual_coef_.dtype == np.float32
    np.testing.assert_allclose(low.predict(X_test.astype(np.float32)), builtin.predict(X_test), rtol=1e-3, atol=1e-3)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "params, match",
    [
        ({"task_kernel": [[1.0, 2.0], [2.0, 1.0]]}, "task_kernel"),            # indefinite
        ({"task_kernel": np.eye(3)}, "task_kernel has shape"),                  # wrong size
        ({"task_kernel": [[1.0, 0.5], [0.1, 1.0]]}, "task_kernel must be symmetric"),
        ({"coupling": [[1.0, 1.0], [1.0, 1.0]]}, "coupling must be positive definite"),  # singular K
        ({"task_kernel": np.eye(2), "coupling": np.eye(2)}, "not both"),
        ({"gamma": 0.0}, "gamma"),
        ({"gamma": -1.0}, "gamma"),
        ({"kernel": "poly", "degree": 0}, "degree"),
        ({"alpha": 0.0}, "alpha"),
        ({"kernel": "sigmoid"}, "kernel"),
        ({"solver": "kronecker"}, "shared design"),
    ],
)
def test_bad_parameters(params, match):
    rng = np.random.default_rng(13)
    Xs, ys = per_task_data(rng, sizes=[5, 6])
    with pytest.raises(ValueError, match=match):
        mt.MultiTaskKernelRidge(**params).fit(Xs, ys)


def test_bad_precomputed_shapes():
    rng = np.random.default_rng(14)
    X, Y = rng.normal(size=(10, D)), rng.normal(size=(10, 2))
    with pytest.raises(ValueError, match="precomputed"):
        mt.MultiTaskKernelRidge(kernel="precomputed").fit(rbf(X, X[:8]), Y)  # (10, 8): not square
    model = mt.MultiTaskKernelRidge(kernel="precomputed").fit(rbf(X, X), Y)
    with pytest.raises(ValueError, match="features"):
        model.predict(rbf(X[:3], X[:9]))  # 9 columns, 10 training inputs
    asymmetric = rbf(X, X) + np.triu(np.full((10, 10), 0.1), 1)
    with pytest.raises(ValueError, match="symmetric"):
        mt.MultiTaskKernelRidge(kernel="precomputed").fit(asymmetric, Y)
    with pytest.raises(ValueError, match="expected"):
        mt.MultiTaskKernelRidge(kernel=lambda A, B_: rbf(A, B_)[:, :-1]).fit(X, Y)
