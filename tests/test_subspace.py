"""SharedSubspaceRegressor (w_t = U a_t): against numpy references written from the objective

    F(U, A, b) = sum_t s_t/2 ||y_t - X_t U a_t - b_t||^2 + alpha/2 tr(A K A^T) + alpha_U/2 ||U||_F^2,
    s_t = omega_t / N,

with U = components_.T (d, r), A = heads_.T (r, T), b = intercept_ (T,).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.linalg import subspace_angles
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import multitask as mt
from multitask._subspace import SharedSubspaceRegressor
from multitask._input import to_task_blocks
from multitask._subspace_solver import fit_subspace
from reference import omega, random_coupling


# ----------------------------------------------------------------------------- numpy references


def sample_weights(task_weights, n_per_task):
    n = np.asarray(n_per_task, dtype=float)
    return omega(task_weights, n) / n.sum()


def objective(Xs, ys, U, A, b, K, alpha, alpha_u, s):
    """F(U, A, b), straight from the definition."""
    data = sum(s_t / 2 * np.sum((y - X @ U @ a - b_t) ** 2) for X, y, a, b_t, s_t in zip(Xs, ys, A.T, b, s))
    return data + alpha / 2 * np.trace(A @ K @ A.T) + alpha_u / 2 * np.sum(U**2)


def gradients(Xs, ys, U, A, b, K, alpha, alpha_u, s):
    """(dF/dU, dF/dA, dF/db) from the definition (r_t = y_t - X_t U a_t - b_t)."""
    residuals = [y - X @ U @ a - b_t for X, y, a, b_t in zip(Xs, ys, A.T, b)]
    grad_U = alpha_u * U - sum(s_t * np.outer(X.T @ r, a) for X, r, a, s_t in zip(Xs, residuals, A.T, s))
    grad_A = alpha * A @ K - np.column_stack([s_t * U.T @ X.T @ r for X, r, s_t in zip(Xs, residuals, s)])
    grad_b = -np.array([s_t * r.sum() for r, s_t in zip(residuals, s)])
    return grad_U, grad_A, grad_b


def model_parts(model):
    return model.components_.T, model.heads_.T, model.intercept_


def planted_problem(rng, n_features=12, rank=2, n_tasks=10, noise=0.3, n_range=(40, 70)):
    """Tasks w_t = U_true a_t with U_true (d, rank) orthonormal, noisy targets with intercepts."""
    U_true = np.linalg.qr(rng.normal(size=(n_features, rank)))[0]
    A_true = 2.0 * rng.normal(size=(rank, n_tasks))
    Xs = [rng.normal(size=(n, n_features)) for n in rng.integers(*n_range, size=n_tasks)]
    ys = [X @ U_true @ a + 1.5 + noise * rng.normal(size=X.shape[0]) for X, a in zip(Xs, A_true.T)]
    return Xs, ys, U_true


def small_problem(rng, n_per_task=(25, 30, 35, 40), n_features=6, shift=0.5):
    Xs = [rng.normal(size=(n, n_features)) + shift for n in n_per_task]
    ys = [X @ rng.normal(size=n_features) + rng.normal(size=X.shape[0]) + 2.0 for X in Xs]
    return Xs, ys


def fit_quietly(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # the tests below must converge
        return model.fit(*args, **kwargs)


# ----------------------------------------------------------------------------- (a) planted structure


@pytest.mark.parametrize("rank", [1, 3])
def test_recovers_planted_subspace_from_noisy_data(rank):
    rng = np.random.default_rng(10 + rank)
    Xs, ys, U_true = planted_problem(rng, rank=rank)
    model = fit_quietly(SharedSubspaceRegressor(n_components=rank, alpha=1e-3), Xs, ys)
    angles = subspace_angles(U_true, model.components_.T)
    assert angles.shape == (rank,) and np.max(angles) < 0.05, angles
    assert model.score(Xs, ys) > 0.9


def test_pooling_recovers_the_subspace_when_every_task_is_wide():
    # n_t < d: no task determines its own model, so the SVD of the independent ridge solutions (the
    # initialisation) finds the subspace poorly; sharing U across 40 tasks finds it well.
    rng = np.random.default_rng(0)
    Xs, ys, U_true = planted_problem(rng, n_features=30, rank=2, n_tasks=40, noise=0.5, n_range=(12, 20))
    model = fit_quietly(SharedSubspaceRegressor(n_components=2, alpha=1e-2), Xs, ys)
    angle = np.max(subspace_angles(U_true, model.components_.T))
    ridge = mt.KernelCoupledRegressor(coupling="identity", alpha=1e-2).fit(Xs, ys)
    ridge_angle = np.max(subspace_angles(U_true, np.linalg.svd(ridge.coef_.T)[0][:, :2]))
    assert angle < 0.12 and angle < ridge_angle / 3, (angle, ridge_angle)


# ----------------------------------------------------------------------------- (b) objective


@pytest.mark.parametrize(
    "task_weights, coupling, fit_intercept",
    [("uniform", "identity", True), ("balanced", "pd", True), ([1.0, 3.0, 0.5, 2.0], "mean_regularized", False)],
)
def test_objective_history_non_increasing_and_matches_numpy(task_weights, coupling, fit_intercept):
    rng = np.random.default_rng(20)
    Xs, ys = small_problem(rng)
    K = random_coupling(rng, len(Xs), "pd") if coupling == "pd" else mt.coupling.resolve_coupling(coupling, len(Xs))
    alpha, alpha_u = 0.05, 0.3
    model = SharedSubspaceRegressor(
        n_components=2, coupling=K, alpha=alpha, alpha_u=alpha_u, task_weights=task_weights,
        fit_intercept=fit_intercept, tol=1e-10, max_iter=500,
    )
    fit_quietly(model, Xs, ys)
    history = model.objective_history_
    assert history.shape == (model.n_iter_ + 1,) and model.n_iter_ >= 2
    assert np.all(np.diff(history) <= 1e-12 * np.abs(history[:-1]))
    assert history[-1] < history[0]
    s = sample_weights(task_weights, [len(y) for y in ys])
    U, A, b = model_parts(model)
    expected = objective(Xs, ys, U, A, b, K, alpha, alpha_u, s)
    assert model.objective_ == pytest.approx(expected, rel=1e-12)
    assert model.objective_ == history[-1]
    np.testing.assert_allclose(model.coef_, (U @ A).T, rtol=1e-14, atol=1e-15)
    if not fit_intercept:
        np.testing.assert_array_equal(model.intercept_, 0.0)
    assert model.alpha_u_ == alpha_u
    np.testing.assert_array_equal(model.coupling_, K)


def test_alpha_u_defaults_to_alpha():
    rng = np.random.default_rng(21)
    Xs, ys = small_problem(rng)
    model = fit_quietly(SharedSubspaceRegressor(alpha=0.1), Xs, ys)
    assert model.alpha_u_ == 0.1
    s = sample_weights("uniform", [len(y) for y in ys])
    assert model.objective_ == pytest.approx(objective(Xs, ys, *model_parts(model), np.eye(4), 0.1, 0.1, s), rel=1e-12)


# ----------------------------------------------------------------------------- (c) the U step and stationarity


def dense_u_step(Xs, ys, U_shape, A, alpha_u, s, fit_intercept):
    """argmin over (U, b) of F with A fixed: least squares in vec(U) (row-major) plus the optimal intercepts.

    X_t U a_t = (X_t kron a_t^T) vec(U); with intercepts the data are centred per task first.
    """
    rows, targets = [], []
    for X, y, a, s_t in zip(Xs, ys, A.T, s):
        Xc, yc = (X - X.mean(axis=0), y - y.mean()) if fit_intercept else (X, y)
        rows.append(np.sqrt(s_t) * np.kron(Xc, a[None, :]))
        targets.append(np.sqrt(s_t) * yc)
    size = U_shape[0] * U_shape[1]
    rows.append(np.sqrt(alpha_u) * np.eye(size))
    targets.append(np.zeros(size))
    vec_U = np.linalg.lstsq(np.vstack(rows), np.concatenate(targets), rcond=None)[0]
    return vec_U.reshape(U_shape)


def dense_heads(Xs, ys, U, K, alpha, s, fit_intercept):
    """argmin over (A, b) of F with U fixed: the (r T) normal equations of the heads, solved densely.

    With M_t = s_t U^T X~_t^T X~_t U and e_t = s_t U^T X~_t^T y~_t: (blockdiag(M_t) + alpha K (x) I_r) vec(A) = vec(E),
    vec stacking the columns a_t.
    """
    r, T = U.shape[1], len(Xs)
    M, E = np.zeros((r * T, r * T)), np.zeros(r * T)
    for t, (X, y, s_t) in enumerate(zip(Xs, ys, s)):
        Xc, yc = (X - X.mean(axis=0), y - y.mean()) if fit_intercept else (X, y)
        Z = Xc @ U
        M[t * r:(t + 1) * r, t * r:(t + 1) * r] = s_t * Z.T @ Z
        E[t * r:(t + 1) * r] = s_t * Z.T @ yc
    M += alpha * np.kron(K, np.eye(r))
    return np.linalg.solve(M, E).reshape(T, r).T


def core_fit(Xs, ys, K, alpha, alpha_u, r, fit_intercept=True, layout="lists", task_weights="uniform", **kwargs):
    """fit_subspace on the data in one of the input layouts (what the estimator calls)."""
    if layout == "shared":
        blocks = to_task_blocks(Xs[0], np.column_stack(ys), None)
    elif layout == "sparse":
        blocks = to_task_blocks([sp.csr_array(X) for X in Xs], ys, None, accept_sparse=True)
    else:
        blocks = to_task_blocks(Xs, ys, None)
    s = sample_weights(task_weights, [len(y) for y in ys])
    return fit_subspace(blocks, s, K, n_components=r, alpha=alpha, alpha_u=alpha_u, fit_intercept=fit_intercept,
                        **kwargs)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("layout", ["lists", "wide", "sparse", "shared", "large", "coupled"])
def test_first_sweep_is_the_exact_u_step_then_the_exact_heads(layout, fit_intercept):
    # From a given U0, iteration 1 is an alternating sweep: A0 = argmin_A F(U0, A), then
    # U1 = argmin_U F(U, A0) (dense least squares in vec(U)), then the heads for U1.
    rng = np.random.default_rng(30)
    d, r, T = 5, 3, 4
    n_per_task = (12, 15, 20, 18)
    if layout == "wide":  # n_t < d: tasks whose Grams are singular
        n_per_task, d = (3, 4, 5, 6), 7
    elif layout == "large":  # d r > 1500: the U step by conjugate gradient instead of Cholesky
        n_per_task, d, r, T = (260, 240, 250), 200, 8, 3
    elif layout == "shared":
        n_per_task = (30,) * T
    X_shared = rng.normal(size=(n_per_task[0], d)) + 0.7
    Xs = [X_shared] * T if layout == "shared" else [rng.normal(size=(n, d)) + 0.7 for n in n_per_task]
    ys = [rng.normal(size=n) + 1.0 for n in n_per_task]
    K = random_coupling(rng, T, "pd") if layout == "coupled" else np.eye(T)
    alpha, alpha_u = 0.05, 0.3
    s = sample_weights("uniform", n_per_task)
    U0 = rng.normal(size=(d, r))
    solution = core_fit(Xs, ys, K, alpha, alpha_u, r, fit_intercept, layout, tol=0.0, max_iter=1,
                        initial_components=U0)
    assert solution.n_iter == 1 and solution.alternating_sweeps == 1
    A0 = dense_heads(Xs, ys, U0, K, alpha, s, fit_intercept)
    U1 = dense_u_step(Xs, ys, U0.shape, A0, alpha_u, s, fit_intercept)
    np.testing.assert_allclose(solution.components, U1, rtol=1e-8, atol=1e-10 * np.abs(U1).max())
    A1 = dense_heads(Xs, ys, U1, K, alpha, s, fit_intercept)
    np.testing.assert_allclose(solution.heads, A1, rtol=1e-7, atol=1e-9 * np.abs(A1).max())
    b0 = np.array([y.mean() - X.mean(axis=0) @ U0 @ a for X, y, a in zip(Xs, ys, A0.T)])
    if not fit_intercept:
        b0 = np.zeros(T)
    F0 = objective(Xs, ys, U0, A0, b0, K, alpha, alpha_u, s)
    assert solution.history[0] == pytest.approx(F0, rel=1e-10)
    F1 = objective(Xs, ys, solution.components, solution.heads, solution.intercept, K, alpha, alpha_u, s)
    assert solution.history[1] == pytest.approx(F1, rel=1e-10) and F1 < F0


def test_numpy_gradients_agree_with_finite_differences():
    # The reference gradient used below, checked against central differences of the reference objective.
    rng = np.random.default_rng(32)
    Xs, ys = small_problem(rng, n_per_task=(8, 9, 10), n_features=4)
    K, s = random_coupling(rng, 3, "pd"), sample_weights("balanced", (8, 9, 10))
    U, A, b = rng.normal(size=(4, 2)), rng.normal(size=(2, 3)), rng.normal(size=3)
    grads = gradients(Xs, ys, U, A, b, K, 0.2, 0.4, s)
    step = 1e-6
    for which, (point, grad) in enumerate(zip((U, A, b), grads)):
        numeric = np.zeros_like(point)
        for index in np.ndindex(point.shape):
            parts = [U.copy(), A.copy(), b.copy()]
            parts[which][index] += step
            plus = objective(Xs, ys, *parts, K, 0.2, 0.4, s)
            parts[which][index] -= 2 * step
            minus = objective(Xs, ys, *parts, K, 0.2, 0.4, s)
            numeric[index] = (plus - minus) / (2 * step)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("form", ["lists", "shared"])
def test_converged_model_is_a_stationary_point(form):
    rng = np.random.default_rng(33)
    K = random_coupling(rng, 4, "pd")
    if form == "shared":
        X = rng.normal(size=(40, 6)) + 0.5
        Xs, ys = [X] * 4, list((X @ rng.normal(size=(6, 4)) + rng.normal(size=(40, 4)) + 2.0).T)
        args = (X, np.column_stack(ys))
    else:
        Xs, ys = small_problem(rng)
        args = (Xs, ys)
    alpha, alpha_u = 0.05, 0.2
    model = SharedSubspaceRegressor(n_components=2, coupling=K, alpha=alpha, alpha_u=alpha_u, tol=1e-13, max_iter=2000)
    fit_quietly(model, *args)
    s = sample_weights("uniform", [len(y) for y in ys])
    U, A, b = model_parts(model)
    grad_U, grad_A, grad_b = gradients(Xs, ys, U, A, b, K, alpha, alpha_u, s)
    # Scale: the gradient of the data term at W = 0 (with the intercepts of W = 0), as the regressor's KKT residual.
    scale = np.linalg.norm(np.column_stack([s_t * X.T @ (y - y.mean()) for X, y, s_t in zip(Xs, ys, s)]))
    assert np.linalg.norm(grad_A) <= 1e-8 * scale
    assert np.linalg.norm(grad_b) <= 1e-8 * scale
    assert np.linalg.norm(grad_U) <= 1e-5 * scale  # alternating minimisation: U converges linearly
    # U^T dF/dU - dF/dA A^T = 0 at a stationary point: the factors are balanced, alpha_U U^T U = alpha A K A^T.
    balance = alpha_u * U.T @ U
    np.testing.assert_allclose(balance, alpha * A @ K @ A.T, atol=1e-5 * np.linalg.norm(balance))


# ----------------------------------------------------------------------------- (d) the convex special case


def test_identity_coupling_with_full_rank_reaches_the_trace_norm_optimum():
    # With K = I and r >= rank(W): min_{UA = W} alpha/2 ||A||^2 + alpha_U/2 ||U||^2 = sqrt(alpha alpha_U) ||W||_*,
    # so the global minimum of F is the convex trace-norm problem's. Alternating minimisation only promises a
    # stationary point; on this instance (optimal rank 3 < r = 4) it reaches the global one.
    rng = np.random.default_rng(1)
    Xs, ys = small_problem(rng)
    alpha, alpha_u = 0.05, 0.2
    model = fit_quietly(
        SharedSubspaceRegressor(n_components=4, alpha=alpha, alpha_u=alpha_u, tol=1e-12, max_iter=2000), Xs, ys
    )
    convex = mt.KernelCoupledRegressor(
        coupling="identity", alpha=0.0, trace_norm=np.sqrt(alpha * alpha_u), tol=1e-12, max_iter=100000
    ).fit(Xs, ys)
    assert model.objective_ == pytest.approx(convex.objective_, rel=1e-8)
    np.testing.assert_allclose(model.coef_, convex.coef_, atol=1e-6)
    np.testing.assert_allclose(model.intercept_, convex.intercept_, atol=1e-6)


# ----------------------------------------------------------------------------- (e) transform


def test_transform_is_the_projection_on_the_components():
    rng = np.random.default_rng(40)
    Xs, ys, _ = planted_problem(rng, n_features=8, rank=2, n_tasks=5)
    model = fit_quietly(SharedSubspaceRegressor(n_components=3, alpha=1e-2), Xs, ys)
    assert model.components_.shape == (3, 8) and model.heads_.shape == (5, 3)
    X_new = rng.normal(size=(7, 8))
    Z = model.transform(X_new)
    assert Z.shape == (7, 3)
    np.testing.assert_allclose(Z, X_new @ model.components_.T, rtol=1e-14)
    Zs = model.transform(Xs[:2])
    assert isinstance(Zs, list) and [Z_t.shape for Z_t in Zs] == [(X.shape[0], 3) for X in Xs[:2]]
    for Z_t, X in zip(Zs, Xs):
        np.testing.assert_allclose(Z_t, X @ model.components_.T, rtol=1e-14)
    # Predictions are the heads applied to the representation.
    for t, (Z_t, prediction) in enumerate(zip(model.transform(Xs), model.predict(Xs))):
        np.testing.assert_allclose(prediction, Z_t @ model.heads_[t] + model.intercept_[t], rtol=1e-12)
    np.testing.assert_allclose(model.transform(sp.csr_array(X_new)), Z, rtol=1e-14)
    fit_transformed = clone(model).fit_transform(Xs, ys)
    for Z_t, X in zip(fit_transformed, Xs):
        np.testing.assert_allclose(Z_t, X @ model.components_.T, rtol=1e-14)


def test_single_task_has_one_non_zero_component():
    rng = np.random.default_rng(41)
    X = rng.normal(size=(50, 5))
    y = X @ rng.normal(size=5) + 0.1 * rng.normal(size=50)
    model = fit_quietly(SharedSubspaceRegressor(n_components=3, alpha=1e-3), X, y)
    assert model.predict(X).shape == (50,) and model.coef_.shape == (1, 5)
    np.testing.assert_array_equal(model.components_[1:], 0.0)
    assert np.all(model.components_[0] != 0)


# ----------------------------------------------------------------------------- (f) bad input


def test_bad_parameters_and_data_raise_value_errors_naming_them():
    rng = np.random.default_rng(50)
    Xs, ys = small_problem(rng, n_per_task=(10, 12), n_features=3)
    with pytest.raises(ValueError, match="n_components"):
        SharedSubspaceRegressor(n_components=0).fit(Xs, ys)
    with pytest.raises(ValueError, match=r"n_components=4 must be at most n_features=3"):
        SharedSubspaceRegressor(n_components=4).fit(Xs, ys)
    with pytest.raises(ValueError, match="'alpha'"):
        SharedSubspaceRegressor(alpha=0.0).fit(Xs, ys)
    with pytest.raises(ValueError, match="'alpha_u'"):
        SharedSubspaceRegressor(alpha_u=-1.0).fit(Xs, ys)
    with pytest.raises(ValueError, match="'max_iter'"):
        SharedSubspaceRegressor(max_iter=0).fit(Xs, ys)
    with pytest.raises(ValueError, match=r"coupling has shape \(3, 3\) but the data has 2 tasks"):
        SharedSubspaceRegressor(coupling=np.eye(3)).fit(Xs, ys)
    with pytest.raises(ValueError, match="coupling must be positive semidefinite"):
        SharedSubspaceRegressor(coupling=[[1.0, 2.0], [2.0, 1.0]]).fit(Xs, ys)
    with pytest.raises(ValueError, match="coupling must be positive definite for SharedSubspaceRegressor"):
        SharedSubspaceRegressor(coupling=[[1.0, -1.0], [-1.0, 1.0]]).fit(Xs, ys)  # a graph Laplacian: singular
    with pytest.raises(ValueError, match="task_weights must be finite and positive"):
        SharedSubspaceRegressor(task_weights=[1.0, -1.0]).fit(Xs, ys)
    bad = Xs[1].copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"X\[1\].*NaN"):
        SharedSubspaceRegressor().fit([Xs[0], bad], ys)
    with pytest.raises(ValueError, match=r"X\[1\] has 12 rows but y\[1\] has 11"):
        SharedSubspaceRegressor().fit(Xs, [ys[0], ys[1][:-1]])
    with pytest.raises(ValueError, match="tasks has 21 labels but X has 22 rows"):
        SharedSubspaceRegressor().fit(np.vstack(Xs), np.concatenate(ys), tasks=np.repeat([0, 1], [10, 11]))
    with pytest.raises(NotFittedError):
        SharedSubspaceRegressor().transform(Xs[0])
    model = SharedSubspaceRegressor().fit(Xs, ys)
    with pytest.raises(ValueError, match="X has 2 features, but SharedSubspaceRegressor is expecting 3"):
        model.transform(Xs[0][:, :2])
    with pytest.raises(ValueError, match=r"X\[1\] has 4 features"):
        model.transform([Xs[0], np.ones((2, 4))])
    with pytest.raises(ValueError, match="X holds 1 tasks but the model was fitted on 2"):
        model.predict(Xs[:1])


def test_convergence_warning_at_max_iter():
    rng = np.random.default_rng(51)
    Xs, ys = small_problem(rng)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        model = SharedSubspaceRegressor(tol=0.0, max_iter=1).fit(Xs, ys)
    assert model.n_iter_ == 1 and model.objective_history_.shape == (2,)


# ----------------------------------------------------------------------------- (g) the three input forms


def test_lists_shared_design_and_long_format_give_the_same_model():
    rng = np.random.default_rng(60)
    T, n, d = 4, 35, 6
    X = rng.normal(size=(n, d)) + 0.3
    Y = X @ np.linalg.qr(rng.normal(size=(d, 2)))[0] @ rng.normal(size=(2, T)) + 0.2 * rng.normal(size=(n, T)) + 1.0
    params = dict(n_components=2, alpha=0.02, coupling="mean_regularized", tol=1e-12, max_iter=1000)
    shared = fit_quietly(SharedSubspaceRegressor(**params), X, Y)
    lists = fit_quietly(SharedSubspaceRegressor(**params), [X] * T, list(Y.T))
    order = rng.permutation(n * T)  # shuffled rows; column t of Y is task "abcd"[t]
    X_long, y_long = np.vstack([X] * T)[order], Y.T.ravel()[order]
    tasks = np.repeat(np.array(["a", "b", "c", "d"]), n)[order]
    long = fit_quietly(SharedSubspaceRegressor(**params), X_long, y_long, tasks=tasks)
    np.testing.assert_array_equal(long.tasks_, ["a", "b", "c", "d"])
    for other in (lists, long):
        np.testing.assert_allclose(other.coef_, shared.coef_, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(other.intercept_, shared.intercept_, rtol=1e-7, atol=1e-9)
        assert other.objective_ == pytest.approx(shared.objective_, rel=1e-10)
        # The representation is defined up to an invertible r x r map: compare the spanned subspaces.
        assert np.max(subspace_angles(other.components_.T, shared.components_.T)) < 1e-6
    expected = np.column_stack(lists.predict([X] * T)).T.ravel()[order]
    np.testing.assert_allclose(long.predict(X_long, tasks=tasks), expected, rtol=1e-7, atol=1e-9)


def test_sparse_and_float32_designs_give_the_dense_model():
    rng = np.random.default_rng(61)
    Xs, ys = small_problem(rng)
    params = dict(n_components=2, alpha=0.05, tol=1e-12, max_iter=1000)
    dense = fit_quietly(SharedSubspaceRegressor(**params), Xs, ys)
    sparse = fit_quietly(SharedSubspaceRegressor(**params), [sp.csr_array(X) for X in Xs], ys)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-6, atol=1e-8)
    single = SharedSubspaceRegressor(**params).fit([X.astype(np.float32) for X in Xs], ys)
    np.testing.assert_allclose(single.coef_, dense.coef_, rtol=1e-3, atol=1e-4)
