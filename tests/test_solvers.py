"""Every solver against a dense numpy solve of the same objective."""

import pickle
import threading
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import multitask as mt
from multitask._core import available_isa_levels, load_core
from reference import dense_solution, numerical_gradient, objective, random_problem

SOLVERS = ["exact", "cg", "bcd", "gradient", "auto"]
# Unequal tasks, two of them wide (n_t < d / 2: the Woodbury path).
SIZES = [4, 40, 25, 3, 60]
D = 12


def relative_error(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("task_weights", ["uniform", "balanced", "array"])
def test_float64_matches_dense_reference(solver, fit_intercept, task_weights):
    rng = np.random.default_rng(0)
    Xs, ys, K = random_problem(rng, SIZES, D, shift=1.5)
    weights = rng.uniform(0.5, 2.0, len(SIZES)) if task_weights == "array" else task_weights
    alpha = 0.3
    model = mt.KernelCoupledRegressor(
        coupling=K, alpha=alpha, task_weights=weights, fit_intercept=fit_intercept, solver=solver,
        tol=1e-10, max_iter=100000,
    ).fit(Xs, ys)
    coef, intercept = dense_solution(Xs, ys, K, alpha, weights, fit_intercept)
    assert model.coef_.shape == (len(SIZES), D)
    assert relative_error(model.coef_, coef) < 1e-7
    assert np.abs(model.intercept_ - intercept).max() < 1e-7 * max(1.0, np.abs(intercept).max())
    optimum = objective(Xs, ys, coef, intercept, K, alpha, weights)
    assert model.objective_ == pytest.approx(optimum, rel=1e-9)
    assert model.n_iter_ >= 1


@pytest.mark.parametrize("solver", ["exact", "cg", "bcd", "gradient"])
def test_float32_close_to_float64_reference(solver):
    rng = np.random.default_rng(1)
    Xs, ys, K = random_problem(rng, SIZES, D)
    model = mt.KernelCoupledRegressor(coupling=K, alpha=0.5, solver=solver, tol=1e-5, max_iter=100000)
    model.fit([X.astype(np.float32) for X in Xs], [y.astype(np.float32) for y in ys])
    coef, _ = dense_solution(Xs, ys, K, 0.5)
    assert model.coef_.dtype == np.float32
    assert relative_error(model.coef_, coef) < 1e-3


@pytest.mark.parametrize("task_weights", ["uniform", "balanced", "array"])
@pytest.mark.parametrize("solver", ["exact", "cg", "bcd", "gradient"])
def test_shared_design_matches_reference(solver, task_weights):
    rng = np.random.default_rng(2)
    n, T = 50, 4
    X = rng.normal(size=(n, D)) + 1.0
    Y = X @ rng.normal(size=(D, T)) + rng.normal(size=(n, T))
    K = mt.coupling.mean_regularized(T, mu=0.2)
    weights = rng.uniform(0.5, 2.0, T) if task_weights == "array" else task_weights
    model = mt.KernelCoupledRegressor(
        coupling=K, alpha=0.1, task_weights=weights, solver=solver, tol=1e-10, max_iter=100000
    ).fit(X, Y)
    coef, intercept = dense_solution([X] * T, list(Y.T), K, 0.1, weights)
    assert relative_error(model.coef_, coef) < 1e-7
    np.testing.assert_allclose(model.intercept_, intercept, rtol=1e-7, atol=1e-9)
    assert model.predict(X).shape == (n, T)


def test_gradient_of_objective_matches_finite_differences():
    """At the optimum the finite-difference gradient of the reference F vanishes;
    at a random point it equals H vec(W) - c, the gradient the solvers use."""
    rng = np.random.default_rng(3)
    Xs, ys, K = random_problem(rng, [6, 9, 7], 4)
    alpha = 0.7
    model = mt.KernelCoupledRegressor(coupling=K, alpha=alpha, solver="exact").fit(Xs, ys)

    def F(coef):
        # Intercepts at their optimum for the given coefficients (they are unpenalised).
        b = np.array([y.mean() - X.mean(axis=0) @ w for X, y, w in zip(Xs, ys, coef)])
        return objective(Xs, ys, coef, b, K, alpha)

    assert np.abs(numerical_gradient(F, model.coef_)).max() < 1e-7
    from reference import kronecker_system

    H, c = kronecker_system(Xs, ys, K, alpha)
    W = rng.normal(size=model.coef_.shape)
    np.testing.assert_allclose(numerical_gradient(F, W), (H @ W.ravel() - c).reshape(W.shape), atol=1e-7)


def test_non_convergence_warns():
    rng = np.random.default_rng(4)
    Xs, ys, K = random_problem(rng, SIZES, D)
    for solver in ["cg", "bcd", "gradient"]:
        with pytest.warns(ConvergenceWarning, match="relative KKT residual"):
            mt.KernelCoupledRegressor(coupling=K, solver=solver, tol=1e-14, max_iter=1).fit(Xs, ys)


@pytest.mark.parametrize("solver", ["cg", "bcd", "gradient"])
def test_warm_start_reduces_iterations(solver):
    rng = np.random.default_rng(5)
    Xs, ys, K = random_problem(rng, SIZES, D)
    model = mt.KernelCoupledRegressor(coupling=K, alpha=0.5, solver=solver, tol=1e-10, max_iter=100000,
                                      warm_start=True)
    cold = model.fit(Xs, ys).n_iter_
    warm = model.set_params(alpha=0.51).fit(Xs, ys).n_iter_
    assert warm < cold
    coef, _ = dense_solution(Xs, ys, K, 0.51)
    assert relative_error(model.coef_, coef) < 1e-7


@pytest.mark.parametrize("solver", SOLVERS)
def test_thread_count_does_not_change_result(solver):
    rng = np.random.default_rng(6)
    Xs, ys, K = random_problem(rng, SIZES * 3, D)
    fits = [mt.KernelCoupledRegressor(coupling=K, solver=solver, tol=1e-10, n_jobs=n_jobs).fit(Xs, ys)
            for n_jobs in (1, 2)]
    np.testing.assert_allclose(fits[0].coef_, fits[1].coef_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fits[0].intercept_, fits[1].intercept_, rtol=0, atol=1e-12)


@pytest.mark.parametrize("solver", ["cg", "bcd", "gradient"])
def test_thread_count_does_not_change_result_when_loops_run_in_parallel(solver):
    """Large enough (T d^2 >= 2e5 flops per pass) that the core really uses both threads."""
    rng = np.random.default_rng(13)
    Xs, ys, K = random_problem(rng, [120, 180, 60] * 8, 100)
    fits = [mt.KernelCoupledRegressor(coupling=K, solver=solver, tol=1e-10, max_iter=5000, n_jobs=n_jobs)
            .fit(Xs, ys) for n_jobs in (1, 2)]
    np.testing.assert_allclose(fits[0].coef_, fits[1].coef_, rtol=0, atol=1e-12)


def test_shared_design_thread_count_does_not_change_result():
    rng = np.random.default_rng(7)
    X, Y = rng.normal(size=(3000, 20)), rng.normal(size=(3000, 6))
    fits = [mt.KernelCoupledRegressor(n_jobs=n_jobs).fit(X, Y) for n_jobs in (1, 2)]
    np.testing.assert_allclose(fits[0].coef_, fits[1].coef_, rtol=0, atol=1e-12)


def test_two_fits_in_python_threads_at_once():
    rng = np.random.default_rng(8)
    problems = [random_problem(rng, [300, 200, 400], 30) for _ in range(2)]
    expected = [mt.KernelCoupledRegressor(coupling=K, solver="cg").fit(Xs, ys).coef_ for Xs, ys, K in problems]
    results = [None, None]

    def fit(i):
        Xs, ys, K = problems[i]
        results[i] = mt.KernelCoupledRegressor(coupling=K, solver="cg", n_jobs=1).fit(Xs, ys).coef_

    threads = [threading.Thread(target=fit, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for got, want in zip(results, expected):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_pickle_round_trip():
    rng = np.random.default_rng(9)
    Xs, ys, K = random_problem(rng, SIZES, D)
    model = mt.KernelCoupledRegressor(coupling=K).fit(Xs, ys)
    clone = pickle.loads(pickle.dumps(model))
    for a, b in zip(model.predict(Xs), clone.predict(Xs)):
        np.testing.assert_array_equal(a, b)


def test_every_built_instruction_set_level_agrees():
    levels = available_isa_levels()
    if len(levels) < 2:
        pytest.skip(f"only {levels} is built and runnable here")
    rng = np.random.default_rng(10)
    Xs, ys, K = random_problem(rng, SIZES, D)
    s = np.full(len(SIZES), 1.0 / sum(SIZES))
    results = [
        load_core(level).fit_least_squares_f64(Xs, ys, s, K, 0.3, True, False, "cg", 1e-12, 1000, 1, None)
        for level in levels
    ]
    for result in results[1:]:
        np.testing.assert_allclose(result["coef"], results[0]["coef"], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("shared", [False, True])
def test_singular_system_raises_numerical_error(shared):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(20, 3))
    X = np.c_[X, X[:, 0]]  # a repeated column: X^T X is singular
    model = mt.KernelCoupledRegressor(coupling="identity", alpha=0.0, solver="exact")
    with pytest.raises(mt.NumericalError, match="singular") as error:
        if shared:
            model.fit(X, np.c_[X[:, 0], X[:, 1]])
        else:
            model.fit([X, X], [X[:, 0], X[:, 1]])
    assert isinstance(error.value, np.linalg.LinAlgError)


def test_objective_history_decreases_for_descent_solvers():
    rng = np.random.default_rng(12)
    Xs, ys, K = random_problem(rng, SIZES, D)
    for solver in ["cg", "bcd"]:
        history = mt.KernelCoupledRegressor(coupling=K, solver=solver, tol=1e-10).fit(Xs, ys).objective_history_
        assert np.all(np.diff(history) <= 1e-12 * np.abs(history).max())
