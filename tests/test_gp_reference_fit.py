"""ML-II on the GP references: scikit-learn's fit from the same start (T = 1), a planted B recovered."""

import numpy as np
import pytest
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

from gp_reference import GPHyper, ICMTerm, log_marginal_likelihood, shared_to_long, training_covariance
from gp_reference_fit import maximise_log_likelihood, sample_gaussian
from gp_reference_kronecker import kronecker_log_marginal_likelihood


def correlation(B):
    d = np.sqrt(np.diag(B))
    return B / np.outer(d, d)


def test_single_task_fit_equals_sklearn_from_the_same_start():
    """Same start, same bounds (scikit-learn's defaults 1e-5 … 1e5): same optimum, same likelihood."""
    rng = np.random.default_rng(30)
    X = rng.uniform(-3, 3, size=(40, 2))
    y = np.sin(X[:, 0]) * np.cos(0.5 * X[:, 1]) + 0.1 * rng.normal(size=40)
    start = GPHyper((ICMTerm("rbf", np.zeros((1, 0)), np.zeros(1), np.zeros(2)),), np.log([0.3]), np.zeros(1))
    kernel = ConstantKernel(1.0) * RBF(np.ones(2)) + WhiteKernel(0.3)
    gpr = GaussianProcessRegressor(kernel, alpha=0.0).fit(X, y)

    tasks = np.zeros(40, dtype=int)
    free = np.array([True, True, True, True, False])  # log κ, log l_1, log l_2, log σ²; not the mean
    bounds = [(np.log(1e-5), np.log(1e5))] * 4
    best, value = maximise_log_likelihood(
        lambda v: log_marginal_likelihood(X, tasks, y, start.from_vector(v), eval_gradient=True),
        start.to_vector(), free=free, bounds=bounds,
    )
    assert value == pytest.approx(gpr.log_marginal_likelihood_value_, rel=1e-7)
    np.testing.assert_allclose(best[free], gpr.kernel_.theta, atol=1e-4)


def test_planted_task_correlations_are_recovered():
    """Data drawn from a rank-one-plus-diagonal B (two tasks alike, one opposed): ML-II finds it."""
    rng = np.random.default_rng(20)
    n, T = 80, 3
    X = rng.uniform(-3, 3, size=(n, 1))
    planted = GPHyper(
        (ICMTerm("rbf", np.array([[1.0], [0.9], [-0.8]]), np.log(np.full(T, 0.05)), np.log([0.7])),),
        np.log([0.01, 0.02, 0.04]),
        np.zeros(T),
    )
    X_long, tasks_long, _ = shared_to_long(X, np.zeros((n, T)))
    y = sample_gaussian(rng, np.zeros(n * T), training_covariance(X_long, tasks_long, planted), 1)[0]
    Y = y.reshape(T, n).T
    # L = 0 is a stationary point (∂/∂L = 2 G_B L), so the start is random, not zero.
    start = GPHyper((ICMTerm("rbf", rng.normal(scale=0.3, size=(T, 1)), np.zeros(T), np.zeros(1)),),
                    np.log(np.full(T, 0.1)), np.zeros(T))
    free = np.r_[np.ones(start.to_vector().size - T, dtype=bool), np.zeros(T, dtype=bool)]
    best, value = maximise_log_likelihood(
        lambda v: kronecker_log_marginal_likelihood(X, Y, start.from_vector(v), eval_gradient=True),
        start.to_vector(), free=free,
    )
    fitted = start.from_vector(best)
    assert value >= kronecker_log_marginal_likelihood(X, Y, planted)
    np.testing.assert_allclose(correlation(fitted.terms[0].B), correlation(planted.terms[0].B), atol=0.1)
    assert np.exp(fitted.terms[0].theta[0]) == pytest.approx(0.7, rel=0.3)
    np.testing.assert_allclose(fitted.log_noise, planted.log_noise, atol=np.log(2.0))


def test_samples_have_the_requested_covariance():
    rng = np.random.default_rng(31)
    A = rng.normal(size=(4, 4))
    cov, mean = A @ A.T + 0.1 * np.eye(4), rng.normal(size=4)
    draws = sample_gaussian(rng, mean, cov, 20000)
    np.testing.assert_allclose(draws.mean(axis=0), mean, atol=5 * np.sqrt(np.diag(cov).max() / 20000))
    np.testing.assert_allclose(np.cov(draws.T), cov, atol=0.06 * np.abs(cov).max())
