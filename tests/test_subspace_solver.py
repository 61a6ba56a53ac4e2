"""The core's solver of SharedSubspaceRegressor against independent numpy references.

F(U, A, b) = sum_t s_t/2 ||y_t - X_t U a_t - b_t||^2 + alpha/2 tr(A K A^T) + alpha_U/2 ||U||_F^2 (see
tests/test_subspace.py for the references used here: the objective, its gradients, the dense U step and heads).
The previous implementation minimised F by plain alternation from the same ridge start; here that alternation is
rewritten densely in numpy and run to convergence, and the core's result must be at least as good.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

import multitask as mt
from multitask._subspace import SharedSubspaceRegressor
from reference import random_coupling
from test_subspace import (
    dense_heads,
    dense_u_step,
    gradients,
    model_parts,
    objective,
    planted_problem,
    sample_weights,
    small_problem,
)


def centred(Xs, ys):
    return [X - X.mean(axis=0) for X in Xs], [y - y.mean() for y in ys]


def ridge_start(Xs, ys, r, alpha, alpha_u, s):
    """U_0 = (alpha/alpha_U)^(1/4) P_r Sigma_r^(1/2), W_0 = P Sigma Q^T the independent ridge solutions."""
    Xc, yc = centred(Xs, ys)
    W0 = np.column_stack(
        [np.linalg.solve(s_t * X.T @ X + alpha * np.eye(X.shape[1]), s_t * X.T @ y) for X, y, s_t in zip(Xc, yc, s)]
    )
    P, singular_values, _ = np.linalg.svd(W0)
    return (alpha / alpha_u) ** 0.25 * P[:, :r] * np.sqrt(singular_values[:r])


def alternation(Xs, ys, U, K, alpha, alpha_u, s, sweeps=3000, rtol=1e-14):
    """The previous implementation's iteration, densely: exact heads, exact U, until F stops decreasing."""
    history = []
    for _ in range(sweeps):
        A = dense_heads(Xs, ys, U, K, alpha, s, True)
        b = np.array([y.mean() - X.mean(axis=0) @ U @ a for X, y, a in zip(Xs, ys, A.T)])
        history.append(objective(Xs, ys, U, A, b, K, alpha, alpha_u, s))
        if len(history) > 1 and history[-2] - history[-1] <= rtol * abs(history[-1]):
            break
        U = dense_u_step(Xs, ys, U.shape, A, alpha_u, s, True)
    return history[-1]


def zero_threshold(Xs, ys, K, s):
    """||C K^-1/2||_2: W = 0 is optimal iff sqrt(alpha alpha_U) is at least this."""
    Xc, yc = centred(Xs, ys)
    C = np.column_stack([s_t * X.T @ y for X, y, s_t in zip(Xc, yc, s)])
    values, vectors = np.linalg.eigh(K)
    return np.linalg.norm(C @ vectors @ np.diag(values**-0.5) @ vectors.T, 2)


def fit_quietly(model, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return model.fit(*args)


@pytest.mark.parametrize("seed, coupling, r", [(0, "identity", 2), (1, "pd", 2), (2, "identity", 3), (3, "pd", 1)])
def test_objective_is_never_above_the_previous_alternation_from_the_same_start(seed, coupling, r):
    rng = np.random.default_rng(seed)
    Xs, ys = small_problem(rng, n_per_task=(20, 25, 30, 35, 28), n_features=6)
    K = random_coupling(rng, 5, "pd") if coupling == "pd" else np.eye(5)
    alpha, alpha_u = 0.02, 0.05
    s = sample_weights("uniform", [len(y) for y in ys])
    model = fit_quietly(
        SharedSubspaceRegressor(n_components=r, coupling=K, alpha=alpha, alpha_u=alpha_u, tol=1e-10), Xs, ys
    )
    U0 = ridge_start(Xs, ys, r, alpha, alpha_u, s)
    A0 = dense_heads(Xs, ys, U0, K, alpha, s, True)
    b0 = np.array([y.mean() - X.mean(axis=0) @ U0 @ a for X, y, a in zip(Xs, ys, A0.T)])
    assert model.objective_history_[0] == pytest.approx(objective(Xs, ys, U0, A0, b0, K, alpha, alpha_u, s), rel=1e-10)
    previous = alternation(Xs, ys, U0, K, alpha, alpha_u, s)
    assert model.objective_ <= previous + 1e-10 * abs(previous)
    # and the value is F at the returned parameters
    assert model.objective_ == pytest.approx(objective(Xs, ys, *model_parts(model), K, alpha, alpha_u, s), rel=1e-12)


@pytest.mark.parametrize("layout", ["lists", "sparse", "shared", "long"])
@pytest.mark.parametrize("coupling", ["identity", "pd"])
def test_default_tolerance_gives_a_stationary_balanced_point(layout, coupling):
    rng = np.random.default_rng(5)
    T = 5
    if layout == "shared":
        X = rng.normal(size=(45, 7)) + 0.3
        Xs, ys = [X] * T, list((X @ rng.normal(size=(7, 2)) @ rng.normal(size=(2, T)) + rng.normal(size=(45, T))).T)
    else:
        Xs, ys, _ = planted_problem(rng, n_features=7, rank=2, n_tasks=T, noise=0.5, n_range=(20, 50))
    K = random_coupling(rng, T, "pd") if coupling == "pd" else np.eye(T)
    alpha, alpha_u = 0.01, 0.03
    model = SharedSubspaceRegressor(n_components=3, coupling=K, alpha=alpha, alpha_u=alpha_u)  # tol=1e-6
    if layout == "shared":
        fit_quietly(model, Xs[0], np.column_stack(ys))
    elif layout == "sparse":
        fit_quietly(model, [sp.csr_array(X) for X in Xs], ys)
    elif layout == "long":
        fit_quietly(model, *mt.model_selection.to_long_format(Xs, ys))
    else:
        fit_quietly(model, Xs, ys)
    s = sample_weights("uniform", [len(y) for y in ys])
    U, A, b = model_parts(model)
    grad_U, grad_A, grad_b = gradients(Xs, ys, U, A, b, K, alpha, alpha_u, s)
    # The stopping rule, from the numpy gradient: ||grad_U F|| <= tol alpha_U ||U||.
    assert np.linalg.norm(grad_U) <= 1e-6 * alpha_u * np.linalg.norm(U)
    scale = alpha * np.linalg.norm(A @ K)
    assert np.linalg.norm(grad_A) <= 1e-9 * scale  # the heads are exact at every iterate
    assert np.linalg.norm(grad_b) <= 1e-9 * scale
    # U^T grad_U - grad_A A^T = alpha_U U^T U - alpha A K A^T: balanced at a stationary point.
    balance = alpha_u * U.T @ U
    np.testing.assert_allclose(balance, alpha * A @ K @ A.T, atol=1e-5 * np.linalg.norm(balance))


@pytest.mark.parametrize("coupling", ["identity", "pd"])
def test_zero_solution_is_certified_exactly_at_its_threshold(coupling):
    rng = np.random.default_rng(7)
    Xs, ys = small_problem(rng)
    K = random_coupling(rng, 4, "pd") if coupling == "pd" else np.eye(4)
    s = sample_weights("uniform", [len(y) for y in ys])
    threshold = zero_threshold(Xs, ys, K, s)
    alpha_u = 0.5 * threshold
    above = SharedSubspaceRegressor(n_components=2, coupling=K, alpha=1.001 * threshold**2 / alpha_u,
                                    alpha_u=alpha_u).fit(Xs, ys)
    assert above.n_iter_ == 1 and above.objective_history_.shape == (2,)  # the certificate counts as one
    np.testing.assert_array_equal(above.coef_, 0.0)
    np.testing.assert_allclose(above.intercept_, [y.mean() for y in ys], rtol=1e-12)
    zero = objective(Xs, ys, *model_parts(above), K, above.alpha, alpha_u, s)
    assert above.objective_ == pytest.approx(zero, rel=1e-12)
    below = fit_quietly(SharedSubspaceRegressor(n_components=2, coupling=K, alpha=0.98 * threshold**2 / alpha_u,
                                                alpha_u=alpha_u), Xs, ys)
    assert below.n_iter_ > 0 and np.abs(below.coef_).max() > 0 and below.objective_ < zero


def test_warm_start_from_a_converged_fit_does_not_iterate():
    rng = np.random.default_rng(8)
    Xs, ys, _ = planted_problem(rng, n_features=8, rank=2, n_tasks=6)
    model = fit_quietly(SharedSubspaceRegressor(n_components=2, alpha=1e-2, tol=1e-9, warm_start=True), Xs, ys)
    first = model.objective_
    fit_quietly(model, Xs, ys)
    assert model.n_iter_ == 0 and model.objective_ == pytest.approx(first, rel=1e-12)
    # A changed n_components falls back to the ridge start.
    fit_quietly(model.set_params(n_components=3), Xs, ys)
    assert model.components_.shape == (3, 8) and model.n_iter_ > 0


def test_gradient_reference_matches_the_stopping_value():
    # relative gradient after max_iter=6 iterations (the 5 sweeps and one Newton step), as numpy computes it.
    rng = np.random.default_rng(9)
    Xs, ys = small_problem(rng)
    K, alpha, alpha_u = np.eye(4), 0.01, 0.02
    with pytest.warns(ConvergenceWarning, match=r"relative gradient \|\|grad_U F\|\| / \(alpha_U \|\|U\|\|\) (\S+)"):
        model = SharedSubspaceRegressor(n_components=3, alpha=alpha, alpha_u=alpha_u, tol=1e-15, max_iter=6).fit(
            Xs, ys
        )
    s = sample_weights("uniform", [len(y) for y in ys])
    U, A, b = model_parts(model)
    grad_U = gradients(Xs, ys, U, A, b, K, alpha, alpha_u, s)[0]
    assert model.n_iter_ == 6 and model.objective_history_.shape == (7,)
    assert np.all(np.diff(model.objective_history_) <= 1e-13 * np.abs(model.objective_history_[:-1]))
    assert np.linalg.norm(grad_U) / (alpha_u * np.linalg.norm(U)) > 1e-15
