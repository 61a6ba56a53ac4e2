"""The feature solver ("feature_bcd") on ill-conditioned problems: it converges at the defaults, exactly.

Problem (README, "Structured sharing"): with s_t = omega_t / N,

    F(W, b) = sum_t s_t/2 ||y_t - X_t w_t - b_t||^2 + alpha/2 tr(W K W^T)
              + rho_1 sum |W| + rho_21 sum_j ||W_j.||_2.

School with a small coupling alpha is ill-conditioned: inside every school some
columns are constant or collinear (school-level indicators, one-hot groups), so
every task's centred Gram is singular and only alpha and the penalty fix the
solution along those directions; schools have 22 to 250 pupils, so the tasks'
curvatures differ by an order of magnitude. Before the per-task steps and the
Newton step on the support, such fits stopped at max_iter=1000 with a
ConvergenceWarning. The references here are independent of the package's
solvers: the optimality conditions and a duality gap computed in numpy from the
definitions, and cvxpy (skipped without it) on small problems.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import multitask as mt
from multitask._core import core

# --- numpy references -------------------------------------------------------------------------


def soft_threshold(v, c):
    return np.sign(v) * np.maximum(np.abs(v) - c, 0.0)


def smooth_gradient(Xs, ys, s, K, alpha, coef):
    """Residuals r_t (intercepts profiled out: centred data) and the gradient (T, d) of the smooth part."""
    residuals, gradient = [], alpha * K @ coef
    for t, (X, y) in enumerate(zip(Xs, ys)):
        Xc, yc = X - X.mean(axis=0), y - y.mean()
        r = yc - Xc @ coef[t]
        residuals.append(r)
        gradient[t] -= s[t] * Xc.T @ r
    return residuals, gradient


def primal(Xs, ys, s, K, alpha, l1, l21, coef):
    residuals, _ = smooth_gradient(Xs, ys, s, K, alpha, coef)
    data = sum(s[t] / 2 * r @ r for t, r in enumerate(residuals))
    return data + alpha / 2 * np.sum(coef * (K @ coef)) + l1 * np.abs(coef).sum() + l21 * np.linalg.norm(coef, axis=0).sum()


def kkt_violation(G, W, l1, l21):
    """max_j dist(-G_j, d Omega(W_j)) over the features (columns of the (T, d) arrays)."""
    worst = 0.0
    for g, w in zip(G.T, W.T):
        norm = np.linalg.norm(w)
        if norm == 0:
            worst = max(worst, np.linalg.norm(soft_threshold(g, l1)) - l21)
            continue
        e = g + l21 * w / norm + l1 * np.sign(w)
        e[w == 0] = soft_threshold(g[w == 0], l1)
        worst = max(worst, np.linalg.norm(e))
    return worst


def dual_norm(v, l1, l21):
    """min {c >= 0 : ||S_{c l1}(v)|| <= c l21} by bisection (the definition of the dual norm)."""
    if l21 == 0:
        return np.abs(v).max() / l1
    low, high = 0.0, np.linalg.norm(v) / l21
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if np.linalg.norm(soft_threshold(v, middle * l1)) > middle * l21 else (low, middle)
    return high


def duality_gap(Xs, ys, s, K, alpha, l1, l21, coef):
    """P(W) - D(theta) for the Fenchel dual with the dual point scaled from the residuals.

    Dual of min_W sum_t phi_t(X~_t w_t) + alpha/2 tr(W K W^T) + Omega(W) with
    phi_t(z) = s_t/2 ||y~_t - z||^2: for u_t = s_t r_t / c and V = -alpha W K / c with
    c >= 1 making -G / c dual feasible, D = sum_t <u_t, y~_t> - ||u_t||^2 / (2 s_t)
    - alpha tr(W K W^T) / (2 c^2).
    """
    residuals, G = smooth_gradient(Xs, ys, s, K, alpha, coef)
    c = max(1.0, max(dual_norm(-G[:, j], l1, l21) for j in range(G.shape[1])))
    dual = sum(s[t] * (r @ (y - y.mean())) / c - s[t] * (r @ r) / (2 * c * c) for t, (r, y) in enumerate(zip(residuals, ys)))
    dual -= alpha * np.sum(coef * (K @ coef)) / (2 * c * c)
    return primal(Xs, ys, s, K, alpha, l1, l21, coef) - dual


def initial_primal(ys, s):
    return sum(s[t] / 2 * np.sum((y - y.mean()) ** 2) for t, y in enumerate(ys))


# --- data -------------------------------------------------------------------------------------


def school_subset(first, n_tasks):
    """n_tasks schools, the constant column 27 dropped, standardised on the pooled rows."""
    Xs, ys = mt.datasets.load_school()
    Xs, ys = [X[:, :27] for X in Xs[first:first + n_tasks]], ys[first:first + n_tasks]
    scaler = StandardScaler().fit(np.vstack(Xs))
    return [scaler.transform(X) for X in Xs], ys


def fit_without_warning(Xs, ys, **params):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model = mt.KernelCoupledRegressor(**params).fit(Xs, ys)
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)], params
    return model


# --- 1. the prox in a diagonal metric -----------------------------------------------------------


@pytest.mark.parametrize("l1,l21", [(0.0, 0.7), (0.3, 0.7), (0.3, 0.0), (0.05, 3.0)])
def test_scaled_prox_satisfies_its_optimality_conditions(l1, l21):
    """v = argmin sum_t (v_t - z_t)^2 / (2 h_t) + l1 |v|_1 + l21 ||v||: per entry, 0 in the subdifferential."""
    rng = np.random.default_rng(0)
    n_zero = 0
    for _ in range(200):
        T = int(rng.integers(1, 9))
        z, h = rng.normal(size=T) * rng.uniform(0.1, 3), rng.uniform(0.01, 2.0, size=T) ** 2
        v = core.penalty_prox_row_scaled(z, h, l1=l1, l21=l21)
        norm = np.linalg.norm(v)
        if norm == 0:  # 0 optimal: ||S_l1(z / h)|| <= l21
            n_zero += 1
            assert np.linalg.norm(soft_threshold(z / h, l1)) <= l21 * (1 + 1e-12) + 1e-15
            continue
        e = (v - z) / h + (l21 * v / norm if l21 else 0.0)
        nonzero = v != 0
        np.testing.assert_allclose(e[nonzero] + l1 * np.sign(v[nonzero]), 0.0, atol=1e-10 * (1 + np.abs(z / h).max()))
        assert np.all(np.abs(e[~nonzero]) <= l1 * (1 + 1e-12) + 1e-12)
    assert 0 < n_zero < 200


def test_scaled_prox_with_equal_steps_is_the_closed_form():
    rng = np.random.default_rng(1)
    for _ in range(50):
        T, tau = int(rng.integers(1, 7)), float(rng.uniform(0.1, 2))
        z = rng.normal(size=T)
        v = core.penalty_prox_row_scaled(z, np.full(T, tau), l1=0.2, l21=0.5)
        w = soft_threshold(z, tau * 0.2)
        w *= max(0.0, 1 - tau * 0.5 / np.linalg.norm(w)) if np.linalg.norm(w) else 0.0
        np.testing.assert_allclose(v, w, rtol=0, atol=1e-14)


def test_scaled_prox_zero_step_pins_the_entry():
    v = core.penalty_prox_row_scaled(np.array([1.0, 5.0, -2.0]), np.array([1.0, 0.0, 1.0]), l1=0.0, l21=0.1)
    assert v[1] == 0.0 and v[0] > 0 and v[2] < 0


def test_scaled_prox_agrees_with_cvxpy():
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(2)
    for _ in range(5):
        z, h = rng.normal(size=6), rng.uniform(0.05, 3.0, size=6)
        v = cp.Variable(6)
        problem = cp.Problem(cp.Minimize(cp.sum(cp.multiply(1 / (2 * h), cp.square(v - z))) + 0.1 * cp.norm1(v)
                                         + 0.4 * cp.norm(v, 2)))
        with warnings.catch_warnings():  # it may not certify the tight tolerances; the values judge
            warnings.filterwarnings("ignore", message="Solution may be inaccurate")
            problem.solve(solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
        ours = core.penalty_prox_row_scaled(z, h, l1=0.1, l21=0.4)
        value = lambda u: np.sum((u - z) ** 2 / (2 * h)) + 0.1 * np.abs(u).sum() + 0.4 * np.linalg.norm(u)  # noqa: E731
        assert value(ours) <= value(v.value) + 1e-12
        np.testing.assert_allclose(ours, v.value, atol=1e-5)


def test_scaled_prox_rejects_negative_steps():
    with pytest.raises(ValueError, match="step"):
        core.penalty_prox_row_scaled(np.ones(2), np.array([1.0, -1.0]), l1=0.0, l21=1.0)


# --- 2. School with a small coupling: converged at the defaults, and optimal ---------------------


@pytest.mark.parametrize("alpha", [1e-6, 1e-8])
@pytest.mark.parametrize("penalty_name,ratio,others", [
    ("l21", 1e-2, {}),
    ("l21", 1e-3, {}),
    ("l1", 1e-2, {}),
    ("l21", 3e-3, {"l1": 1e-4}),
])
def test_school_with_a_small_coupling_converges_at_the_defaults(alpha, penalty_name, ratio, others):
    """20 schools (singular per-school Grams, 25-95 pupils each): no ConvergenceWarning at tol=1e-8,
    max_iter=1000 (before: max_iter reached on every one of these), and the numpy duality gap and
    optimality conditions at the returned model."""
    Xs, ys = school_subset(0, 20)
    T = len(Xs)
    params = {"alpha": alpha, **others}
    value = ratio * mt.penalty_max(mt.KernelCoupledRegressor(**params), Xs, ys, penalty=penalty_name)
    model = fit_without_warning(Xs, ys, **params, **{penalty_name: value})
    l1, l21 = model.l1, model.l21
    s = np.ones(T) / sum(len(y) for y in ys)
    K = mt.coupling.mean_regularized(T)
    P0 = initial_primal(ys, s)
    gap = duality_gap(Xs, ys, s, K, alpha, l1, l21, model.coef_)
    assert 0 <= gap <= 1e-8 * P0 * (1 + 1e-6)
    assert model.objective_ == pytest.approx(primal(Xs, ys, s, K, alpha, l1, l21, model.coef_), rel=1e-12)
    _, G = smooth_gradient(Xs, ys, s, K, alpha, model.coef_)
    _, G0 = smooth_gradient(Xs, ys, s, K, alpha, np.zeros_like(model.coef_))
    assert kkt_violation(G, model.coef_, l1, l21) <= 1e-5 * np.linalg.norm(G0)


def test_school_with_a_small_coupling_matches_cvxpy():
    """8 schools, alpha = 1e-6: cvxpy's optimum; ours is at least as low (to round-off) and the
    coefficients agree as far as cvxpy's accuracy allows."""
    cp = pytest.importorskip("cvxpy")
    Xs, ys = school_subset(40, 8)
    T, d = len(Xs), Xs[0].shape[1]
    alpha = 1e-6
    K = mt.coupling.mean_regularized(T)
    l21 = 3e-3 * mt.penalty_max(mt.KernelCoupledRegressor(alpha=alpha), Xs, ys, penalty="l21")
    s = np.ones(T) / sum(len(y) for y in ys)
    model = fit_without_warning(Xs, ys, alpha=alpha, l21=l21)
    W, b = cp.Variable((T, d)), cp.Variable(T)
    expr = sum(s[t] / 2 * cp.sum_squares(ys[t] - Xs[t] @ W[t] - b[t]) for t in range(T))
    expr += alpha / 2 * cp.sum_squares(np.linalg.cholesky(K).T @ W) + l21 * cp.sum(cp.norm(W, 2, axis=0))
    problem = cp.Problem(cp.Minimize(expr))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Solution may be inaccurate")
        problem.solve(solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    ours = primal(Xs, ys, s, K, alpha, 0.0, l21, model.coef_)
    theirs = primal(Xs, ys, s, K, alpha, 0.0, l21, W.value)
    assert ours <= theirs + 1e-10 * abs(theirs)
    assert ours == pytest.approx(theirs, rel=1e-8)
    np.testing.assert_allclose(model.coef_, W.value, rtol=0, atol=1e-3 * np.abs(W.value).max())


@pytest.mark.parametrize("coupling", ["diagonal", "dense"])
def test_unequal_tasks_with_other_couplings_match_cvxpy(coupling):
    """Per-task steps and the coupling's row change for a diagonal K and a dense K (no structure),
    l1 + l21, tasks of 6 to 60 samples with 10 features: cvxpy's optimum."""
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(5)
    T, d = 6, 10
    Xs = [rng.normal(size=(n, d)) @ (np.eye(d) + 0.5 * rng.normal(size=(d, d))) for n in (6, 9, 15, 30, 45, 60)]
    w = np.zeros(d)
    w[:3] = [1.0, -2.0, 0.5]
    ys = [X @ (w + 0.2 * rng.normal(size=d)) + rng.normal(size=len(X)) for X in Xs]
    K = np.diag(rng.uniform(0.5, 2.0, size=T)) if coupling == "diagonal" else np.cov(rng.normal(size=(T, 3 * T))) + 0.1 * np.eye(T)
    alpha, l1, l21 = 1e-3, 2e-3, 2e-2
    s = np.ones(T) / sum(len(y) for y in ys)
    model = fit_without_warning(Xs, ys, coupling=K, alpha=alpha, l1=l1, l21=l21)
    W, b = cp.Variable((T, d)), cp.Variable(T)
    expr = sum(s[t] / 2 * cp.sum_squares(ys[t] - Xs[t] @ W[t] - b[t]) for t in range(T))
    expr += alpha / 2 * cp.sum_squares(np.linalg.cholesky(K).T @ W)
    expr += l1 * cp.sum(cp.abs(W)) + l21 * cp.sum(cp.norm(W, 2, axis=0))
    problem = cp.Problem(cp.Minimize(expr))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Solution may be inaccurate")
        problem.solve(solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    np.testing.assert_allclose(model.coef_, W.value, rtol=0, atol=1e-6)
    ours = primal(Xs, ys, s, K, alpha, l1, l21, model.coef_)
    assert ours <= primal(Xs, ys, s, K, alpha, l1, l21, W.value) + 1e-12
    assert duality_gap(Xs, ys, s, K, alpha, l1, l21, model.coef_) <= 1e-8 * initial_primal(ys, s)
