"""Structure penalties (l1, l21, trace norm) against independent references.

Objective (kernel-coupled, T tasks, coef (T, d) holding w_t in row t):

    F(W, b) = sum_t s_t sum_i l(y_ti, <w_t, x_ti> + b_t) + alpha/2 sum_st K_st <w_s, w_t>
              + rho_1 sum |W| + rho_21 sum_j ||W[:, j]||_2 + rho_* ||W||_*,

s_t = omega_t / N, N the total number of samples; l = 1/2 (y - f)^2 for the
regressor, logistic or squared hinge (labels -1/+1) for the classifier.

References, none of which uses the package's solvers:

* scikit-learn ``MultiTaskLasso``, ``Lasso`` and ``ElasticNet`` (mappings derived
  in the tests' docstrings);
* ``reference_fit`` below: accelerated proximal gradient written in numpy from
  the definition of F, with closed-form proxes (soft-thresholding + group
  shrinkage, singular-value thresholding) that are themselves checked against
  scipy.optimize in the prox tests;
* cvxpy (an optional, bench-only dependency: those tests are skipped without it)
  as a second, conic reference and for the classifier.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import brentq, minimize
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso, MultiTaskLasso
from sklearn.utils._param_validation import InvalidParameterError

import multitask as mt
import reference as ref
from multitask._core import core

# --- independent numpy references ----------------------------------------------------------


def soft_threshold(v, c):
    return np.sign(v) * np.maximum(np.abs(v) - c, 0.0)


def prox_sparse_group(V, tau, l1, l21):
    """prox of tau (l1 ||.||_1 + l21 sum_j ||V[:, j]||) for V (T, d): soft-threshold, then shrink each column."""
    Z = soft_threshold(V, tau * l1)
    norms = np.linalg.norm(Z, axis=0)
    keep = norms > tau * l21
    factor = np.zeros_like(norms)
    factor[keep] = 1.0 - tau * l21 / norms[keep]
    return Z * factor


def singular_value_threshold(V, c):
    U, sigma, Vt = np.linalg.svd(V, full_matrices=False)
    return (U * np.maximum(sigma - c, 0.0)) @ Vt


def penalty(W, l1=0.0, l21=0.0, trace_norm=0.0):
    value = l1 * np.abs(W).sum() + l21 * np.linalg.norm(W, axis=0).sum()
    return value + trace_norm * np.linalg.svd(W, compute_uv=False).sum()


def loss_value(loss, y, f):
    return 0.5 * (y - f) ** 2 if loss == "squared" else ref.margin_loss(loss, y, f)


def loss_derivative(loss, y, f):
    return f - y if loss == "squared" else ref.margin_loss_first(loss, y, f)


def smooth_part(Xs, ys, s, K, alpha, loss, W, b):
    """(value, dF/dW (T, d), dF/db (T,)) of the data term plus the coupling term."""
    value = 0.5 * alpha * np.sum(K * (W @ W.T))
    grad_W, grad_b = alpha * K @ W, np.zeros(len(Xs))
    for t, (X, y) in enumerate(zip(Xs, ys)):
        f = X @ W[t] + b[t]
        value += s[t] * loss_value(loss, y, f).sum()
        first = s[t] * loss_derivative(loss, y, f)
        grad_W[t] += X.T @ first
        grad_b[t] = first.sum()
    return value, grad_W, grad_b


def objective(Xs, ys, s, K, alpha, loss, W, b, l1=0.0, l21=0.0, trace_norm=0.0):
    return smooth_part(Xs, ys, s, K, alpha, loss, W, b)[0] + penalty(W, l1, l21, trace_norm)


def _fista(gradient, value, prox, x0, tol, max_iter, lipschitz=None):
    """FISTA with gradient restart on a list of arrays x (prox acts on the first), from x0.

    With ``lipschitz`` the step is fixed at 1/lipschitz, otherwise found by backtracking
    on the quadratic upper bound. Stops when the proximal gradient mapping is below tol
    times the gradient norm at x0; raises if it does not (a reference that silently
    stopped early would make every comparison meaningless).
    """
    def dot(a, b):
        return sum(np.sum(u * v) for u, v in zip(a, b))

    def step_from(y, g, L):
        return [prox(y[0] - g[0] / L, 1 / L)] + [u - h / L for u, h in zip(y[1:], g[1:])]

    def accepted(x_next, y, g, d, L):
        if lipschitz is not None:
            return True
        linear, quadratic = dot(g, d), L / 2 * dot(d, d)
        if abs(linear) + quadratic > 1e-11 * abs(f_y):  # the quadratic upper bound on f
            return value(x_next) <= f_y + linear + quadratic
        # below that, differences of f are round-off: the curvature along the step from gradients
        return dot([a - b for a, b in zip(gradient(x_next), g)], d) <= 2 * quadratic

    x, y, theta = x0, x0, 1.0
    g = gradient(y)
    scale = np.sqrt(dot(g, g))
    L = lipschitz or 1.0
    f_y = value(y) if lipschitz is None else None
    for _ in range(max_iter):
        while True:
            x_next = step_from(y, g, L)
            d = [a - b for a, b in zip(x_next, y)]
            if accepted(x_next, y, g, d, L):
                break
            L *= 2
        if L * np.sqrt(dot(d, d)) <= tol * scale:
            return x_next
        if dot([a - b for a, b in zip(y, x_next)], [a - b for a, b in zip(x_next, x)]) > 0:
            theta, y = 1.0, x_next
        else:
            theta_next = (1 + np.sqrt(1 + 4 * theta**2)) / 2
            y = [a + (theta - 1) / theta_next * (a - b) for a, b in zip(x_next, x)]
            theta = theta_next
        x = x_next
        g = gradient(y)
        if lipschitz is None:
            f_y = value(y)
            L /= 1.2
    raise AssertionError("the numpy reference did not converge")


def reference_fit(Xs, ys, s, K, alpha, loss="squared", l1=0.0, l21=0.0, trace_norm=0.0, fit_intercept=True,
                  tol=1e-11, max_iter=100000):
    """argmin F, in numpy on dense data, by accelerated proximal gradient.

    Squared loss: intercepts profiled out (centred data), then the quadratic
    1/2 vec(W)^T H vec(W) - c^T vec(W) + Omega(W) with the exact step 1/lambda_max(H).
    Classification losses: W and b together, backtracking.
    """
    T, d = len(Xs), Xs[0].shape[1]
    Xs = [np.asarray(X.toarray() if sp.issparse(X) else X, dtype=float) for X in Xs]

    def prox(W, tau):
        if trace_norm > 0:
            return singular_value_threshold(W, tau * trace_norm)
        return prox_sparse_group(W, tau, l1, l21)

    if loss == "squared":
        H, c = ref.kronecker_system(Xs, ys, K, alpha, s * sum(X.shape[0] for X in Xs), fit_intercept)
        W, = _fista(lambda x: [(H @ x[0].ravel() - c).reshape(T, d)], None, prox, [np.zeros((T, d))], tol, max_iter,
                    lipschitz=np.linalg.eigvalsh(H).max())
        b = np.array([y.mean() - X.mean(axis=0) @ w for X, y, w in zip(Xs, ys, W)]) if fit_intercept else np.zeros(T)
        return W, b

    n_b = T if fit_intercept else 0

    def full(x):
        return x[0], (x[1] if fit_intercept else np.zeros(T))

    def gradient(x):
        _, g_W, g_b = smooth_part(Xs, ys, s, K, alpha, loss, *full(x))
        return [g_W, g_b[:n_b]]

    W, b = _fista(gradient, lambda x: smooth_part(Xs, ys, s, K, alpha, loss, *full(x))[0], prox,
                  [np.zeros((T, d)), np.zeros(n_b)], tol, max_iter)
    return W, (b if fit_intercept else np.zeros(T))


def sparse_group_kkt(G, W, l1, l21):
    """Per feature j: dist(-G[:, j], d Omega(W[:, j])) for Omega = l1 |.|_1 + l21 ||.||_2 (textbook subdifferential)."""
    out = np.zeros(W.shape[1])
    for j in range(W.shape[1]):
        g, w = G[:, j], W[:, j]
        norm = np.linalg.norm(w)
        if norm == 0:  # d Omega(0) = l1 B_inf + l21 B_2: the distance to the box, less l21
            out[j] = max(0.0, np.linalg.norm(soft_threshold(g, l1)) - l21)
            continue
        e = g + l21 * w / norm + l1 * np.sign(w)
        e[w == 0] = soft_threshold(e[w == 0], l1)
        out[j] = np.linalg.norm(e)
    return out


def make_tasks(seed, n_per_task=(24, 37, 30), n_features=8, *, n_relevant=3, shift=0.4, noise=0.5):
    """Per-task X (unequal sizes) and y from related, row-sparse linear models."""
    rng = np.random.default_rng(seed)
    T = len(n_per_task)
    W = np.zeros((T, n_features))
    W[:, :n_relevant] = rng.normal(size=n_relevant) + 0.5 * rng.normal(size=(T, n_relevant))
    Xs = [rng.normal(size=(n, n_features)) + shift for n in n_per_task]
    ys = [X @ W[t] + noise * rng.normal(size=X.shape[0]) + 1.0 for t, X in enumerate(Xs)]
    return Xs, ys


def make_shared(seed, n=40, n_features=10, n_tasks=3, *, n_relevant=4, sparsity=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features)) + 0.3
    if sparsity:
        X[rng.random(X.shape) < sparsity] = 0.0
    W = np.zeros((n_features, n_tasks))
    W[:n_relevant] = rng.normal(size=(n_relevant, n_tasks))
    return X, X @ W + 0.5 * rng.normal(size=(n, n_tasks)) + 1.0


def weights(task_weights, Xs):
    n = [X.shape[0] for X in Xs]
    return ref.omega(task_weights, n) / sum(n)


def signed_labels(Xs, seed):
    """-1/+1 labels from a related, row-sparse linear model per task."""
    rng = np.random.default_rng(seed)
    shared = np.zeros(Xs[0].shape[1])
    shared[:3] = 1.5 * rng.normal(size=3)
    return [np.where(X @ (shared + 0.4 * rng.normal(size=shared.size)) + 0.3 + rng.normal(size=len(X)) > 0, 1.0, -1.0)
            for X in Xs]


def solve_tightly(problem):
    """cvxpy with Clarabel at tight tolerances (it may warn that it could not certify all of them;
    the comparisons below are the judge of the accuracy)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Solution may be inaccurate")
        problem.solve(solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    assert problem.status in ("optimal", "optimal_inaccurate")


def regressor(**params):
    params = {"tol": 1e-12, "max_iter": 100000, **params}
    return mt.KernelCoupledRegressor(**params)


def classifier(**params):
    params = {"tol": 1e-12, "max_iter": 100000, **params}
    return mt.KernelCoupledClassifier(**params)


# --- 1. l21 on a shared design is scikit-learn's MultiTaskLasso --------------------------


@pytest.mark.parametrize("solver", ["feature_bcd", "gradient"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("as_sparse", [False, True])
@pytest.mark.parametrize("task_weights", ["uniform", "balanced", "constant"])
def test_l21_on_shared_design_is_multitask_lasso(solver, fit_intercept, as_sparse, task_weights):
    """alpha = 0, omega_t = c for every task, N = n T:

        F = c/(n T) sum_t 1/2 ||y_t - X w_t - b_t||^2 + rho21 sum_j ||W_j||,

    and T/c F = 1/(2n) ||Y - X W - b||_F^2 + (T rho21 / c) sum_j ||W_j||, scikit-learn's
    MultiTaskLasso objective with a = T rho21 / c: rho21 = a c / T ("balanced" is c = 1
    on a shared design, like "uniform").
    """
    X, Y = make_shared(0, sparsity=0.4 if as_sparse else 0.0)
    T = Y.shape[1]
    a = 0.2
    omega, c = ("uniform", 1.0) if task_weights == "uniform" else ("balanced", 1.0)
    if task_weights == "constant":
        omega, c = [2.5] * T, 2.5
    peer = MultiTaskLasso(alpha=a, fit_intercept=fit_intercept, tol=1e-14, max_iter=100000).fit(X, Y)
    assert 0 < np.sum(np.any(peer.coef_ != 0, axis=0)) < X.shape[1]  # a sparse, non-trivial solution
    model = regressor(alpha=0.0, l21=a * c / T, task_weights=omega, solver=solver, fit_intercept=fit_intercept)
    model.fit(sp.csr_matrix(X) if as_sparse else X, Y)
    assert model.solver_ == solver
    np.testing.assert_allclose(model.coef_, peer.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(model.intercept_, peer.intercept_ if fit_intercept else 0.0, rtol=0, atol=1e-6)
    # zero rows exactly where scikit-learn has them
    np.testing.assert_array_equal(np.all(model.coef_ == 0, axis=0), np.all(peer.coef_ == 0, axis=0))


@pytest.mark.parametrize("penalty_name", ["l1", "l21"])
@pytest.mark.parametrize("solver", ["feature_bcd", "gradient"])
def test_single_task_l1_and_l21_are_lasso(penalty_name, solver):
    """T = 1, N = n: F = 1/(2n) ||y - X w - b||^2 + rho ||w||_1 for either penalty: Lasso(alpha=rho)."""
    X, Y = make_shared(1, n_tasks=1)
    y = Y[:, 0]
    peer = Lasso(alpha=0.08, tol=1e-14, max_iter=100000).fit(X, y)
    model = regressor(alpha=0.0, solver=solver, **{penalty_name: 0.08}).fit(X, y)
    np.testing.assert_allclose(model.coef_[0], peer.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(model.intercept_[0], peer.intercept_, rtol=0, atol=1e-6)
    assert model.predict(X).shape == y.shape


# --- 2. l1 with a ridge is ElasticNet; sparse-group with a coupling --------------------------


@pytest.mark.parametrize("solver", ["feature_bcd", "gradient"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("as_sparse", [False, True])
def test_l1_with_identity_coupling_is_elastic_net_per_task(solver, fit_intercept, as_sparse):
    """K = I, shared X, N = n T: task t's part of F times T is

        1/(2n) ||y_t - X w_t - b_t||^2 + T alpha/2 ||w_t||^2 + T rho1 ||w_t||_1,

    ElasticNet's 1/(2n) ||r||^2 + a l1_ratio ||w||_1 + a (1 - l1_ratio)/2 ||w||^2 with
    a = T (rho1 + alpha), l1_ratio = rho1 / (rho1 + alpha).
    """
    X, Y = make_shared(2, sparsity=0.3 if as_sparse else 0.0)
    T = Y.shape[1]
    rho1, alpha = 0.015, 0.02
    model = regressor(coupling="identity", alpha=alpha, l1=rho1, solver=solver, fit_intercept=fit_intercept)
    model.fit(sp.csr_matrix(X) if as_sparse else X, Y)
    n_zero = 0
    for t in range(T):
        peer = ElasticNet(alpha=T * (rho1 + alpha), l1_ratio=rho1 / (rho1 + alpha), fit_intercept=fit_intercept,
                          tol=1e-14, max_iter=100000).fit(X, Y[:, t])
        np.testing.assert_allclose(model.coef_[t], peer.coef_, rtol=0, atol=1e-6)
        np.testing.assert_allclose(model.intercept_[t], peer.intercept_ if fit_intercept else 0.0, rtol=0, atol=1e-6)
        n_zero += np.sum(peer.coef_ == 0)
    assert n_zero > 0  # the l1 part is active


@pytest.mark.parametrize("solver", ["feature_bcd", "gradient"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("task_weights", ["uniform", [0.5, 2.0, 1.0]])
@pytest.mark.parametrize("as_sparse", [False, True])
def test_sparse_group_with_coupling_matches_reference(solver, fit_intercept, task_weights, as_sparse):
    """l1 + l21, per-task X of unequal sizes, K mean_regularized, alpha > 0: the numpy reference."""
    Xs, ys = make_tasks(3)
    T = len(Xs)
    K = mt.coupling.mean_regularized(T, 0.3)
    alpha, l1, l21 = 0.1, 0.02, 0.05
    s = weights(task_weights, Xs)
    W, b = reference_fit(Xs, ys, s, K, alpha, "squared", l1, l21, fit_intercept=fit_intercept)
    zero_rows = np.all(W == 0, axis=0)
    assert 0 < zero_rows.sum() < W.shape[1] and np.any((W == 0) & ~zero_rows)  # both penalties active
    model = regressor(coupling=K, alpha=alpha, l1=l1, l21=l21, task_weights=task_weights, solver=solver,
                      fit_intercept=fit_intercept)
    model.fit([sp.csr_matrix(X) for X in Xs] if as_sparse else Xs, ys)
    np.testing.assert_allclose(model.coef_, W, rtol=0, atol=1e-7)
    np.testing.assert_allclose(model.intercept_, b, rtol=0, atol=1e-7)
    F_star = objective(Xs, ys, s, K, alpha, "squared", W, b, l1, l21)
    assert model.objective_ == pytest.approx(F_star, rel=1e-11)
    assert objective(Xs, ys, s, K, alpha, "squared", model.coef_, model.intercept_, l1, l21) == pytest.approx(
        F_star, rel=1e-11)
    # the numpy KKT conditions at the returned model
    _, G, g_b = smooth_part(Xs, ys, s, K, alpha, "squared", model.coef_, model.intercept_)
    assert np.max(sparse_group_kkt(G, model.coef_, l1, l21)) < 1e-8
    if fit_intercept:
        assert np.max(np.abs(g_b)) < 1e-10


def test_sparse_group_reference_agrees_with_cvxpy():
    """The numpy reference and a conic solve (cvxpy) of the same problem; the estimator against both."""
    cp = pytest.importorskip("cvxpy")
    Xs, ys = make_tasks(4)
    T, d = len(Xs), Xs[0].shape[1]
    K = mt.coupling.mean_regularized(T, 0.3)
    alpha, l1, l21 = 0.1, 0.02, 0.05
    s = weights([0.5, 2.0, 1.0], Xs)
    W_var, b_var = cp.Variable((T, d)), cp.Variable(T)
    expr = sum(s[t] / 2 * cp.sum_squares(ys[t] - Xs[t] @ W_var[t] - b_var[t]) for t in range(T))
    expr += alpha / 2 * cp.sum_squares(np.linalg.cholesky(K).T @ W_var)
    expr += l1 * cp.sum(cp.abs(W_var)) + l21 * cp.sum(cp.norm(W_var, 2, axis=0))
    problem = cp.Problem(cp.Minimize(expr))
    solve_tightly(problem)
    W, b = reference_fit(Xs, ys, s, K, alpha, "squared", l1, l21)
    np.testing.assert_allclose(W, W_var.value, rtol=0, atol=1e-5)
    F_star = objective(Xs, ys, s, K, alpha, "squared", W, b, l1, l21)
    assert F_star == pytest.approx(problem.value, rel=1e-9)
    assert F_star <= problem.value + 1e-12
    for solver in ("feature_bcd", "gradient"):
        model = regressor(coupling=K, alpha=alpha, l1=l1, l21=l21, task_weights=[0.5, 2.0, 1.0], solver=solver)
        model.fit(Xs, ys)
        np.testing.assert_allclose(model.coef_, W_var.value, rtol=0, atol=1e-5)
        assert model.objective_ == pytest.approx(problem.value, rel=1e-9)


@pytest.mark.parametrize("solver", ["gram_gradient", "gradient"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_trace_norm_regressor_matches_reference(fit_intercept, solver):
    """Trace norm (on Gram statistics, the auto choice, and on the data) with a coupling: the numpy
    reference with singular-value thresholding."""
    rng = np.random.default_rng(5)
    n_per_task, d = (20, 35, 27, 30), 6
    B = rng.normal(size=(d, 2)) @ rng.normal(size=(2, len(n_per_task)))  # rank 2
    Xs = [rng.normal(size=(n, d)) + 0.5 for n in n_per_task]
    ys = [X @ B[:, t] + rng.normal(size=len(X)) + 1.0 for t, X in enumerate(Xs)]
    K = mt.coupling.mean_regularized(len(Xs), 0.3)
    s = weights("uniform", Xs)
    W, b = reference_fit(Xs, ys, s, K, 0.05, "squared", trace_norm=0.3, fit_intercept=fit_intercept)
    rank = np.sum(np.linalg.svd(W, compute_uv=False) > 1e-10)
    assert 0 < rank < min(W.shape)  # the trace norm is active
    model = regressor(coupling=K, alpha=0.05, trace_norm=0.3, fit_intercept=fit_intercept, solver=solver).fit(Xs, ys)
    assert model.solver_ == solver and np.isnan(model.dual_gap_)
    np.testing.assert_allclose(model.coef_, W, rtol=0, atol=1e-8)
    np.testing.assert_allclose(model.intercept_, b, rtol=0, atol=1e-8)
    assert np.sum(np.linalg.svd(model.coef_, compute_uv=False) > 1e-8) == rank
    assert model.objective_ == pytest.approx(objective(Xs, ys, s, K, 0.05, "squared", W, b, trace_norm=0.3), rel=1e-11)


# --- 3. classifier ------------------------------------------------------------------------


def test_logistic_l21_classifier_matches_cvxpy():
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(6)
    Xs = [rng.normal(size=(n, 6)) + 0.2 for n in (30, 45, 38)]
    ys = signed_labels(Xs, 6)
    T, d = len(Xs), 6
    K = mt.coupling.mean_regularized(T, 0.3)
    alpha, l21 = 0.01, 0.05
    s = weights("uniform", Xs)
    W_var, b_var = cp.Variable((T, d)), cp.Variable(T)
    expr = sum(s[t] * cp.sum(cp.logistic(-cp.multiply(ys[t], Xs[t] @ W_var[t] + b_var[t]))) for t in range(T))
    expr += alpha / 2 * cp.sum_squares(np.linalg.cholesky(K).T @ W_var) + l21 * cp.sum(cp.norm(W_var, 2, axis=0))
    problem = cp.Problem(cp.Minimize(expr))
    solve_tightly(problem)
    labels = [np.where(y > 0, "yes", "no") for y in ys]
    model = classifier(coupling=K, alpha=alpha, l21=l21).fit(Xs, labels)
    assert model.solver_ == "gradient" and np.isnan(model.dual_gap_)
    assert 0 < np.sum(np.all(model.coef_ == 0, axis=0)) < d  # some, not all, features removed
    np.testing.assert_allclose(model.coef_, W_var.value, rtol=0, atol=1e-7)
    np.testing.assert_allclose(model.intercept_, b_var.value, rtol=0, atol=1e-7)
    assert model.objective_ == pytest.approx(problem.value, rel=1e-9)
    _, G, g_b = smooth_part(Xs, ys, s, K, alpha, "logistic", model.coef_, model.intercept_)
    assert np.max(sparse_group_kkt(G, model.coef_, 0.0, l21)) < 1e-9 and np.max(np.abs(g_b)) < 1e-9


@pytest.mark.parametrize("loss", ["logistic", "squared_hinge"])
@pytest.mark.parametrize("penalties", [{"l1": 0.02, "l21": 0.08}, {"trace_norm": 0.2}])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_classifier_penalties_match_reference(loss, penalties, fit_intercept):
    Xs, _ = make_tasks(7, n_per_task=(30, 45, 38), n_features=6)
    ys = signed_labels(Xs, 7)
    K = mt.coupling.mean_regularized(len(Xs), 0.3)
    s = weights([1.0, 0.5, 2.0], Xs)
    W, b = reference_fit(Xs, ys, s, K, 0.02, loss, fit_intercept=fit_intercept, **penalties)
    if "trace_norm" in penalties:
        assert 0 < np.sum(np.linalg.svd(W, compute_uv=False) > 1e-10) < 3  # low rank, not zero
    else:
        assert np.any(np.all(W == 0, axis=0)) and np.any(W != 0)  # zero features, not all
    model = classifier(coupling=K, alpha=0.02, loss=loss, task_weights=[1.0, 0.5, 2.0], fit_intercept=fit_intercept,
                       **penalties).fit(Xs, ys)
    np.testing.assert_allclose(model.coef_, W, rtol=0, atol=1e-7)
    np.testing.assert_allclose(model.intercept_, b, rtol=0, atol=1e-7)
    assert model.objective_ == pytest.approx(objective(Xs, ys, s, K, 0.02, loss, W, b, **penalties), rel=1e-10)


# --- 4. the penalty's building blocks against their definitions -----------------------------


PENALTY_CASES = [(0.3, 0.0), (0.0, 0.5), (0.3, 0.5), (1.0, 1.0), (0.05, 2.0)]


@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (3, 4), (4, 2)])
def test_penalty_value_is_its_definition(shape):
    rng = np.random.default_rng(8)
    W = rng.normal(size=shape)
    W[:, 0] = 0.0
    for l1, l21, trace_norm in [(0.3, 0, 0), (0, 0.5, 0), (0.3, 0.5, 0), (0, 0, 0.7), (0, 0, 0), (0.2, 0.1, 0.4)]:
        expected = (l1 * np.abs(W).sum() + l21 * sum(np.linalg.norm(W[:, j]) for j in range(shape[1]))
                    + trace_norm * np.linalg.svd(W, compute_uv=False).sum())
        assert core.penalty_value(coef=W, l1=l1, l21=l21, trace_norm=trace_norm) == pytest.approx(expected, rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("l1,l21", PENALTY_CASES)
def test_sparse_group_prox_closed_form(l1, l21):
    """prox = soft-threshold then shrink each feature's row; zero rows and tau = 0 included."""
    rng = np.random.default_rng(9)
    for T, d in [(1, 4), (3, 5), (4, 2)]:
        V = rng.normal(size=(T, d)) * rng.choice([0.2, 1.0, 3.0], size=d)
        V[:, 0] = 0.0
        for tau in (0.0, 0.3, 1.0, 10.0):
            Z = core.penalty_prox(coef=V, tau=tau, l1=l1, l21=l21, trace_norm=0.0)
            np.testing.assert_allclose(Z, prox_sparse_group(V, tau, l1, l21), rtol=0, atol=1e-14)
    # a threshold above every row's norm gives exactly zero
    assert np.all(core.penalty_prox(coef=V, tau=1e3, l1=l1, l21=l21, trace_norm=0.0) == 0)


def _prox_by_moreau_slsqp(v, c1, c2):
    """prox of c1 ||.||_1 + c2 ||.||_2 at v via Moreau: v - projection of v onto c1 B_inf + c2 B_2 (scipy SLSQP)."""
    T = v.size
    blocks = (c1 > 0) + (c2 > 0)
    if blocks == 0:
        return v.copy()

    def split(x):
        return (x[:T] if c1 > 0 else np.zeros(T)), (x[-T:] if c2 > 0 else np.zeros(T))

    def fun(x):
        r = sum(split(x)) - v
        return r @ r, np.concatenate([2 * r] * blocks)

    n = T * blocks
    constraints = [{"type": "ineq", "fun": lambda x: c2**2 - x[-T:] @ x[-T:],
                    "jac": lambda x: np.concatenate([np.zeros(n - T), -2 * x[-T:]])}] if c2 > 0 else []
    bounds = [(-c1, c1)] * (T if c1 > 0 else 0) + [(None, None)] * (T if c2 > 0 else 0)
    result = minimize(fun, np.zeros(n), jac=True, method="SLSQP", bounds=bounds, constraints=constraints,
                      options={"ftol": 1e-16, "maxiter": 1000})
    return v - sum(split(result.x))


@pytest.mark.parametrize("l1,l21", PENALTY_CASES)
def test_sparse_group_prox_minimises_its_objective(l1, l21):
    """Against scipy (Moreau decomposition + SLSQP) and, directly, one-sided directional derivatives
    of 1/2 ||Z - V||^2 + tau Omega(Z) at the returned Z, all >= 0 (convexity: Z is the minimiser)."""
    rng = np.random.default_rng(10)
    tau = 0.6
    for T, d in [(1, 3), (2, 3), (3, 2)]:
        V = rng.normal(size=(T, d)) * rng.choice([0.3, 1.0, 2.0], size=d)
        Z = core.penalty_prox(coef=V, tau=tau, l1=l1, l21=l21, trace_norm=0.0)
        scipy_Z = np.column_stack([_prox_by_moreau_slsqp(V[:, j], tau * l1, tau * l21) for j in range(d)])
        np.testing.assert_allclose(Z, scipy_Z, rtol=0, atol=1e-7)

        def phi(Y):
            return 0.5 * np.sum((Y - V) ** 2) + tau * penalty(Y, l1, l21)

        h = 1e-7
        directions = [np.eye(T * d)[k].reshape(T, d) * sign for k in range(T * d) for sign in (1, -1)]
        directions += [rng.normal(size=(T, d)) for _ in range(30)]
        for D in directions:
            assert (phi(Z + h * D) - phi(Z)) / h >= -1e-6


@pytest.mark.parametrize("shape", [(1, 4), (2, 3), (3, 3), (4, 2)])
def test_trace_norm_prox_is_singular_value_thresholding(shape):
    """Closed form (numpy SVD) and, independently, scipy L-BFGS on the factored prox problem
    min_{A, B} 1/2 ||A B^T - V||^2 + c/2 (||A||^2 + ||B||^2) (= 1/2 ||Z - V||^2 + c ||Z||_* at full rank)."""
    rng = np.random.default_rng(11)
    T, d = shape
    r = min(T, d)
    for c in (0.3, 1.0):
        V = rng.normal(size=shape)
        Z = core.penalty_prox(coef=V, tau=0.5, l1=0.0, l21=0.0, trace_norm=2 * c)  # tau * rho = c
        np.testing.assert_allclose(Z, singular_value_threshold(V, c), rtol=0, atol=1e-13)

        def fun(x):
            A, B = x[: T * r].reshape(T, r), x[T * r:].reshape(d, r)
            R = A @ B.T - V
            value = 0.5 * np.sum(R**2) + c / 2 * (np.sum(A**2) + np.sum(B**2))
            return value, np.concatenate([(R @ B + c * A).ravel(), (R.T @ A + c * B).ravel()])

        best = min((minimize(fun, rng.normal(size=(T + d) * r), jac=True, method="L-BFGS-B",
                             options={"gtol": 1e-13, "ftol": 1e-16, "maxiter": 20000}) for _ in range(3)),
                   key=lambda res: res.fun)
        A, B = best.x[: T * r].reshape(T, r), best.x[T * r:].reshape(d, r)
        np.testing.assert_allclose(Z, A @ B.T, rtol=0, atol=1e-6)
    assert np.all(core.penalty_prox(coef=V, tau=1.0, l1=0.0, l21=0.0, trace_norm=1e3) == 0)


def _kkt_by_slsqp(g, w, l1, l21):
    """min ||g + z|| over z in d(l1 ||.||_1 + l21 ||.||_2)(w) = l1 d||.||_1(w) + l21 d||.||_2(w) (scipy SLSQP)."""
    T = g.size
    norm = np.linalg.norm(w)
    u_fixed = np.where(w != 0, l1 * np.sign(w), 0.0)
    free = np.flatnonzero((w == 0) & (l1 > 0))
    m = free.size
    v_free = norm == 0 and l21 > 0
    v_fixed = l21 * w / norm if norm > 0 else np.zeros(T)

    def z(x):
        u = u_fixed.copy()
        u[free] = x[:m]
        return u + (x[m:] if v_free else v_fixed)

    n = m + (T if v_free else 0)
    if n == 0:
        return np.linalg.norm(g + z(np.zeros(0)))

    def fun(x):
        r = g + z(x)
        return r @ r, np.concatenate([2 * r[free], 2 * r if v_free else []])

    constraints = [{"type": "ineq", "fun": lambda x: l21**2 - x[m:] @ x[m:],
                    "jac": lambda x: np.concatenate([np.zeros(m), -2 * x[m:]])}] if v_free else []
    result = minimize(fun, np.zeros(n), jac=True, method="SLSQP", bounds=[(-l1, l1)] * m + [(None, None)] * (n - m),
                      constraints=constraints, options={"ftol": 1e-16, "maxiter": 1000})
    return np.sqrt(max(result.fun, 0.0))


def test_row_kkt_violation_is_the_minimum_norm_subgradient_distance():
    rng = np.random.default_rng(12)
    n_zero_distance = 0
    for k in range(80):
        T = int(rng.integers(1, 5))
        g = rng.normal(size=T) * rng.choice([0.1, 1.0, 3.0])
        w = rng.normal(size=T)
        w[rng.random(T) < (0.0, 0.4, 1.0)[k % 3]] = 0.0
        l1, l21 = (PENALTY_CASES + [(0.0, 0.0)])[k % 6]
        got = core.row_kkt_violation(gradient=g, coef=w, l1=l1, l21=l21)
        assert got == pytest.approx(_kkt_by_slsqp(g, w, l1, l21), abs=1e-7)
        n_zero_distance += got == 0
    assert n_zero_distance > 0  # optimal rows (inside the subdifferential) occur among the cases
    # at a zero row: exactly 0 inside l1 B_inf + l21 B_2, positive outside
    assert core.row_kkt_violation(gradient=np.array([0.2, -0.1]), coef=np.zeros(2), l1=0.3, l21=0.0) == 0
    assert core.row_kkt_violation(gradient=np.array([0.5, -0.1]), coef=np.zeros(2), l1=0.3, l21=0.0) == pytest.approx(0.2)
    assert core.row_kkt_violation(gradient=np.array([3.0, 4.0]), coef=np.zeros(2), l1=0.0, l21=5.0) == 0
    assert core.row_kkt_violation(gradient=np.array([3.0, 4.0]), coef=np.zeros(2), l1=0.0, l21=4.0) == pytest.approx(1.0)


@pytest.mark.parametrize("l1,l21", PENALTY_CASES)
def test_row_dual_norm_puts_v_on_the_dual_ball_boundary(l1, l21):
    """Omega*(v) = s with v / s on the boundary of the dual ball l1 B_inf + l21 B_2, i.e.
    dist(v/s, l1 B_inf) = ||v/s - clip(v/s)|| = l21 (or max |v/s| = l1 when l21 = 0). Also the
    Hoelder inequality <v, z> <= s Omega(z), with equality at z = S_{s l1}(v) (the dual norm's
    maximiser), and a root of the boundary equation found by scipy's brentq."""
    rng = np.random.default_rng(13)
    for T in (1, 2, 3, 6):
        for magnitude in (0.1, 1.0, 5.0):
            v = rng.normal(size=T) * magnitude
            s = core.row_dual_norm(v=v, l1=l1, l21=l21)
            u = v / s
            box_distance = np.linalg.norm(u - np.clip(u, -l1, l1))
            if l21 > 0:
                assert box_distance == pytest.approx(l21, rel=1e-9)
            else:
                assert np.max(np.abs(u)) == pytest.approx(l1, rel=1e-12)
            for z in rng.normal(size=(20, T)):
                assert v @ z <= s * penalty(z[:, None], l1, l21) * (1 + 1e-12) + 1e-15
            z_star = soft_threshold(v, s * l1) if l21 > 0 else np.sign(v) * (np.abs(v) == np.abs(v).max())
            assert v @ z_star == pytest.approx(s * penalty(z_star[:, None], l1, l21), rel=1e-9)
            if l21 > 0:
                def boundary(t):
                    return np.linalg.norm(v - np.clip(v, -t * l1, t * l1)) - t * l21
                upper = np.linalg.norm(v) / l21
                assert s == pytest.approx(brentq(boundary, 0.0, upper, xtol=1e-15, rtol=1e-14), rel=1e-9)
    assert core.row_dual_norm(v=np.zeros(3), l1=l1, l21=l21) == 0


# --- 5. penalty_max: the smallest penalty with W = 0 ------------------------------------------


def _fit_zero_and_nonzero(estimator, X, y, penalty_name, **fit_params):
    value = mt.penalty_max(estimator, X, y, penalty=penalty_name, **fit_params)
    assert value > 0
    above = clone(estimator).set_params(**{penalty_name: value * (1 + 1e-6)}).fit(X, y, **fit_params)
    below = clone(estimator).set_params(**{penalty_name: value * (1 - 1e-3)}).fit(X, y, **fit_params)
    assert np.all(above.coef_ == 0), f"non-zero coef above penalty_max: {np.abs(above.coef_).max()}"
    assert np.any(below.coef_ != 0) and np.abs(below.coef_).max() > 1e-7


@pytest.mark.parametrize("penalty_name,others", [
    ("l21", {}), ("l21", {"l1": 0.02}), ("l1", {}), ("l1", {"l21": 0.03}), ("trace_norm", {})])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("solver", ["feature_bcd", "gradient"])
def test_penalty_max_regressor(penalty_name, others, fit_intercept, solver):
    if penalty_name == "trace_norm" and solver == "feature_bcd":
        solver = "auto"
    Xs, ys = make_tasks(14, n_features=7)
    estimator = regressor(alpha=0.1, fit_intercept=fit_intercept, solver=solver, task_weights=[0.3, 1.0, 2.5],
                          **others)
    _fit_zero_and_nonzero(estimator, Xs, ys, penalty_name)


@pytest.mark.parametrize("form", ["shared", "long", "sparse"])
def test_penalty_max_regressor_input_forms(form):
    Xs, ys = make_tasks(15, n_features=7)
    if form == "shared":
        X, Y = make_shared(15, n_features=7)
        data, fit_params = (X, Y), {}
    elif form == "long":
        data = (np.vstack(Xs), np.concatenate(ys))
        fit_params = {"tasks": np.repeat(["c", "a", "b"], [len(y) for y in ys])}
    else:
        data, fit_params = ([sp.csr_matrix(X) for X in Xs], ys), {}
    for penalty_name in ("l21", "l1", "trace_norm"):
        _fit_zero_and_nonzero(regressor(alpha=0.1, task_weights="balanced"), *data, penalty_name, **fit_params)


@pytest.mark.parametrize("loss", ["logistic", "squared_hinge"])
@pytest.mark.parametrize("penalty_name,others", [("l21", {}), ("l21", {"l1": 0.01}), ("l1", {}), ("trace_norm", {})])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_penalty_max_classifier(loss, penalty_name, others, fit_intercept):
    Xs, ys = make_tasks(16, n_features=7)
    labels = [np.where(y > np.median(y) + 0.3, "b", "a") for y in ys]  # unbalanced classes
    estimator = classifier(alpha=0.1, loss=loss, fit_intercept=fit_intercept, **others)
    _fit_zero_and_nonzero(estimator, Xs, labels, penalty_name)


def test_penalty_max_is_the_optimality_threshold_at_zero():
    """Independently of any fit: from the numpy gradient at W = 0 (intercepts at their optimum)."""
    Xs, ys = make_tasks(17, n_features=7)
    s = weights([0.3, 1.0, 2.5], Xs)
    b0 = np.array([y.mean() for y in ys])
    _, G0, g_b = smooth_part(Xs, ys, s, np.eye(3), 0.0, "squared", np.zeros((3, 7)), b0)
    assert np.allclose(g_b, 0)
    estimator = regressor(task_weights=[0.3, 1.0, 2.5])
    l21_max = np.linalg.norm(G0, axis=0).max()
    assert mt.penalty_max(estimator, Xs, ys, penalty="l21") == pytest.approx(l21_max, rel=1e-12)
    assert mt.penalty_max(estimator, Xs, ys, penalty="l1") == pytest.approx(np.abs(G0).max(), rel=1e-12)
    assert mt.penalty_max(estimator, Xs, ys, penalty="trace_norm") == pytest.approx(np.linalg.norm(G0, 2), rel=1e-12)
    # l1 with l21 fixed: the smallest c with ||S_c(G0[:, j])|| <= l21 for every j
    c = mt.penalty_max(estimator.set_params(l21=0.05), Xs, ys, penalty="l1")
    assert np.max(np.linalg.norm(soft_threshold(G0, c), axis=0)) == pytest.approx(0.05, rel=1e-8)


# --- 6. gap-safe screening --------------------------------------------------------------------


def _core_block(X):
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        return (X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32), X.shape[1])
    return np.ascontiguousarray(X)


def test_screened_rows_are_zero_at_the_optimum():
    """30 random problems (alpha = 0, l21 or l1 + l21, shared or per-task, dense or CSR, various rho):
    every row the row solver screens out is zero at the numpy reference optimum, with the optimality
    condition ||S_rho1(G*_j)|| <= rho21 holding there, and the returned solution is that optimum."""
    total_screened, screened_problems = 0, 0
    for seed in range(30):
        rng = np.random.default_rng(1000 + seed)
        T, d = int(rng.integers(2, 5)), int(rng.integers(10, 26))
        shared = seed % 3 == 0
        n_per_task = [int(rng.integers(d + 5, d + 25)) for _ in range(1 if shared else T)] * (T if shared else 1)
        Xs = [rng.normal(size=(n, d)) + 0.3 for n in n_per_task[: 1 if shared else T]]
        if seed % 4 == 1:
            Xs = [np.where(rng.random(X.shape) < 0.4, 0.0, X) for X in Xs]
        if shared:
            Xs = Xs * T  # one design for every task
        W_true = np.zeros((T, d))
        W_true[:, : int(rng.integers(1, 5))] = rng.normal(size=(T, 1))
        ys = [X @ W_true[t] + 0.5 * rng.normal(size=len(X)) + 1.0 for t, X in enumerate(Xs)]
        fit_intercept = bool(seed % 2)
        omega = rng.uniform(0.5, 2.0, size=T) if seed % 5 == 0 else np.ones(T)
        l1 = 0.0 if seed % 2 == 0 else 0.02 * rng.random()
        l21 = mt.penalty_max(mt.KernelCoupledRegressor(l1=l1, fit_intercept=fit_intercept, task_weights=omega),
                             Xs, ys, penalty="l21") * rng.uniform(0.05, 0.8)
        s = omega / sum(n_per_task)
        blocks = [_core_block(sp.csr_matrix(X) if seed % 4 == 1 else X) for X in Xs]
        if shared:
            blocks = [blocks[0]] * T  # the same buffers for every task: the shared-design path
        result = core.fit_linear_model_f64(X=blocks, y=[np.ascontiguousarray(y) for y in ys], sample_weight=s, coupling=np.eye(T), alpha=0.0,
                                           fit_intercept=fit_intercept, loss="squared", l1=l1, l21=l21, trace_norm=0.0, solver="feature_bcd", tol=1e-14, max_iter=100000, n_threads=1, warm_coef=None, warm_intercept=None)
        assert result["converged"]
        W, b = reference_fit(Xs, ys, s, np.eye(T), 0.0, "squared", l1, l21, fit_intercept=fit_intercept)
        screened = np.asarray(result["screened"], dtype=bool)
        assert screened.shape == (d,)
        np.testing.assert_array_equal(W[:, screened], 0.0)
        np.testing.assert_array_equal(result["coef"][:, screened], 0.0)
        _, G, _ = smooth_part(Xs, ys, s, np.eye(T), 0.0, "squared", W, b)
        assert np.all(np.linalg.norm(soft_threshold(G[:, screened], l1), axis=0) <= l21 * (1 + 1e-9))
        np.testing.assert_allclose(result["coef"], W, rtol=0, atol=1e-6)
        np.testing.assert_allclose(result["intercept"], b, rtol=0, atol=1e-6)
        total_screened += screened.sum()
        screened_problems += screened.any()
    assert screened_problems >= 20 and total_screened > 100  # screening did run


def test_no_screening_with_a_coupling():
    Xs, ys = make_tasks(18, n_features=15)
    s = weights("uniform", Xs)
    result = core.fit_linear_model_f64(X=Xs, y=ys, sample_weight=s, coupling=mt.coupling.mean_regularized(3), alpha=0.1, fit_intercept=True, loss="squared", l1=0.0, l21=0.3,
                                       trace_norm=0.0, solver="feature_bcd", tol=1e-12, max_iter=10000, n_threads=1, warm_coef=None, warm_intercept=None)
    assert not np.any(result["screened"])
    assert np.any(np.all(result["coef"] == 0, axis=0))  # zero rows exist, but were not screened


# --- 7. duality gap ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", range(8))
def test_duality_gap_bounds_the_suboptimality(case):
    """dual_gap_ >= 0 and >= F(W) - F* (F* from the numpy reference) at every stopping point, loose
    or cut short by max_iter; converged fits have dual_gap_ <= tol P(0), P(0) = sum_t s_t/2 ||y_t - mean||^2;
    objective_ is F at the returned model."""
    rng = np.random.default_rng(2000 + case)
    T, d = int(rng.integers(2, 5)), int(rng.integers(6, 20))
    Xs = [rng.normal(size=(int(rng.integers(d + 5, 45)), d)) + 0.3 for _ in range(T)]
    W_true = np.zeros((T, d))
    W_true[:, :3] = rng.normal(size=(T, 3))
    ys = [X @ W_true[t] + 0.5 * rng.normal(size=len(X)) + 1.0 for t, X in enumerate(Xs)]
    omega = rng.uniform(0.5, 2.0, size=T)
    s = weights(omega, Xs)
    fit_intercept = bool(case % 2)
    alpha = 0.05 if case % 4 >= 2 else 0.0
    K = mt.coupling.mean_regularized(T, 0.2) if case % 3 else ref.random_coupling(rng, T, "psd")
    l1 = 0.01 if case >= 4 else 0.0
    params = dict(coupling=K, alpha=alpha, l1=l1, fit_intercept=fit_intercept, task_weights=omega, solver="feature_bcd")
    l21 = mt.penalty_max(regressor(**params), Xs, ys, penalty="l21") * 0.2
    W, b = reference_fit(Xs, ys, s, K, alpha, "squared", l1, l21, fit_intercept=fit_intercept)
    F_star = objective(Xs, ys, s, K, alpha, "squared", W, b, l1, l21)
    P0 = sum(s[t] / 2 * np.sum((y - (y.mean() if fit_intercept else 0.0)) ** 2) for t, y in enumerate(ys))
    X_input = [sp.csr_matrix(X) for X in Xs] if case % 2 else Xs
    for tol, max_iter in [(1e-1, 1000), (1e-3, 1000), (1e-6, 1000), (1e-10, 1000), (1e-12, 1), (1e-12, 3)]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = regressor(l21=l21, tol=tol, max_iter=max_iter, **params).fit(X_input, ys)
        converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        F = objective(Xs, ys, s, K, alpha, "squared", model.coef_, model.intercept_, l1, l21)
        assert model.objective_ == pytest.approx(F, rel=1e-12)
        assert model.dual_gap_ >= 0
        assert model.dual_gap_ >= F - F_star - 1e-13 * abs(F_star)
        if converged:
            assert model.dual_gap_ <= tol * P0
        else:
            assert model.dual_gap_ > tol * P0
    assert model.dual_gap_ > 0  # the cut-short fits left a gap


def test_dual_gap_is_nan_without_the_row_solver():
    Xs, ys = make_tasks(19)
    assert np.isnan(regressor(l21=0.05, solver="gradient").fit(Xs, ys).dual_gap_)
    assert np.isnan(regressor(trace_norm=0.05).fit(Xs, ys).dual_gap_)
    labels = [y > np.median(y) for y in ys]
    assert np.isnan(classifier(l21=0.01).fit(Xs, labels).dual_gap_)
    assert np.isfinite(regressor(l21=0.05, solver="feature_bcd").fit(Xs, ys).dual_gap_)


# --- 8. regularisation path -------------------------------------------------------------------


PATH_CASES = [
    ("regressor", "l21", dict(alpha=0.0, solver="feature_bcd", tol=1e-14)),
    ("regressor", "l21", dict(alpha=0.1, coupling="mean_regularized", solver="feature_bcd", tol=1e-14)),
    ("regressor", "l1", dict(alpha=0.0, l21=0.05, solver="feature_bcd", tol=1e-14)),
    ("regressor", "l1", dict(alpha=0.1, solver="gradient")),
    ("regressor", "trace_norm", dict(alpha=0.1)),
    ("classifier", "l21", dict(alpha=0.1)),
    ("classifier", "trace_norm", dict(alpha=0.1, loss="squared_hinge")),
]


@pytest.mark.parametrize("kind,penalty_name,params", PATH_CASES)
def test_regularization_path_points_are_cold_fits(kind, penalty_name, params):
    Xs, ys = make_tasks(20, n_features=15, n_relevant=4)
    if kind == "classifier":
        ys = [np.where(y > np.median(y), "b", "a") for y in ys]
    estimator = (regressor if kind == "regressor" else classifier)(**params)
    before = estimator.get_params()
    path = mt.regularization_path(estimator, Xs, ys, penalty=penalty_name, n_values=6, min_ratio=0.05)
    assert estimator.get_params() == before and not hasattr(estimator, "coef_")  # not modified
    values = path["penalty_values"]
    value_max = mt.penalty_max(estimator, Xs, ys, penalty=penalty_name)
    assert path["value_max"] == pytest.approx(value_max, rel=1e-14)
    assert values[0] == pytest.approx(value_max, rel=1e-14)
    assert values[-1] == pytest.approx(0.05 * value_max, rel=1e-12)
    assert np.all(np.diff(values) < 0)
    assert path["coef"].shape == (6, 3, 15) and path["intercept"].shape == (6, 3)
    assert path["dual_gap"].shape == path["n_iter"].shape == path["objective"].shape == (6,)
    if params.get("solver") == "feature_bcd":
        assert np.all(path["coef"][0] == 0)
    else:  # W = 0 is optimal at exactly penalty_max; the gradient solver reaches it to its tolerance
        assert np.abs(path["coef"][0]).max() <= 1e-9
    assert np.any(path["coef"][-1] != 0)
    for k, value in enumerate(values):
        cold = clone(estimator).set_params(**{penalty_name: value}).fit(Xs, ys)
        np.testing.assert_allclose(path["coef"][k], cold.coef_, rtol=0, atol=1e-6)
        np.testing.assert_allclose(path["intercept"][k], cold.intercept_, rtol=0, atol=1e-6)
        assert path["objective"][k] == pytest.approx(cold.objective_, rel=1e-9)
        if params.get("solver") == "feature_bcd":  # converged: gap <= tol P(0), P(0) = sum_t s_t/2 ||y_t - mean||^2
            P0 = sum(np.sum((y - y.mean()) ** 2) for y in ys) / (2 * sum(len(y) for y in ys))
            assert 0 <= path["dual_gap"][k] <= params["tol"] * P0
        else:
            assert np.isnan(path["dual_gap"][k])


def test_regularization_path_with_given_values():
    Xs, ys = make_tasks(21, n_features=10)
    values = [0.01, 0.2, 0.05]
    path = mt.regularization_path(regressor(alpha=0.0, solver="feature_bcd"), Xs, ys, penalty="l21", values=values)
    np.testing.assert_array_equal(path["penalty_values"], [0.2, 0.05, 0.01])
    assert np.isnan(path["value_max"])
    for k, value in enumerate(path["penalty_values"]):
        cold = regressor(alpha=0.0, solver="feature_bcd", l21=value).fit(Xs, ys)
        np.testing.assert_allclose(path["coef"][k], cold.coef_, rtol=0, atol=1e-6)


def test_regularization_path_bunch_exposes_values_as_attribute():
    """Documented as a Bunch with the field ``penalty_values``: attribute access must give the array,
    like every other field (coef, intercept, ...)."""
    Xs, ys = make_tasks(22, n_features=6)
    path = mt.regularization_path(regressor(alpha=0.0), Xs, ys, penalty="l21", n_values=3)
    assert isinstance(path.coef, np.ndarray)
    assert isinstance(path.penalty_values, np.ndarray)
    assert path.penalty_values[0] == pytest.approx(path.value_max, rel=1e-14)


@pytest.mark.parametrize("solver,penalty_name", [("feature_bcd", "l21"), ("feature_bcd", "l1"), ("gradient", "l21"),
                                                 ("gradient", "trace_norm")])
def test_warm_start_does_not_change_the_solution(solver, penalty_name):
    """From a dense solution at a smaller penalty, and from random coefficients: the cold answer."""
    Xs, ys = make_tasks(23, n_features=12)
    tol = 1e-14 if solver == "feature_bcd" else 1e-12
    cold = regressor(alpha=0.0, solver=solver, tol=tol, **{penalty_name: 0.1}).fit(Xs, ys)
    assert np.any(cold.coef_ == 0) or penalty_name == "trace_norm"
    warm = regressor(alpha=0.0, solver=solver, tol=tol, warm_start=True, **{penalty_name: 0.001}).fit(Xs, ys)
    warm.set_params(**{penalty_name: 0.1}).fit(Xs, ys)
    np.testing.assert_allclose(warm.coef_, cold.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(warm.intercept_, cold.intercept_, rtol=0, atol=1e-6)
    rng = np.random.default_rng(23)
    warm.coef_, warm.intercept_ = rng.normal(size=cold.coef_.shape), rng.normal(size=3)
    warm.fit(Xs, ys)
    np.testing.assert_allclose(warm.coef_, cold.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(warm.intercept_, cold.intercept_, rtol=0, atol=1e-6)


# --- 9. errors --------------------------------------------------------------------------------


def _small_problem():
    rng = np.random.default_rng(24)
    X = rng.normal(size=(30, 4))
    Y = X @ rng.normal(size=(4, 2))
    return X, Y, (Y > 0).astype(int)


@pytest.mark.parametrize("other", ["l1", "l21"])
def test_trace_norm_with_l1_or_l21_is_an_error(other):
    X, Y, labels = _small_problem()
    with pytest.raises(ValueError, match="trace-norm"):
        mt.KernelCoupledRegressor(trace_norm=0.1, **{other: 0.1}).fit(X, Y)
    with pytest.raises(ValueError, match="trace-norm"):
        mt.KernelCoupledClassifier(trace_norm=0.1, **{other: 0.1}).fit(X, labels)
    with pytest.raises(ValueError, match="trace"):
        mt.penalty_max(mt.KernelCoupledRegressor(**{other: 0.1}), X, Y, penalty="trace_norm")
    with pytest.raises(ValueError, match="trace"):
        mt.penalty_max(mt.KernelCoupledRegressor(trace_norm=0.1), X, Y, penalty=other)


@pytest.mark.parametrize("solver", ["exact", "cg"])
@pytest.mark.parametrize("penalty_name", ["l1", "l21", "trace_norm"])
def test_gram_solvers_with_a_penalty_are_errors(solver, penalty_name):
    X, Y, _ = _small_problem()
    with pytest.raises(ValueError, match=f"solver='{solver}'"):
        mt.KernelCoupledRegressor(solver=solver, **{penalty_name: 0.1}).fit(X, Y)


def test_gram_solver_error_for_the_trace_norm_recommends_solvers_that_accept_it():
    """The message for solver='exact' with trace_norm must not send the user to 'feature_bcd' or
    'block_newton', which reject it."""
    X, Y, _ = _small_problem()
    for solver in ("feature_bcd", "block_newton"):
        with pytest.raises(ValueError, match=solver):
            mt.KernelCoupledRegressor(solver=solver, trace_norm=0.1).fit(X, Y)
    with pytest.raises(ValueError, match="solver='exact'") as error:
        mt.KernelCoupledRegressor(solver="exact", trace_norm=0.1).fit(X, Y)
    message = str(error.value)
    assert "'feature_bcd'" not in message and "'block_newton'" not in message, message
    assert "l1/l21" not in message, message


@pytest.mark.parametrize("name", ["l1", "l21", "trace_norm"])
def test_negative_penalty_is_an_error(name):
    X, Y, labels = _small_problem()
    with pytest.raises(InvalidParameterError, match=name):
        mt.KernelCoupledRegressor(**{name: -0.1}).fit(X, Y)
    with pytest.raises(ValueError, match=name):
        mt.KernelCoupledClassifier(**{name: -0.1}).fit(X, labels)
    with pytest.raises(ValueError):
        core.penalty_prox(np.ones((2, 3)), tau=1.0, **{n: -0.1 if n == name else 0.0 for n in ("l1", "l21", "trace_norm")})


@pytest.mark.parametrize("solver", ["block_newton", "newton"])
@pytest.mark.parametrize("penalty_name", ["l1", "l21", "trace_norm"])
def test_classifier_second_order_solvers_with_a_penalty_are_errors(solver, penalty_name):
    X, _, labels = _small_problem()
    with pytest.raises(ValueError, match=solver):
        mt.KernelCoupledClassifier(solver=solver, **{penalty_name: 0.1}).fit(X, labels)


def test_solver_choice_with_a_penalty():
    X, Y, labels = _small_problem()
    assert mt.KernelCoupledRegressor(l21=0.01).fit(X, Y).solver_ == "feature_bcd"
    assert mt.KernelCoupledRegressor(l1=0.01).fit(X, Y).solver_ == "feature_bcd"
    assert mt.KernelCoupledRegressor(trace_norm=0.01).fit(X, Y).solver_ == "gram_gradient"
    assert mt.KernelCoupledRegressor(trace_norm=0.01, loss="huber").fit(X, Y).solver_ == "gradient"
    assert mt.KernelCoupledClassifier(l21=0.01).fit(X, labels).solver_ == "gradient"


@pytest.mark.parametrize("bad", [dict(penalty="l2"), dict(values=[-1.0]), dict(values=[]), dict(min_ratio=0.0),
                                 dict(n_values=0)])
def test_regularization_path_argument_errors(bad):
    X, Y, _ = _small_problem()
    with pytest.raises(ValueError):
        mt.regularization_path(mt.KernelCoupledRegressor(), X, Y, **bad)
