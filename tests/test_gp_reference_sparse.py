"""The sparse (VFE) multi-task GP reference against its definition and the exact model."""

import numpy as np
import pytest

import multitask as mt
from gp_reference import log_marginal_likelihood, predict, random_hyper
from gp_reference_sparse import vfe_bound, vfe_bound_dense, vfe_predict

SPECS = [[("rbf", 2, 2)], [("matern52", 1, 1)], [("rbf", 1, 2), ("matern32", 0, 1)]]


def data(rng, sizes=(12, 20, 9)):
    tasks = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    X = rng.normal(size=(tasks.size, 2))
    return X, tasks, np.sin(X[:, 0]) + 0.5 * tasks + 0.1 * rng.normal(size=tasks.size)


@pytest.mark.parametrize("specs", SPECS, ids=["icm-rbf", "icm-matern52", "lcm"])
def test_fast_bound_equals_definition_and_is_a_lower_bound(specs):
    rng = np.random.default_rng(40)
    X, tasks, y = data(rng)
    hyper = random_hyper(rng, 3, specs, mean_scale=1.0)
    Z = rng.normal(size=(6, 2))
    bound = vfe_bound(X, tasks, y, Z, hyper)
    assert bound == pytest.approx(vfe_bound_dense(X, tasks, y, Z, hyper), rel=1e-10)
    assert bound < log_marginal_likelihood(X, tasks, y, hyper)


@pytest.mark.parametrize("specs", SPECS, ids=["icm-rbf", "icm-matern52", "lcm"])
def test_bound_is_exact_with_every_training_input_inducing(specs):
    rng = np.random.default_rng(41)
    X, tasks, y = data(rng)
    hyper = random_hyper(rng, 3, specs, mean_scale=1.0)
    exact = log_marginal_likelihood(X, tasks, y, hyper)
    assert vfe_bound(X, tasks, y, X, hyper, jitter=0.0) == pytest.approx(exact, rel=1e-10)
    X_new, tasks_new = rng.normal(size=(5, 2)), np.array([0, 1, 2, 2, 0])
    mean, cov = predict(X, tasks, y, hyper, X_new, tasks_new)
    sparse_mean, sparse_cov = vfe_predict(X, tasks, y, X, hyper, X_new, tasks_new, jitter=0.0)
    np.testing.assert_allclose(sparse_mean, mean, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(sparse_cov, cov, atol=1e-8)


def test_bound_grows_with_nested_inducing_sets():
    rng = np.random.default_rng(42)
    X, tasks, y = data(rng)
    hyper = random_hyper(rng, 3, SPECS[0], mean_scale=1.0)
    Z = rng.normal(size=(12, 2))
    bounds = [vfe_bound(X, tasks, y, Z[:m], hyper) for m in (2, 4, 8, 12)]
    assert np.all(np.diff(bounds) > 0)
    assert bounds[-1] < log_marginal_likelihood(X, tasks, y, hyper)


def test_vfe_mean_equals_nystroem_kernel_ridge_on_the_same_landmarks():
    """For an ICM, Q_ff = B ∘ k̃ with k̃ the Nyström kernel on Z (K_uu⁻¹ = B⁻¹ ⊗ K_zz⁻¹), so the VFE
    mean is MultiTaskKernelRidge(solver="nystroem") with landmarks Z and the α ↔ noise mapping of
    test_gp_reference.ridge_for (ω_t = α N / σ²_t)."""
    rng = np.random.default_rng(43)
    X, tasks, y = data(rng, sizes=(30, 40, 25))
    hyper = random_hyper(rng, 3, [("rbf", 2, 1)])
    term, alpha, n_total = hyper.terms[0], 0.3, y.size
    ridge = mt.MultiTaskKernelRidge(
        kernel="rbf", gamma=0.5 * np.exp(-2.0 * term.theta[0]), task_kernel=term.B, alpha=alpha,
        task_weights=alpha * n_total / np.exp(hyper.log_noise), fit_intercept=False,
        solver="nystroem", n_components=12, random_state=0,
    ).fit(X, y, tasks=tasks)
    X_new, tasks_new = rng.normal(size=(6, 2)), np.array([0, 1, 2, 0, 1, 2])
    mean, _ = vfe_predict(X, tasks, y, ridge.X_fit_, hyper, X_new, tasks_new, jitter=0.0)
    np.testing.assert_allclose(ridge.predict(X_new, tasks=tasks_new), mean, rtol=1e-8, atol=1e-10)
