"""The trace-norm solver on Gram statistics ("gram_gradient") against independent references.

The objective (coef (T, d) holds w_t in row t; W = coef^T (d, T)):

    F(W, b) = sum_t s_t/2 ||y_t - X_t w_t - b_t||^2 + alpha/2 tr(W K W^T) + rho ||W||_*,

s_t = omega_t / N. References, none of which runs the package's solvers:

* cvxpy (CLARABEL, a conic interior-point method) on the data;
* the optimality condition written in numpy from the definition: with G the
  gradient of the smooth part in W (intercepts at their optimum) and
  W = U_r S V_r^T, -G = rho (U_r V_r^T + P) with U_r^T P = 0, P V_r = 0 and
  ||P||_2 <= 1, from complete orthonormal bases (np.linalg.svd with
  full_matrices=True), not the projections the core uses;
* the data solver ("gradient", a different algorithm on other variables: W and
  the intercepts on the data) run to a tight tolerance.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

import multitask as mt
import reference as ref

cp = pytest.importorskip("cvxpy")


def _per_task_problem(seed=0):
    """Five tasks of unequal sizes (one wide: 2 samples for 6 features), a low-rank truth, a random coupling."""
    rng = np.random.default_rng(seed)
    n_per_task, d = (2, 25, 14, 31, 19), 6
    truth = rng.normal(size=(d, 2)) @ rng.normal(size=(2, len(n_per_task)))
    Xs = [rng.normal(size=(n, d)) + 0.4 for n in n_per_task]
    ys = [X @ truth[:, t] + rng.normal(size=n) + 1.0 for t, (X, n) in enumerate(zip(Xs, n_per_task))]
    return Xs, ys, ref.random_coupling(rng, len(Xs), "pd")


def _shared_problem(seed=0):
    """One design for four tasks, with the singular chain coupling (a path graph's Laplacian)."""
    rng = np.random.default_rng(seed)
    n, d, T = 40, 5, 4
    X = rng.normal(size=(n, d)) - 0.3
    Y = X @ (rng.normal(size=(d, 1)) @ rng.normal(size=(1, T))) + 0.5 * rng.normal(size=(n, T)) + 2.0
    return X, Y, mt.coupling.chain(T)


def _as_lists(X, Y):
    """The shared design as per-task copies (separate buffers: the core sees T designs)."""
    return [np.array(X) for _ in range(Y.shape[1])], [np.array(Y[:, t]) for t in range(Y.shape[1])]


def _weights(Xs, task_weights="uniform"):
    n = [X.shape[0] for X in Xs]
    return ref.omega(task_weights, n) / sum(n)


def _cvxpy_fit(Xs, ys, s, K, alpha, rho, fit_intercept):
    """argmin F by CLARABEL: (coef (T, d), intercept (T,), F at the optimum)."""
    T, d = len(Xs), Xs[0].shape[1]
    W = cp.Variable((d, T))
    b = cp.Variable(T) if fit_intercept else np.zeros(T)
    eigenvalues, Q = np.linalg.eigh(K)
    root = Q * np.sqrt(np.clip(eigenvalues, 0, None))  # K = root root^T
    data = sum(s[t] / 2 * cp.sum_squares(ys[t] - Xs[t] @ W[:, t] - b[t]) for t in range(T))
    problem = cp.Problem(cp.Minimize(data + alpha / 2 * cp.sum_squares(W @ root) + rho * cp.normNuc(W)))
    problem.solve(solver="CLARABEL", tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10, max_iter=500)
    assert problem.status == "optimal"
    return W.value.T, (b.value if fit_intercept else b), problem.value


def _objective(Xs, ys, s, K, alpha, rho, coef, intercept):
    smooth = sum(s[t] / 2 * np.sum((ys[t] - Xs[t] @ coef[t] - intercept[t]) ** 2) for t in range(len(Xs)))
    return smooth + alpha / 2 * np.trace(coef.T @ K @ coef) + rho * np.linalg.svd(coef, compute_uv=False).sum()


def _smooth_gradient(Xs, ys, s, K, alpha, coef, fit_intercept):
    """The gradient of the smooth part in W (d, T), the intercepts at their optimum for W."""
    G = alpha * coef.T @ K
    for t, (X, y) in enumerate(zip(Xs, ys)):
        residual = X @ coef[t] - y
        if fit_intercept:
            residual -= residual.mean()
        G[:, t] += s[t] * X.T @ residual
    return G


def _optimality_blocks(G, coef, rho, rank_tol=1e-9):
    """The blocks of E = -G in complete bases of W's row and column spaces and their complements.

    Returns (rank, ||U_r^T E V_r - rho I||, ||mixed blocks||, ||complement||_2): at the
    optimum the first two are 0 and the last at most rho.
    """
    W = coef.T
    U, sigma, Vt = np.linalg.svd(W, full_matrices=True)
    r = int(np.sum(sigma > rank_tol * max(sigma.max(), 1e-300)))
    E = U.T @ (-G) @ Vt.T  # E in the bases (U, V): blocks [:r, :r], [:r, r:], [r:, :r], [r:, r:]
    top = np.linalg.norm(E[:r, :r] - rho * np.eye(r))
    mixed = np.hypot(np.linalg.norm(E[:r, r:]), np.linalg.norm(E[r:, :r]))
    complement = np.linalg.norm(E[r:, r:], 2) if min(E[r:, r:].shape) else 0.0
    return r, top, mixed, complement


def _kkt_distance(G, coef, rho, rank_tol=1e-9):
    """dist(-G, rho d||W||_*) in the Frobenius norm, from the blocks above."""
    W = coef.T
    U, sigma, Vt = np.linalg.svd(W, full_matrices=True)
    r = int(np.sum(sigma > rank_tol * max(sigma.max(), 1e-300)))
    E = U.T @ (-G) @ Vt.T
    squared = np.sum((E[:r, :r] - rho * np.eye(r)) ** 2) + np.sum(E[:r, r:] ** 2) + np.sum(E[r:, :r] ** 2)
    if min(E[r:, r:].shape):
        squared += np.sum(np.clip(np.linalg.svd(E[r:, r:], compute_uv=False) - rho, 0, None) ** 2)
    return np.sqrt(squared)


def _fit(Xs, ys, **params):
    return mt.KernelCoupledRegressor(**{"tol": 1e-12, "max_iter": 100000, **params}).fit(Xs, ys)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("design", ["per_task", "shared"])
def test_matches_cvxpy(design, fit_intercept):
    if design == "per_task":
        Xs, ys, K = _per_task_problem()
        data = (Xs, ys)
    else:
        X, Y, K = _shared_problem()
        Xs, ys = _as_lists(X, Y)
        data = (X, Y)
    alpha, rho = 0.05, 0.2
    s = _weights(Xs)
    coef_ref, intercept_ref, value_ref = _cvxpy_fit(Xs, ys, s, K, alpha, rho, fit_intercept)
    rank = np.sum(np.linalg.svd(coef_ref, compute_uv=False) > 1e-6)
    assert 0 < rank < min(coef_ref.shape)  # the trace norm is active, and not only at zero
    model = _fit(*data, coupling=K, alpha=alpha, trace_norm=rho, fit_intercept=fit_intercept)
    assert model.solver_ == "gram_gradient"
    # The conic solver's own accuracy on the trace norm (an SDP cone) is about 1e-6 in W; the
    # objective comparison below is the sharper check.
    np.testing.assert_allclose(model.coef_, coef_ref, rtol=0, atol=1e-5)
    np.testing.assert_allclose(model.intercept_, intercept_ref, rtol=0, atol=1e-5)
    value = _objective(Xs, ys, s, K, alpha, rho, model.coef_, model.intercept_)
    assert model.objective_ == pytest.approx(value, rel=1e-12)
    assert value <= value_ref + 1e-10 * abs(value_ref)  # never above the conic solver's optimum


@pytest.mark.parametrize("task_weights", ["uniform", "balanced"])
@pytest.mark.parametrize("design", ["per_task", "shared"])
def test_optimality_condition_at_the_solution(design, task_weights):
    """G = -rho U_r V_r^T - rho P, P on the complement with ||P||_2 <= 1; kkt_residual_ is that distance."""
    if design == "per_task":
        Xs, ys, K = _per_task_problem(1)
        data = (Xs, ys)
    else:
        X, Y, K = _shared_problem(1)
        Xs, ys = _as_lists(X, Y)
        data = (X, Y)
    alpha, rho = 0.02, 0.15
    model = _fit(*data, coupling=K, alpha=alpha, trace_norm=rho, task_weights=task_weights)
    s = _weights(Xs, task_weights)
    G = _smooth_gradient(Xs, ys, s, K, alpha, model.coef_, True)
    r, top, mixed, complement = _optimality_blocks(G, model.coef_, rho)
    assert 0 < r < min(model.coef_.shape)
    scale = np.linalg.norm(_smooth_gradient(Xs, ys, s, K, alpha, np.zeros_like(model.coef_), True))
    assert top <= 1e-10 * scale and mixed <= 1e-10 * scale
    assert complement <= rho * (1 + 1e-10)
    assert complement >= 0.1 * rho  # the complement is not trivially zero: the check has teeth
    assert model.kkt_residual_ <= 1e-12
    assert model.kkt_residual_ == pytest.approx(_kkt_distance(G, model.coef_, rho) / scale, rel=1e-3, abs=1e-15)


@pytest.mark.parametrize("tol", [1e-3, 1e-6])
def test_stopping_rule_bounds_the_kkt_residual_at_the_returned_point(tol):
    """With a loose tol the returned model's exact KKT residual (numpy) is at most tol, and is kkt_residual_."""
    Xs, ys, K = _per_task_problem(2)
    alpha, rho = 0.01, 0.1
    model = mt.KernelCoupledRegressor(coupling=K, alpha=alpha, trace_norm=rho, tol=tol).fit(Xs, ys)
    s = _weights(Xs)
    G = _smooth_gradient(Xs, ys, s, K, alpha, model.coef_, True)
    scale = np.linalg.norm(_smooth_gradient(Xs, ys, s, K, alpha, np.zeros_like(model.coef_), True))
    exact = _kkt_distance(G, model.coef_, rho) / scale
    assert exact <= tol
    assert model.kkt_residual_ == pytest.approx(exact, rel=1e-6, abs=1e-14)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_same_answer_as_the_data_solver(fit_intercept):
    Xs, ys, K = _per_task_problem(3)
    params = dict(coupling=K, alpha=0.03, trace_norm=0.12, fit_intercept=fit_intercept)
    gram = _fit(Xs, ys, **params)
    data = _fit(Xs, ys, solver="gradient", **{**params, "tol": 1e-13, "max_iter": 1000000})
    assert gram.solver_ == "gram_gradient" and data.solver_ == "gradient"
    np.testing.assert_allclose(gram.coef_, data.coef_, rtol=0, atol=1e-9)
    np.testing.assert_allclose(gram.intercept_, data.intercept_, rtol=0, atol=1e-9)
    assert gram.objective_ <= data.objective_ + 1e-13 * abs(data.objective_)


def test_shared_design_is_the_per_task_fit_of_copies():
    """The shared design (one Gram) and the same data as separate per-task designs (T Grams) agree."""
    X, Y, K = _shared_problem(4)
    params = dict(coupling=K, alpha=0.1, trace_norm=0.1)
    shared = _fit(X, Y, **params)
    lists = _fit(*_as_lists(X, Y), **params)
    np.testing.assert_allclose(shared.coef_, lists.coef_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(shared.intercept_, lists.intercept_, rtol=0, atol=1e-10)


def test_warm_start():
    """A warm start from another rho reaches the cold fit's answer; from the solution itself it stops at once."""
    Xs, ys, K = _per_task_problem(5)
    params = dict(coupling=K, alpha=0.05)
    cold = _fit(Xs, ys, trace_norm=0.05, **params)
    warm = _fit(Xs, ys, trace_norm=0.2, warm_start=True, **params)
    warm.set_params(trace_norm=0.05).fit(Xs, ys)
    np.testing.assert_allclose(warm.coef_, cold.coef_, rtol=0, atol=1e-9)
    np.testing.assert_allclose(warm.intercept_, cold.intercept_, rtol=0, atol=1e-9)
    again = warm.fit(Xs, ys)
    assert again.n_iter_ <= 2
    np.testing.assert_allclose(again.coef_, cold.coef_, rtol=0, atol=1e-9)


def test_regularization_path_points_are_the_cold_fits():
    Xs, ys, K = _per_task_problem(6)
    estimator = mt.KernelCoupledRegressor(coupling=K, alpha=0.02, tol=1e-12, max_iter=100000)
    path = mt.regularization_path(estimator, Xs, ys, penalty="trace_norm", n_values=6, min_ratio=1e-2)
    for value, coef in zip(path.penalty_values, path.coef):
        cold = _fit(Xs, ys, coupling=K, alpha=0.02, trace_norm=value)
        np.testing.assert_allclose(coef, cold.coef_, rtol=0, atol=1e-9)


def test_zero_at_and_above_penalty_max():
    Xs, ys, K = _per_task_problem(7)
    estimator = mt.KernelCoupledRegressor(coupling=K, alpha=0.1)
    rho_max = mt.penalty_max(estimator, Xs, ys, penalty="trace_norm")
    model = _fit(Xs, ys, coupling=K, alpha=0.1, trace_norm=rho_max * (1 + 1e-9))
    assert np.all(model.coef_ == 0) and model.kkt_residual_ <= 1e-12
    np.testing.assert_allclose(model.intercept_, [y.mean() for y in ys], rtol=1e-12)
    below = _fit(Xs, ys, coupling=K, alpha=0.1, trace_norm=0.9 * rho_max)
    assert np.linalg.matrix_rank(below.coef_) == 1


def test_max_iter_reached_warns_and_reports_the_exact_residual():
    Xs, ys, K = _per_task_problem(8)
    with pytest.warns(ConvergenceWarning):
        model = mt.KernelCoupledRegressor(coupling=K, alpha=1e-3, trace_norm=0.01, max_iter=3).fit(Xs, ys)
    assert model.n_iter_ == 3 and model.objective_history_.shape == (3,)
    s = _weights(Xs)
    G = _smooth_gradient(Xs, ys, s, K, 1e-3, model.coef_, True)
    scale = np.linalg.norm(_smooth_gradient(Xs, ys, s, K, 1e-3, np.zeros_like(model.coef_), True))
    assert model.kkt_residual_ == pytest.approx(_kkt_distance(G, model.coef_, 0.01) / scale, rel=1e-6)
    assert model.kkt_residual_ > 1e-8


def test_other_losses_and_sparse_x_keep_the_data_solver():
    Xs, ys, K = _per_task_problem(9)
    huber = _fit(Xs, ys, coupling=K, alpha=0.05, trace_norm=0.1, loss="huber", epsilon=0.5)
    assert huber.solver_ == "gradient"
    sparse = _fit([sp.csr_array(X) for X in Xs], ys, coupling=K, alpha=0.05, trace_norm=0.1)
    dense = _fit(Xs, ys, coupling=K, alpha=0.05, trace_norm=0.1)
    assert sparse.solver_ == "gradient" and dense.solver_ == "gram_gradient"
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=0, atol=1e-8)


@pytest.mark.parametrize("params,sparse_x", [
    (dict(trace_norm=0.1, loss="huber"), False),
    (dict(trace_norm=0.1), True),
    (dict(l21=0.1), False),
    (dict(), False),
])
def test_gram_gradient_elsewhere_is_an_error(params, sparse_x):
    Xs, ys, _ = _per_task_problem(10)
    if sparse_x:
        Xs = [sp.csr_array(X) for X in Xs]
    with pytest.raises(ValueError, match="gram_gradient"):
        mt.KernelCoupledRegressor(solver="gram_gradient", **params).fit(Xs, ys)


def test_school_cv_scenario_raises_no_convergence_warning():
    """bench/cv_convergence_school.py's first split (5-fold search over 10 values at the defaults): no warning."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    try:
        from bench.cv_convergence_school import run_split
    finally:
        sys.path.pop(0)
    row = run_split("trace_norm", seed=0, n_values=10)  # counts the ConvergenceWarnings of the search
    assert row["warnings"] == 0
    assert row["test_r2"] > 0.1  # the search picked a sensible model


def test_overflow_raises_numerical_error():
    """Gram statistics that overflow (X of magnitude 1e150) are an error naming the solver, not NaN coefficients."""
    Xs, ys, _ = _per_task_problem(11)
    model = mt.KernelCoupledRegressor(trace_norm=1.0)
    with pytest.raises(mt.NumericalError, match=r"solver 'gram_gradient'.*inf or NaN"):
        model.fit([X * 1e150 for X in Xs], ys)
    assert not hasattr(model, "coef_")


def test_threads_and_float32_give_the_same_model():
    """Products parallel over tasks (n_jobs=2) change round-off only; float32 data run in float64 and come back float32."""
    Xs, ys, K = _per_task_problem(12)
    params = dict(coupling=K, alpha=0.05, trace_norm=0.1)
    one = _fit(Xs, ys, n_jobs=1, **params)
    two = _fit(Xs, ys, n_jobs=2, **params)
    np.testing.assert_allclose(two.coef_, one.coef_, rtol=0, atol=1e-11)
    single = mt.KernelCoupledRegressor(**params).fit([X.astype(np.float32) for X in Xs],
                                                       [y.astype(np.float32) for y in ys])
    assert single.coef_.dtype == np.float32 and single.solver_ == "gram_gradient"
    assert single.kkt_residual_ <= 1e-5  # float32's tol floor (FLOAT32_TOL_FLOOR)
    np.testing.assert_allclose(single.coef_, one.coef_, rtol=0, atol=1e-3)
