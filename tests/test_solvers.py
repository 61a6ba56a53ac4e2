"""Every solver against a dense numpy solve of the same objective."""

import pickle
import threading

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import multitask as mt
from multitask._core import available_isa_levels, core, load_core
from reference import (
    dense_solution,
    kronecker_system,
    numerical_gradient,
    objective,
    objective_gradient,
    random_coupling,
    random_problem,
    relative_kkt_residual,
)

SOLVERS = ["exact", "cg", "task_bcd", "gradient", "auto"]
ITERATIVE = ["cg", "task_bcd", "gradient"]
# Unequal tasks, two of them wide (n_t < d / 2: the Woodbury path).
SIZES = [4, 40, 25, 3, 60]
D = 12


def relative_error(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


def task_weights_for(kind, rng, n_tasks):
    return rng.uniform(0.5, 2.0, n_tasks) if kind == "array" else kind


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("task_weights", ["uniform", "balanced", "array"])
def test_float64_matches_dense_reference(solver, fit_intercept, task_weights):
    rng = np.random.default_rng(0)
    Xs, ys, K = random_problem(rng, SIZES, D, shift=1.5)
    weights = task_weights_for(task_weights, rng, len(SIZES))
    alpha = 0.3
    model = mt.KernelCoupledRegressor(
        coupling=K, alpha=alpha, task_weights=weights, fit_intercept=fit_intercept, solver=solver,
        tol=1e-10, max_iter=100000,
    ).fit(Xs, ys)
    coef, intercept = dense_solution(Xs, ys, K, alpha, weights, fit_intercept)
    assert model.coef_.shape == (len(SIZES), D) and model.coef_.dtype == np.float64
    assert model.intercept_.shape == (len(SIZES),)
    assert relative_error(model.coef_, coef) < 1e-7
    assert np.abs(model.intercept_ - intercept).max() < 1e-7 * max(1.0, np.abs(intercept).max())
    if not fit_intercept:
        np.testing.assert_array_equal(model.intercept_, 0.0)
    optimum = objective(Xs, ys, coef, intercept, K, alpha, weights)
    assert model.objective_ == pytest.approx(optimum, rel=1e-9)
    assert model.n_iter_ >= 1
    assert model.solver_ in ("exact", "cg", "task_bcd", "gradient")
    if solver != "auto":
        assert model.solver_ == solver


# Couplings that are only semidefinite, or leave one task uncoupled, and tasks of a
# single sample (centred data of rank 0 on the Woodbury side).
def _laplacian_of_path(T):
    K = 2 * np.eye(T) - np.eye(T, k=1) - np.eye(T, k=-1)
    K[0, 0] = K[-1, -1] = 1.0
    return K


def _uncoupled_task(T):
    K = np.eye(T) + 0.3
    K[2, :] = K[:, 2] = 0.0  # task 2: no penalty at all, plain least squares (it has n_t > d)
    return K


SPECIAL_CASES = {
    "random_psd": ([6, 30, 2, 1, 50], lambda rng, T: random_coupling(rng, T, "psd")),
    "path_laplacian": ([6, 30, 2, 1, 50], lambda rng, T: _laplacian_of_path(T)),
    "mean_regularized_mu0": ([6, 30, 2, 1, 50], lambda rng, T: mt.coupling.mean_regularized(T, mu=0.0)),
    "uncoupled_task": ([6, 30, 20, 3, 50], lambda rng, T: _uncoupled_task(T)),
    "single_sample_tasks": ([1, 1, 30, 1, 40], lambda rng, T: random_coupling(rng, T, "pd")),
}


@pytest.mark.parametrize("case", sorted(SPECIAL_CASES))
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_semidefinite_and_degenerate_couplings_match_reference(case, solver, fit_intercept):
    rng = np.random.default_rng(20)
    sizes, make_coupling = SPECIAL_CASES[case]
    K = make_coupling(rng, len(sizes))
    Xs, ys, _ = random_problem(rng, sizes, 8, shift=0.5)
    model = mt.KernelCoupledRegressor(
        coupling=K, alpha=0.3, task_weights="balanced", fit_intercept=fit_intercept, solver=solver,
        tol=1e-11, max_iter=100000,
    ).fit(Xs, ys)
    coef, intercept = dense_solution(Xs, ys, K, 0.3, "balanced", fit_intercept)
    assert relative_error(model.coef_, coef) < 1e-7
    assert np.abs(model.intercept_ - intercept).max() < 1e-7 * max(1.0, np.abs(intercept).max())


@pytest.mark.parametrize("solver", SOLVERS)
def test_alpha_zero_is_least_squares_per_task(solver):
    """alpha = 0 with full-rank designs: every task is ordinary least squares."""
    rng = np.random.default_rng(21)
    Xs, ys, K = random_problem(rng, [20, 30, 40], 6)
    model = mt.KernelCoupledRegressor(coupling=K, alpha=0.0, fit_intercept=False, solver=solver, tol=1e-12,
                                      max_iter=100000).fit(Xs, ys)
    ols = np.array([np.linalg.lstsq(X, y, rcond=None)[0] for X, y in zip(Xs, ys)])
    assert relative_error(model.coef_, ols) < 1e-8


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("form", ["lists", "long", "shared"])
def test_float32_close_to_float64_reference(solver, form):
    rng = np.random.default_rng(1)
    weights = "balanced"
    if form == "shared":
        X = rng.normal(size=(60, D)) + 0.5
        Y = X @ rng.normal(size=(D, 4)) + rng.normal(size=(60, 4))
        K = random_coupling(rng, 4)
        Xs, ys = [X] * 4, list(Y.T)
        data = (X.astype(np.float32), Y.astype(np.float32))
        kwargs = {}
    else:
        Xs, ys, K = random_problem(rng, SIZES, D, shift=0.5)
        if form == "lists":
            data = ([X.astype(np.float32) for X in Xs], [y.astype(np.float32) for y in ys])
            kwargs = {}
        else:
            data = (np.vstack(Xs).astype(np.float32), np.concatenate(ys).astype(np.float32))
            kwargs = {"tasks": np.repeat(np.arange(len(SIZES)), SIZES)}
    model = mt.KernelCoupledRegressor(coupling=K, alpha=0.5, task_weights=weights, solver=solver, tol=1e-5,
                                      max_iter=100000)
    model.fit(*data, **kwargs)
    coef, intercept = dense_solution(Xs, ys, K, 0.5, weights)
    assert model.coef_.dtype == np.float32
    assert relative_error(model.coef_, coef) < 1e-3
    assert np.abs(model.intercept_ - intercept).max() < 1e-3 * max(1.0, np.abs(intercept).max())


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("form", ["lists", "shared"])
def test_float32_moderately_conditioned_problem(solver, form):
    """Features on scales from 0.01-0.03 to 1 and a small alpha: the system has a
    condition number of about 1e4, within float32's reach (eps * cond ~ 1e-3)."""
    rng = np.random.default_rng(14)
    if form == "lists":
        Xs, ys, K = random_problem(rng, [40, 40, 25, 30, 60], 12)
        Xs = [X * np.logspace(-1.5, 0, 12) for X in Xs]
        data = ([X.astype(np.float32) for X in Xs], [y.astype(np.float32) for y in ys])
    else:
        X = rng.normal(size=(200, 12)) * np.logspace(-2, 0, 12)
        Y = rng.normal(size=(200, 4))
        Xs, ys, K = [X] * 4, list(Y.T), mt.coupling.mean_regularized(4, 0.1)
        data = (X.astype(np.float32), Y.astype(np.float32))
    alpha = 1e-6
    H, _ = kronecker_system(Xs, ys, K, alpha)
    assert np.linalg.cond(H) < 3e4  # eps_32 * cond < 4e-3
    model = mt.KernelCoupledRegressor(coupling=K, alpha=alpha, solver=solver, tol=1e-5, max_iter=100000)
    model.fit(*data)
    coef, _ = dense_solution(Xs, ys, K, alpha)
    assert relative_error(model.coef_, coef) < 1e-2


@pytest.mark.parametrize("task_weights", ["uniform", "balanced", "array"])
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_shared_design_matches_reference(solver, task_weights, fit_intercept):
    rng = np.random.default_rng(2)
    n, T = 50, 4
    X = rng.normal(size=(n, D)) + 1.0
    Y = X @ rng.normal(size=(D, T)) + rng.normal(size=(n, T))
    K = mt.coupling.mean_regularized(T, mu=0.2)
    weights = task_weights_for(task_weights, rng, T)
    model = mt.KernelCoupledRegressor(
        coupling=K, alpha=0.1, task_weights=weights, fit_intercept=fit_intercept, solver=solver, tol=1e-10,
        max_iter=100000,
    ).fit(X, Y)
    coef, intercept = dense_solution([X] * T, list(Y.T), K, 0.1, weights, fit_intercept)
    assert relative_error(model.coef_, coef) < 1e-7
    np.testing.assert_allclose(model.intercept_, intercept, rtol=1e-7, atol=1e-9)
    assert model.objective_ == pytest.approx(objective([X] * T, list(Y.T), coef, intercept, K, 0.1, weights),
                                             rel=1e-9)
    assert model.predict(X).shape == (n, T)
    if solver == "auto":
        assert model.solver_ == "exact"


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("shape", ["wide_design_pd_coupling", "tall_design_psd_coupling"])
def test_shared_design_singular_gram_or_coupling(solver, shape):
    """Shared design whose Gram is singular (n < d) with a positive definite coupling,
    or a tall design with a singular coupling (rank T - 1): both systems are
    positive definite and must match the reference."""
    rng = np.random.default_rng(15)
    T, d = 5, 10
    n = 7 if shape.startswith("wide") else 30
    X = rng.normal(size=(n, d)) + 0.5
    Y = rng.normal(size=(n, T))
    K = random_coupling(rng, T, "pd" if shape.startswith("wide") else "psd")
    weights = rng.uniform(0.5, 2.0, T)
    model = mt.KernelCoupledRegressor(coupling=K, alpha=0.2, task_weights=weights, solver=solver, tol=1e-11,
                                      max_iter=100000).fit(X, Y)
    coef, intercept = dense_solution([X] * T, list(Y.T), K, 0.2, weights)
    assert relative_error(model.coef_, coef) < 1e-7
    np.testing.assert_allclose(model.intercept_, intercept, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("solver", SOLVERS)
def test_kkt_residual_is_the_documented_stopping_rule(solver):
    """kkt_residual_ = ||H vec(W) - c|| / ||c|| at the returned W (for the gradient
    solver, at the extrapolated point, so only its order of magnitude is checked)."""
    rng = np.random.default_rng(16)
    Xs, ys, K = random_problem(rng, SIZES, D, shift=1.0)
    tol = 1e-6
    model = mt.KernelCoupledRegressor(coupling=K, alpha=0.3, task_weights="balanced", solver=solver, tol=tol,
                                      max_iter=100000).fit(Xs, ys)
    residual = relative_kkt_residual(Xs, ys, model.coef_, K, 0.3, "balanced")
    assert model.kkt_residual_ <= tol
    if model.solver_ == "gradient":
        assert residual <= 10 * tol
    else:
        assert residual == pytest.approx(model.kkt_residual_, rel=1e-3, abs=1e-14)
        assert residual <= tol * (1 + 1e-6)


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
    H, c = kronecker_system(Xs, ys, K, alpha)
    W = rng.normal(size=model.coef_.shape)
    np.testing.assert_allclose(numerical_gradient(F, W), (H @ W.ravel() - c).reshape(W.shape), atol=1e-7)


@pytest.mark.parametrize("solver", SOLVERS)
def test_fitted_point_is_stationary_in_coef_and_intercept(solver):
    """The analytic gradient of F on the data (checked against central differences at a
    random point) vanishes at the fitted (coef_, intercept_), task weights included."""
    rng = np.random.default_rng(17)
    Xs, ys, K = random_problem(rng, [5, 12, 8], 4, shift=2.0)
    weights = np.array([0.5, 1.0, 3.0])
    alpha = 0.4

    def F(point):
        return objective(Xs, ys, point[:, :-1], point[:, -1], K, alpha, weights)

    point = rng.normal(size=(3, 5))
    grad_coef, grad_intercept = objective_gradient(Xs, ys, point[:, :-1], point[:, -1], K, alpha, weights)
    np.testing.assert_allclose(numerical_gradient(F, point), np.c_[grad_coef, grad_intercept], atol=1e-7)

    model = mt.KernelCoupledRegressor(coupling=K, alpha=alpha, task_weights=weights, solver=solver, tol=1e-12,
                                      max_iter=100000).fit(Xs, ys)
    grad_coef, grad_intercept = objective_gradient(Xs, ys, model.coef_, model.intercept_, K, alpha, weights)
    scale = np.abs(objective_gradient(Xs, ys, 0 * grad_coef, 0 * grad_intercept, K, alpha, weights)[0]).max()
    assert np.abs(grad_coef).max() < 1e-9 * scale
    assert np.abs(grad_intercept).max() < 1e-9 * scale
    fitted = np.c_[model.coef_, model.intercept_]
    assert np.abs(numerical_gradient(F, fitted)).max() < 1e-7


@pytest.mark.parametrize("solver", ITERATIVE)
def test_non_convergence_warns(solver):
    rng = np.random.default_rng(4)
    Xs, ys, K = random_problem(rng, SIZES, D)
    model = mt.KernelCoupledRegressor(coupling=K, solver=solver, tol=1e-14, max_iter=1)
    with pytest.warns(ConvergenceWarning, match="relative KKT residual"):
        model.fit(Xs, ys)
    assert model.n_iter_ == 1
    assert model.kkt_residual_ > 1e-14


@pytest.mark.parametrize("solver", ITERATIVE)
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


@pytest.mark.parametrize("solver", ITERATIVE)
def test_warm_start_from_the_optimum_reports_its_objective(solver):
    """A refit that starts at a point already meeting the tolerance still reports
    F at the returned coefficients (not NaN)."""
    rng = np.random.default_rng(18)
    Xs, ys, K = random_problem(rng, SIZES, D)
    model = mt.KernelCoupledRegressor(coupling=K, solver=solver, tol=1e-6, warm_start=True).fit(Xs, ys)
    model.fit(Xs, ys)
    expected = objective(Xs, ys, model.coef_, model.intercept_, K, model.alpha)
    assert model.objective_ == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("solver", SOLVERS)
def test_constant_targets(solver):
    """y_t constant: the centred right-hand side is zero, so W = 0, b_t = y_t and F = 0."""
    rng = np.random.default_rng(19)
    Xs, _, K = random_problem(rng, [10, 20, 3], 5)
    ys = [np.full(X.shape[0], value) for X, value in zip(Xs, [2.0, -1.0, 0.5])]
    model = mt.KernelCoupledRegressor(coupling=K, solver=solver).fit(Xs, ys)
    np.testing.assert_array_equal(model.coef_, 0.0)
    np.testing.assert_allclose(model.intercept_, [2.0, -1.0, 0.5], rtol=1e-14)
    assert model.objective_ == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("solver", SOLVERS)
def test_warm_start_then_constant_targets(solver):
    """A warm start must not survive a right-hand side of zero: the answer is still W = 0."""
    rng = np.random.default_rng(19)
    Xs, ys, K = random_problem(rng, [10, 20, 3], 5)
    model = mt.KernelCoupledRegressor(coupling=K, solver=solver, warm_start=True).fit(Xs, ys)
    assert np.abs(model.coef_).max() > 0.1
    model.fit(Xs, [np.full(X.shape[0], 3.0) for X in Xs])
    np.testing.assert_allclose(model.coef_, 0.0, atol=1e-12)
    np.testing.assert_allclose(model.intercept_, 3.0, rtol=1e-12)


@pytest.mark.parametrize("solver", SOLVERS)
def test_scaling_the_targets_scales_the_solution(solver):
    """The stopping rule is scale-free: y -> c y gives W -> c W with the same iterations."""
    rng = np.random.default_rng(22)
    Xs, ys, K = random_problem(rng, SIZES, D)
    fits = [mt.KernelCoupledRegressor(coupling=K, alpha=0.3, solver=solver, tol=1e-8).fit(Xs, [c * y for y in ys])
            for c in (1.0, 1e-6, 1e6)]
    for c, fit in zip((1e-6, 1e6), fits[1:]):
        assert fit.n_iter_ == fits[0].n_iter_
        np.testing.assert_allclose(fit.coef_ / c, fits[0].coef_, rtol=1e-10, atol=1e-12 * np.abs(fits[0].coef_).max())


@pytest.mark.parametrize("weights", ["uniform", "balanced"])
def test_conjugate_gradient_preconditioners_both_reach_the_reference(weights):
    """Block-Jacobi (weak coupling) and the Kronecker preconditioner (strong coupling,
    similar designs) are both exercised through the core and give the dense answer."""
    rng = np.random.default_rng(23)
    sizes = [40, 50, 60, 45]
    Xs, ys, _ = random_problem(rng, sizes, 6)
    n = np.asarray(sizes, dtype=float)
    s = np.full(4, 1.0 / n.sum()) if weights == "uniform" else 1.0 / (4 * n)
    seen = set()
    for K, alpha in [(np.eye(4) + 0.05 * random_coupling(rng, 4), 0.5), (np.full((4, 4), 0.9) + 0.1 * np.eye(4), 5.0)]:
        result = core.fit_least_squares_f64(X=Xs, y=ys, sample_weight=s, coupling=K, alpha=alpha, fit_intercept=True, shared_design=False, solver="cg", tol=1e-12, max_iter=1000, n_threads=1, warm_start=None)
        assert result["converged"]
        seen.add(result["preconditioner"])
        coef, intercept = dense_solution(Xs, ys, K, alpha, weights)
        assert relative_error(result["coef"], coef) < 1e-9
        np.testing.assert_allclose(result["intercept"], intercept, rtol=1e-9, atol=1e-12)
    assert seen == {"block_jacobi", "kronecker"}


@pytest.mark.parametrize("solver", SOLVERS)
def test_thread_count_does_not_change_result(solver):
    rng = np.random.default_rng(6)
    Xs, ys, K = random_problem(rng, SIZES * 3, D)
    fits = [mt.KernelCoupledRegressor(coupling=K, solver=solver, tol=1e-10, n_jobs=n_jobs).fit(Xs, ys)
            for n_jobs in (1, 2)]
    np.testing.assert_allclose(fits[0].coef_, fits[1].coef_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fits[0].intercept_, fits[1].intercept_, rtol=0, atol=1e-12)


@pytest.mark.parametrize("solver", SOLVERS)
def test_thread_count_does_not_change_result_when_loops_run_in_parallel(solver):
    """Large enough (T d^2 >= 2e5 flops per pass) that the core really uses both
    threads; a quarter of the tasks are wide (n_t < d / 2: the Woodbury side)."""
    rng = np.random.default_rng(13)
    Xs, ys, K = random_problem(rng, [120, 30, 180, 20] * 6, 100)
    fits = [mt.KernelCoupledRegressor(coupling=K, solver=solver, tol=1e-10, max_iter=5000, n_jobs=n_jobs)
            .fit(Xs, ys) for n_jobs in (1, 2)]
    np.testing.assert_allclose(fits[0].coef_, fits[1].coef_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fits[0].intercept_, fits[1].intercept_, rtol=0, atol=1e-12)
    coef, _ = dense_solution(Xs, ys, K, 1.0)
    assert relative_error(fits[0].coef_, coef) < 1e-7


def test_shared_design_thread_count_does_not_change_result():
    rng = np.random.default_rng(7)
    X, Y = rng.normal(size=(3000, 20)), rng.normal(size=(3000, 6))
    fits = [mt.KernelCoupledRegressor(n_jobs=n_jobs).fit(X, Y) for n_jobs in (1, 2)]
    np.testing.assert_allclose(fits[0].coef_, fits[1].coef_, rtol=0, atol=1e-12)
    coef, _ = dense_solution([X] * 6, list(Y.T), mt.coupling.mean_regularized(6), 1.0)
    assert relative_error(fits[0].coef_, coef) < 1e-7


@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("solver", ["exact", "cg", "gradient"])
def test_two_fits_in_python_threads_at_once(solver, n_jobs):
    rng = np.random.default_rng(8)
    problems = [random_problem(rng, [300, 200, 400], 30) for _ in range(2)]
    expected = [mt.KernelCoupledRegressor(coupling=K, solver=solver, n_jobs=1).fit(Xs, ys).coef_
                for Xs, ys, K in problems]
    results = [None, None]
    barrier = threading.Barrier(2)

    def fit(i):
        Xs, ys, K = problems[i]
        barrier.wait()
        results[i] = mt.KernelCoupledRegressor(coupling=K, solver=solver, n_jobs=n_jobs).fit(Xs, ys).coef_

    threads = [threading.Thread(target=fit, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for got, want in zip(results, expected):
        assert got is not None
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_pickle_round_trip():
    rng = np.random.default_rng(9)
    Xs, ys, K = random_problem(rng, SIZES, D)
    model = mt.KernelCoupledRegressor(coupling=K).fit(Xs, ys)
    clone = pickle.loads(pickle.dumps(model))
    for a, b in zip(model.predict(Xs), clone.predict(Xs)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(clone.coef_, model.coef_)
    assert clone.get_params()["alpha"] == model.alpha


def test_load_core_levels():
    levels = available_isa_levels()
    assert levels, "no compiled core importable"
    assert load_core() is core  # the best level (or MULTITASK_ISA), as at import
    for level in levels:
        assert hasattr(load_core(level), "fit_least_squares_f64")
    with pytest.raises(ValueError, match="MULTITASK_ISA must be one of"):
        load_core("pentium-mmx")


def test_every_built_instruction_set_level_agrees():
    levels = available_isa_levels()
    if len(levels) < 2:
        pytest.skip(f"only {levels} is built and runnable here")
    rng = np.random.default_rng(10)
    Xs, ys, K = random_problem(rng, SIZES, D)
    s = np.full(len(SIZES), 1.0 / sum(SIZES))
    coef, _ = dense_solution(Xs, ys, K, 0.3)
    for solver in ["exact", "cg", "task_bcd", "gradient"]:
        results = [
            load_core(level).fit_least_squares_f64(X=Xs, y=ys, sample_weight=s, coupling=K, alpha=0.3,
                                                   fit_intercept=True, shared_design=False, solver=solver, tol=1e-12,
                                                   max_iter=100000, n_threads=1, warm_start=None)
            for level in levels
        ]
        for result in results:
            assert relative_error(result["coef"], coef) < 1e-9
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
    assert issubclass(mt.NumericalError, np.linalg.LinAlgError)


@pytest.mark.parametrize("solver", ["cg", "task_bcd"])
def test_singular_system_iterative_solvers_raise_numerical_error(solver):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(20, 3))
    X = np.c_[X, X[:, 0]]
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        mt.KernelCoupledRegressor(coupling="identity", alpha=0.0, solver=solver).fit([X, X], [X[:, 0], X[:, 1]])


@pytest.mark.parametrize("solver", ["cg", "task_bcd"])
def test_objective_history_decreases_for_descent_solvers(solver):
    rng = np.random.default_rng(12)
    Xs, ys, K = random_problem(rng, SIZES, D)
    model = mt.KernelCoupledRegressor(coupling=K, solver=solver, tol=1e-10).fit(Xs, ys)
    history = model.objective_history_
    assert history.size == model.n_iter_
    assert np.all(np.diff(history) <= 1e-12 * np.abs(history).max())
    assert history[-1] == pytest.approx(objective(Xs, ys, model.coef_, model.intercept_, K, 1.0), rel=1e-10)
