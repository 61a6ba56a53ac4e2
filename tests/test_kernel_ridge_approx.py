"""MultiTaskKernelRidge with solver="nystroem" / "random_features": explicit feature maps and the
primal kernel-coupled solver, against the exact dual solution, scikit-learn's Nystroem and numpy."""

import numpy as np
import pytest
from sklearn.kernel_approximation import Nystroem
from sklearn.metrics.pairwise import pairwise_kernels
from sklearn.utils.estimator_checks import parametrize_with_checks

import multitask as mt
from multitask._feature_maps import RandomFourierMap
from multitask._kernel_ridge_primal import feature_function
from reference import random_coupling

SIZES = [14, 22, 9, 17]
D = 2
GAMMA = 0.8


def per_task_data(rng, sizes=SIZES, d=D):
    Xs = [rng.uniform(-2, 2, size=(n, d)) for n in sizes]
    ys = [np.sin(2 * X[:, 0]) * np.cos(X[:, 1]) + 0.3 * t + 0.1 * rng.normal(size=len(X)) for t, X in enumerate(Xs)]
    return Xs, ys


def task_kernel(rng, kind, T):
    """A positive definite B, the all-ones B (every task one function) or B of rank T - 1."""
    if kind == "pd":
        return random_coupling(rng, T, "pd")
    if kind == "ones":
        return np.ones((T, T))
    return random_coupling(rng, T, "psd")


def max_error(got, expected):
    return max(float(np.max(np.abs(g - e))) for g, e in zip(got, expected))


# ------------------------------------------------------------------ Nyström with every input a landmark is exact


@pytest.mark.parametrize("B_kind", ["pd", "ones", "low_rank"])
@pytest.mark.parametrize("fit_intercept, task_weights", [(True, "uniform"), (True, [0.5, 2.0, 1.0, 3.0]),
                                                         (False, "balanced")])
def test_full_rank_nystroem_equals_cholesky_per_task_inputs(B_kind, fit_intercept, task_weights):
    """n_components = N: Z Z^T equals the input Gram on the training inputs, so the primal
    solution on the features is the exact dual one (general, singular and low-rank B)."""
    rng = np.random.default_rng(0)
    Xs, ys = per_task_data(rng)
    B = task_kernel(rng, B_kind, len(SIZES))
    params = dict(kernel="rbf", gamma=GAMMA, task_kernel=B, alpha=1e-3, fit_intercept=fit_intercept,
                  task_weights=task_weights)
    exact = mt.MultiTaskKernelRidge(solver="cholesky", **params).fit(Xs, ys)
    approx = mt.MultiTaskKernelRidge(solver="nystroem", n_components=sum(SIZES), random_state=0, **params)
    approx.fit(Xs, ys)
    assert approx.solver_ == "nystroem" and approx.dual_coef_ is None
    assert approx.coef_.shape == (len(SIZES), approx.feature_map_.n_components)
    tests = [rng.uniform(-2.5, 2.5, size=(6, D)) for _ in SIZES]
    assert max_error(approx.predict(tests), exact.predict(tests)) < 1e-8
    assert max_error(approx.predict(Xs), exact.predict(Xs)) < 1e-8
    np.testing.assert_allclose(approx.intercept_, exact.intercept_, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("B_kind", ["pd", "ones"])
def test_full_rank_nystroem_equals_cholesky_long_format_and_shared_design(B_kind):
    rng = np.random.default_rng(1)
    Xs, ys = per_task_data(rng)
    T = len(SIZES)
    B = task_kernel(rng, B_kind, T)
    params = dict(kernel="laplacian", gamma=0.5, task_kernel=B, alpha=1e-3, task_weights="balanced")
    X, y, tasks = np.vstack(Xs), np.concatenate(ys), np.repeat(np.arange(T), SIZES)
    perm = rng.permutation(len(y))
    X_test, test_tasks = rng.uniform(-2, 2, size=(12, D)), rng.integers(0, T, size=12)
    exact = mt.MultiTaskKernelRidge(solver="cholesky", **params).fit(X[perm], y[perm], tasks=tasks[perm])
    approx = mt.MultiTaskKernelRidge(solver="nystroem", n_components=len(y), **params)
    approx.fit(X[perm], y[perm], tasks=tasks[perm])
    np.testing.assert_allclose(approx.predict(X_test, tasks=test_tasks), exact.predict(X_test, tasks=test_tasks),
                               rtol=0, atol=1e-8)
    # Shared design: the core's shared-design path (B definite) or the range of B (B = 11^T).
    n = 30
    X_shared = rng.uniform(-2, 2, size=(n, D))
    Y = np.column_stack([np.cos(X_shared @ rng.normal(size=D)) + t for t in range(T)])
    exact = mt.MultiTaskKernelRidge(solver="cholesky", **params).fit(X_shared, Y)
    approx = mt.MultiTaskKernelRidge(solver="nystroem", n_components=n, **params).fit(X_shared, Y)
    np.testing.assert_allclose(approx.predict(X_test), exact.predict(X_test), rtol=0, atol=1e-8)


def test_linear_kernel_nystroem_is_kernel_coupled_regressor():
    """Linear kernel, d landmarks in general position: z(x) = R x with R orthogonal, so the
    model is KernelCoupledRegressor on x with coupling K = B^{-1}."""
    rng = np.random.default_rng(2)
    Xs = [rng.normal(size=(n, 4)) + 1.0 for n in SIZES]
    ys = [X @ rng.normal(size=4) + rng.normal(size=len(X)) for X in Xs]
    K = random_coupling(rng, len(SIZES), "pd")
    primal = mt.KernelCoupledRegressor(coupling=K, alpha=0.05, task_weights="balanced", solver="exact").fit(Xs, ys)
    approx = mt.MultiTaskKernelRidge(kernel="linear", coupling=K, alpha=0.05, task_weights="balanced",
                                     solver="nystroem", n_components=6, random_state=3).fit(Xs, ys)
    assert approx.feature_map_.n_components == 4  # k(L, L) = L L^T has rank d
    tests = [rng.normal(size=(5, 4)) for _ in SIZES]
    assert max_error(approx.predict(tests), primal.predict(tests)) < 1e-8


# ------------------------------------------------------------------ the feature maps themselves


def test_nystroem_features_equal_scikit_learn_on_the_same_landmarks():
    rng = np.random.default_rng(4)
    Xs, ys = per_task_data(rng, sizes=[40, 35])
    model = mt.MultiTaskKernelRidge(kernel="rbf", gamma=GAMMA, solver="nystroem", n_components=25,
                                    random_state=5).fit(Xs, ys)
    landmarks = model.X_fit_
    indices = model.feature_map_.landmark_indices
    assert np.unique(indices).size == 25
    np.testing.assert_array_equal(landmarks, np.vstack(Xs)[indices])  # rows of the training inputs
    X_test = rng.uniform(-2, 2, size=(30, D))
    Z = feature_function(model)(X_test)
    sklearn_map = Nystroem(kernel="rbf", gamma=GAMMA, n_components=25).fit(landmarks)
    Z_sklearn = sklearn_map.transform(X_test)
    np.testing.assert_allclose(Z @ Z.T, Z_sklearn @ Z_sklearn.T, rtol=0, atol=1e-8)
    def k(A, C):
        return pairwise_kernels(A, C, metric="rbf", gamma=GAMMA)

    reference = k(X_test, landmarks) @ np.linalg.pinv(k(landmarks, landmarks), hermitian=True) @ k(landmarks, X_test)
    np.testing.assert_allclose(Z @ Z.T, reference, rtol=0, atol=1e-8)


@pytest.mark.parametrize("kernel", ["rbf", "laplacian"])
def test_random_fourier_features_average_to_the_kernel(kernel):
    """E <z(x), z(x')> = k(x, x'): with 20,000 features the Monte Carlo error is about 0.005
    (a frequency scale off by 2 would be off by about 0.2)."""
    rng = np.random.default_rng(6)
    X = rng.uniform(-1, 1, size=(20, 3))
    Z = RandomFourierMap.draw(kernel, 0.7, 3, 20000, np.random.RandomState(7), np.float64).transform(X)
    assert Z.shape == (20, 20000)
    np.testing.assert_allclose(Z @ Z.T, pairwise_kernels(X, metric=kernel, gamma=0.7), rtol=0, atol=0.04)


@pytest.mark.parametrize("solver, kernel", [("random_features", "rbf"), ("random_features", "laplacian"),
                                            ("nystroem", "rbf")])
def test_approximations_converge_to_the_exact_predictions(solver, kernel):
    """More features, closer to the exact dual solution: a loose check that the root mean square
    difference (averaged over three draws) shrinks several-fold and ends small. Random features
    converge slowly (Monte Carlo, 1/sqrt(m) for the kernel values; slower still for the heavy-tailed
    Cauchy frequencies of the Laplacian kernel), Nyström fast on a smooth kernel."""
    rng = np.random.default_rng(8)
    sizes = [120, 90, 150]
    Xs, ys = per_task_data(rng, sizes=sizes)
    B = random_coupling(rng, len(sizes), "pd")
    params = dict(kernel=kernel, gamma=0.5, task_kernel=B, alpha=1e-3)
    tests = [rng.uniform(-2, 2, size=(40, D)) for _ in sizes]
    expected = np.concatenate(mt.MultiTaskKernelRidge(solver="cholesky", **params).fit(Xs, ys).predict(tests))

    def rms_difference(m):
        differences = [np.concatenate(mt.MultiTaskKernelRidge(solver=solver, n_components=m, random_state=seed,
                                                              **params).fit(Xs, ys).predict(tests)) - expected
                       for seed in range(3)]
        return float(np.sqrt(np.mean(np.square(differences))))

    small, large = (20, 1000) if solver == "random_features" else (8, 120)
    errors = [rms_difference(small), rms_difference(large)]
    assert errors[1] < 0.35 * errors[0] and errors[1] < 0.1, errors


def test_random_state_reproducibility_and_float32():
    rng = np.random.default_rng(10)
    Xs, ys = per_task_data(rng)
    tests = [rng.uniform(-2, 2, size=(5, D)) for _ in SIZES]
    for solver in ("nystroem", "random_features"):
        # gamma = 3: k(L, L) well conditioned, so float32 keeps every eigenpair float64 keeps (the
        # numerical rank uses the dtype's epsilon) and both fits map to the same features.
        params = dict(kernel="rbf", gamma=3.0, alpha=1e-3, solver=solver, n_components=30)
        first = mt.MultiTaskKernelRidge(random_state=11, **params).fit(Xs, ys).predict(tests)
        again = mt.MultiTaskKernelRidge(random_state=11, **params).fit(Xs, ys).predict(tests)
        other = mt.MultiTaskKernelRidge(random_state=12, **params).fit(Xs, ys).predict(tests)
        for a, b, c in zip(first, again, other):
            np.testing.assert_array_equal(a, b)
            assert not np.allclose(a, c, rtol=0, atol=1e-6)
        # float32 input: float32 features and coefficients, close to the float64 fit.
        single = mt.MultiTaskKernelRidge(random_state=11, **params)
        single.fit([X.astype(np.float32) for X in Xs], [y.astype(np.float32) for y in ys])
        assert single.coef_.dtype == np.float32
        predictions = single.predict([X.astype(np.float32) for X in tests])
        assert predictions[0].dtype == np.float32
        assert single.feature_map_.n_components == 30
        assert max_error(predictions, first) < 1e-4


def test_refits_with_another_solver_forget_the_previous_map():
    """random_features, then full-rank nystroem, then auto (cholesky) on one estimator: each refit
    predicts like a fresh exact fit, nothing of the earlier feature map is used or left behind."""
    rng = np.random.default_rng(13)
    Xs, ys = per_task_data(rng)
    tests = [rng.uniform(-2, 2, size=(3, D)) for _ in SIZES]
    exact = mt.MultiTaskKernelRidge(gamma=GAMMA).fit(Xs, ys)
    model = mt.MultiTaskKernelRidge(gamma=GAMMA, solver="random_features", n_components=50, random_state=0)
    model.fit(Xs, ys)
    model.set_params(solver="nystroem", n_components=sum(SIZES)).fit(Xs, ys)
    assert max_error(model.predict(tests), exact.predict(tests)) < 1e-8
    model.set_params(solver="auto").fit(Xs, ys)
    assert model.solver_ == "cholesky" and model.feature_map_ is None and model.coef_ is None
    np.testing.assert_allclose(model.dual_coef_, exact.dual_coef_, rtol=1e-12)
    assert max_error(model.predict(tests), exact.predict(tests)) < 1e-12


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("params, match", [
    (dict(solver="nystroem", n_components=0), "n_components"),
    (dict(solver="random_features", n_components=-3), "n_components"),
    (dict(solver="nystroem", n_components=sum(SIZES) + 1), "n_components"),
    (dict(solver="random_features", kernel="poly"), "kernel"),
    (dict(solver="random_features", kernel="linear"), "kernel"),
    (dict(solver="random_features", kernel="precomputed"), "kernel"),
    (dict(solver="nystroem", kernel="precomputed"), "kernel"),
    (dict(solver="nystroem", random_state="seed"), "random_state"),
])
def test_bad_parameters(params, match):
    rng = np.random.default_rng(14)
    Xs, ys = per_task_data(rng)
    if params.get("kernel") == "precomputed":
        X_all = np.vstack(Xs)
        Xs = [pairwise_kernels(X, X_all, metric="rbf") for X in Xs]
    with pytest.raises(ValueError, match=match):
        mt.MultiTaskKernelRidge(**params).fit(Xs, ys)



@parametrize_with_checks([mt.MultiTaskKernelRidge(solver="random_features", random_state=0)])
def test_random_features_estimator_passes_scikit_learn_checks(estimator, check):
    """The approximate route keeps the estimator scikit-learn compatible (Nyström is left out:
    some checks fit fewer samples than its n_components landmarks, a ValueError by design)."""
    check(estimator)
