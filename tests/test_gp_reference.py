"""Tests of the multi-task GP references themselves (tests/gp_reference*.py).

Each reference is checked against something computed another way: scikit-learn's kernels and
``GaussianProcessRegressor`` (T = 1), scipy's multivariate normal density, central finite
differences, the explicit Kronecker product, and the package's ``MultiTaskKernelRidge``.
"""

import numpy as np
import pytest
from scipy.stats import multivariate_normal
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, DotProduct, Matern, WhiteKernel

import multitask as mt
from gp_reference import (
    GPHyper,
    ICMTerm,
    gls_means,
    latent_covariance,
    log_marginal_likelihood,
    predict,
    random_hyper,
    shared_to_long,
    training_covariance,
)
from gp_reference_kernels import KERNELS, kernel_gradient, kernel_matrix
from gp_reference_kronecker import kronecker_log_marginal_likelihood, kronecker_predict

D = 2


def sklearn_kernel(kernel, length_scale):
    """scikit-learn's kernel with the same unit-variance parametrisation (module docstring)."""
    if kernel == "rbf":
        return RBF(length_scale)
    if kernel == "linear":
        return DotProduct(sigma_0=0.0, sigma_0_bounds="fixed")
    return Matern(length_scale, nu={"matern32": 1.5, "matern52": 2.5}[kernel])


def n_theta(kernel, ard):
    if kernel == "linear" and not ard:
        return 0
    return D if ard else 1


def per_task_data(rng, sizes=(12, 20, 9)):
    """Long-format data with unequal task sizes, rows interleaved across tasks."""
    tasks = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    X = rng.normal(size=(tasks.size, D))
    y = np.sin(X @ np.array([1.0, -0.5])) + 0.5 * tasks + 0.1 * rng.normal(size=tasks.size)
    return X, tasks, y


def finite_difference_gradient(function, vector, step=1e-5):
    """Central differences of a scalar function of a vector, one coordinate at a time."""
    gradient = np.empty_like(vector)
    for i in range(vector.size):
        e = np.zeros_like(vector)
        e[i] = step
        gradient[i] = (function(vector + e) - function(vector - e)) / (2.0 * step)
    return gradient


def assert_gradient_close(gradient, reference):
    scale = max(1.0, np.abs(reference).max())
    np.testing.assert_allclose(gradient, reference, rtol=1e-5, atol=1e-6 * scale)


# ------------------------------------------------------------------ input kernels


@pytest.mark.parametrize("ard", [True, False])
@pytest.mark.parametrize("kernel", KERNELS)
def test_kernel_values_and_gradients_match_sklearn(kernel, ard):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(15, D))
    theta = rng.uniform(-0.5, 0.5, size=n_theta(kernel, ard))
    lengths = np.exp(theta)
    if kernel == "linear":
        # ⟨x/l, x′/l⟩ is the plain dot product of scaled inputs.
        scaled = X / (lengths if theta.size else 1.0)
        expected = DotProduct(sigma_0=0.0, sigma_0_bounds="fixed")(scaled)
        np.testing.assert_allclose(kernel_matrix(kernel, X, X, theta), expected, rtol=1e-12)
        return
    length_scale = lengths if ard else float(lengths[0])
    expected, expected_gradient = sklearn_kernel(kernel, length_scale)(X, eval_gradient=True)
    np.testing.assert_allclose(kernel_matrix(kernel, X, X, theta), expected, rtol=1e-12, atol=1e-14)
    # scikit-learn's gradient is also with respect to log length-scales, shape (n, n, p).
    np.testing.assert_allclose(
        kernel_gradient(kernel, X, X, theta), np.moveaxis(expected_gradient, 2, 0), rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize("ard", [True, False])
@pytest.mark.parametrize("kernel", KERNELS)
def test_kernel_gradient_matches_finite_differences(kernel, ard):
    rng = np.random.default_rng(2)
    X1 = rng.normal(size=(7, D))
    X2 = np.vstack([rng.normal(size=(5, D)), X1[:2]])  # coincident points: r = 0
    theta = rng.uniform(-0.5, 0.5, size=n_theta(kernel, ard))
    gradient = kernel_gradient(kernel, X1, X2, theta)
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = 1e-6
        fd = (kernel_matrix(kernel, X1, X2, theta + e) - kernel_matrix(kernel, X1, X2, theta - e)) / 2e-6
        np.testing.assert_allclose(gradient[j], fd, rtol=1e-6, atol=1e-8)


def test_kernel_rejects_bad_arguments():
    X = np.zeros((3, D))
    with pytest.raises(ValueError, match="kernel"):
        kernel_matrix("cubic", X, X, [0.0])
    with pytest.raises(ValueError, match="theta"):
        kernel_matrix("rbf", X, X, np.zeros(3))
    with pytest.raises(ValueError, match="columns"):
        kernel_matrix("rbf", X, np.zeros((3, D + 1)), [0.0])


# --------------------------------------------------------- dense multi-task route


def test_covariance_is_the_definition():
    """Each entry is Σ_q B_q[t, s] k_q(x, x′) + [same sample] σ²_t, built pair by pair."""
    rng = np.random.default_rng(3)
    X, tasks, _ = per_task_data(rng, sizes=(4, 3, 5))
    hyper = random_hyper(rng, 3, [("rbf", 2, D), ("matern32", 0, 1), ("linear", 1, 0)])
    K = training_covariance(X, tasks, hyper)
    noise = np.exp(hyper.log_noise)
    for i in range(X.shape[0]):
        for j in range(X.shape[0]):
            entry = sum(
                q.B[tasks[i], tasks[j]] * kernel_matrix(q.kernel, X[i : i + 1], X[j : j + 1], q.theta)[0, 0]
                for q in hyper.terms
            )
            assert K[i, j] == pytest.approx(entry + (i == j) * noise[tasks[i]], rel=1e-12)


def test_log_marginal_likelihood_is_the_gaussian_density():
    rng = np.random.default_rng(4)
    X, tasks, y = per_task_data(rng)
    hyper = random_hyper(rng, 3, [("matern52", 1, D)], mean_scale=1.0)
    density = multivariate_normal(mean=hyper.mean[tasks], cov=training_covariance(X, tasks, hyper))
    assert log_marginal_likelihood(X, tasks, y, hyper) == pytest.approx(density.logpdf(y), rel=1e-12)


@pytest.mark.parametrize(
    "specs",
    [
        [("rbf", 2, D)],
        [("rbf", 1, 1)],
        [("matern32", 2, D)],
        [("matern52", 1, D)],
        [("linear", 2, D)],
        [("linear", 1, 0)],
        [("rbf", 1, D), ("matern32", 0, 1)],  # LCM, Q = 2, second term diagonal B
    ],
    ids=lambda specs: "+".join(f"{k}-r{r}-p{p}" for k, r, p in specs),
)
def test_lml_gradient_matches_finite_differences(specs):
    rng = np.random.default_rng(5)
    X, tasks, y = per_task_data(rng)
    hyper = random_hyper(rng, 3, specs, mean_scale=1.0)
    value, gradient = log_marginal_likelihood(X, tasks, y, hyper, eval_gradient=True)
    assert value == pytest.approx(log_marginal_likelihood(X, tasks, y, hyper))
    fd = finite_difference_gradient(
        lambda v: log_marginal_likelihood(X, tasks, y, hyper.from_vector(v)), hyper.to_vector()
    )
    assert_gradient_close(gradient, fd)


def test_gls_means_maximise_the_likelihood():
    """The mean gradient (checked against finite differences above) vanishes at the GLS means."""
    rng = np.random.default_rng(6)
    X, tasks, y = per_task_data(rng)
    hyper = random_hyper(rng, 3, [("rbf", 1, D)])
    best = hyper.from_vector(np.concatenate([hyper.to_vector()[:-3], gls_means(X, tasks, y, hyper)]))
    _, gradient = log_marginal_likelihood(X, tasks, y, best, eval_gradient=True)
    np.testing.assert_allclose(gradient[-3:], 0.0, atol=1e-9)
    assert np.abs(best.mean - hyper.mean).max() > 0.1  # the data's task offsets are not zero


def test_predictions_condition_the_joint_gaussian():
    """Mean and covariance from the (train + test) joint covariance by a block solve."""
    rng = np.random.default_rng(7)
    X, tasks, y = per_task_data(rng)
    hyper = random_hyper(rng, 3, [("rbf", 2, D)], mean_scale=1.0)
    X_new, tasks_new = rng.normal(size=(6, D)), np.array([0, 1, 2, 2, 1, 0])
    mean, cov = predict(X, tasks, y, hyper, X_new, tasks_new)
    X_all, tasks_all = np.vstack([X, X_new]), np.concatenate([tasks, tasks_new])
    joint = latent_covariance(X_all, tasks_all, X_all, tasks_all, hyper)
    n = X.shape[0]
    A = joint[:n, :n] + np.diag(np.exp(hyper.log_noise)[tasks])
    C = joint[n:, :n]
    np.testing.assert_allclose(mean, hyper.mean[tasks_new] + C @ np.linalg.solve(A, y - hyper.mean[tasks]))
    np.testing.assert_allclose(cov, joint[n:, n:] - C @ np.linalg.solve(A, C.T), atol=1e-12)
    _, noisy = predict(X, tasks, y, hyper, X_new, tasks_new, include_noise=True)
    np.testing.assert_allclose(np.diag(noisy - cov), np.exp(hyper.log_noise)[tasks_new])


def test_hyper_vector_round_trip_and_bad_input():
    rng = np.random.default_rng(8)
    hyper = random_hyper(rng, 3, [("rbf", 2, D), ("linear", 0, 0)], mean_scale=1.0)
    vector = hyper.to_vector()
    assert vector.size == (3 * 2 + 3 + D) + 3 + 3 + 3
    np.testing.assert_array_equal(hyper.from_vector(vector).to_vector(), vector)
    with pytest.raises(ValueError, match="vector"):
        hyper.from_vector(vector[:-1])
    with pytest.raises(ValueError, match="tasks"):
        log_marginal_likelihood(np.zeros((2, D)), np.array([0, 3]), np.zeros(2), hyper)


# ------------------------------------------------------- T = 1: scikit-learn's GPR


@pytest.mark.parametrize("kernel", KERNELS)
def test_single_task_equals_sklearn_gaussian_process(kernel):
    """T = 1, rank 0: B = κ is ConstantKernel(κ), σ² is WhiteKernel(σ²); θ = (log κ, log l, log σ²)."""
    rng = np.random.default_rng(9)
    X = rng.normal(size=(30, D))
    y = np.sin(X[:, 0]) + 0.1 * rng.normal(size=30)
    ard = kernel != "linear"
    theta = rng.uniform(-0.5, 0.5, size=n_theta(kernel, ard))
    kappa, noise = 1.7, 0.05
    hyper = GPHyper((ICMTerm(kernel, np.zeros((1, 0)), np.log([kappa]), theta),), np.log([noise]), np.zeros(1))
    sk_kernel = ConstantKernel(kappa) * sklearn_kernel(kernel, np.exp(theta)) + WhiteKernel(noise)
    gpr = GaussianProcessRegressor(sk_kernel, alpha=0.0, optimizer=None).fit(X, y)
    tasks = np.zeros(30, dtype=int)
    value, gradient = log_marginal_likelihood(X, tasks, y, hyper, eval_gradient=True)
    sk_value, sk_gradient = gpr.log_marginal_likelihood(gpr.kernel_.theta, eval_gradient=True)
    assert value == pytest.approx(sk_value, rel=1e-10)
    np.testing.assert_allclose(gradient[:-1], sk_gradient, rtol=1e-8, atol=1e-10)  # last: the mean

    X_new = rng.normal(size=(8, D))
    mean, cov = predict(X, tasks, y, hyper, X_new, np.zeros(8, dtype=int), include_noise=True)
    sk_mean, sk_std = gpr.predict(X_new, return_std=True)  # WhiteKernel's noise is in the std
    np.testing.assert_allclose(mean, sk_mean, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), sk_std, rtol=1e-8)


# ------------------------------------------------- shared design: Kronecker route


@pytest.mark.parametrize("kernel", KERNELS)
def test_kronecker_route_equals_dense_route(kernel):
    rng = np.random.default_rng(10)
    n, T = 14, 4
    X, Y = rng.normal(size=(n, D)), rng.normal(size=(n, T)) + np.arange(T)
    hyper = random_hyper(rng, T, [(kernel, 2, D)], mean_scale=1.0)
    hyper = GPHyper(hyper.terms, np.log([1e-3, 0.05, 0.3, 2.0]), hyper.mean)  # noise over 3 decades
    X_long, tasks_long, y_long = shared_to_long(X, Y)
    # The layout the Kronecker formulas assume: K = B ⊗ K_x + S ⊗ I.
    term = hyper.terms[0]
    expected_K = np.kron(term.B, kernel_matrix(kernel, X, X, term.theta)) + np.kron(
        np.diag(np.exp(hyper.log_noise)), np.eye(n)
    )
    np.testing.assert_allclose(training_covariance(X_long, tasks_long, hyper), expected_K, rtol=1e-13)

    value, gradient = kronecker_log_marginal_likelihood(X, Y, hyper, eval_gradient=True)
    dense_value, dense_gradient = log_marginal_likelihood(X_long, tasks_long, y_long, hyper, eval_gradient=True)
    assert value == pytest.approx(dense_value, rel=1e-10)
    assert_gradient_close(gradient, dense_gradient)

    X_new = rng.normal(size=(5, D))
    for include_noise in (False, True):
        mean, cov = kronecker_predict(X, Y, hyper, X_new, include_noise=include_noise)
        dense_mean, dense_cov = predict(
            X_long, tasks_long, y_long, hyper, np.tile(X_new, (T, 1)), np.repeat(np.arange(T), 5),
            include_noise=include_noise,
        )
        np.testing.assert_allclose(mean.T.ravel(), dense_mean, rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(cov, dense_cov, atol=1e-10)


def test_kronecker_route_needs_one_term():
    rng = np.random.default_rng(11)
    hyper = random_hyper(rng, 2, [("rbf", 1, 1), ("rbf", 1, 1)])
    with pytest.raises(ValueError, match="one ICM term"):
        kronecker_log_marginal_likelihood(np.zeros((3, D)), np.zeros((3, 2)), hyper)


# --------------------------------------- posterior mean = MultiTaskKernelRidge


def ridge_for(hyper, n_total, alpha=0.3, **kwargs):
    """MultiTaskKernelRidge with the GP's posterior mean.

    The ridge solves (M + α N Ω⁻¹) c = y, M[(s,i),(t,j)] = B_st k(x_si, x_tj), with Ω the per-sample
    task weights ω_t (an array is used as given); the GP solves (M + diag(σ²_t)) c = y − m. So any
    α > 0 with ω_t = α N / σ²_t gives ridge α N / ω_t = σ²_t and the same c: with uniform weights
    this is α = σ²/N. fit_intercept=False is the zero-mean GP; fit_intercept=True fits the task
    intercepts by the bordered system, which is the GLS mean (:func:`gp_reference.gls_means`).
    """
    term = hyper.terms[0]
    weights = alpha * n_total / np.exp(hyper.log_noise)
    return mt.MultiTaskKernelRidge(task_kernel=term.B, alpha=alpha, task_weights=weights, **kwargs)


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("kernel", ["rbf", "rbf-ard", "matern52"])
def test_posterior_mean_equals_kernel_ridge_per_task_inputs(kernel, fit_intercept):
    rng = np.random.default_rng(12)
    X, tasks, y = per_task_data(rng)
    ard = kernel == "rbf-ard"
    name = "matern52" if kernel == "matern52" else "rbf"
    hyper = random_hyper(rng, 3, [(name, 2, D if ard else 1)])
    term = hyper.terms[0]
    if fit_intercept:
        hyper = hyper.from_vector(np.concatenate([hyper.to_vector()[:-3], gls_means(X, tasks, y, hyper)]))
    X_new, tasks_new = rng.normal(size=(9, D)), np.repeat(np.arange(3), 3)
    gp_mean, _ = predict(X, tasks, y, hyper, X_new, tasks_new)

    if name == "rbf":
        # exp(−γ‖x − x′‖²) on inputs divided by the length-scales, γ = ½.
        lengths = np.exp(term.theta)
        ridge = ridge_for(hyper, y.size, kernel="rbf", gamma=0.5, fit_intercept=fit_intercept)
        ridge.fit(X / lengths, y, tasks=tasks)
        ridge_mean = ridge.predict(X_new / lengths, tasks=tasks_new)
    else:
        ridge = ridge_for(hyper, y.size, kernel=lambda A, B: kernel_matrix(name, A, B, term.theta),
                          fit_intercept=fit_intercept)
        ridge_mean = ridge.fit(X, y, tasks=tasks).predict(X_new, tasks=tasks_new)
    np.testing.assert_allclose(ridge_mean, gp_mean, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_posterior_mean_equals_kernel_ridge_shared_design(fit_intercept):
    rng = np.random.default_rng(13)
    n, T = 25, 4
    X = rng.normal(size=(n, D))
    Y = np.column_stack([np.cos(X @ [1.0, 0.3 * t]) + t for t in range(T)]) + 0.05 * rng.normal(size=(n, T))
    hyper = random_hyper(rng, T, [("rbf", 2, 1)])
    if fit_intercept:
        hyper = hyper.from_vector(np.concatenate([hyper.to_vector()[:-T], gls_means(*shared_to_long(X, Y), hyper)]))
    X_new = rng.normal(size=(7, D))
    gp_mean, _ = kronecker_predict(X, Y, hyper, X_new)
    gamma = 0.5 * np.exp(-2.0 * hyper.terms[0].theta[0])  # exp(−r²/2) with r = ‖x − x′‖/l
    ridge = ridge_for(hyper, n * T, kernel="rbf", gamma=gamma, fit_intercept=fit_intercept).fit(X, Y)
    assert ridge.solver_ == "kronecker"
    np.testing.assert_allclose(ridge.predict(X_new), gp_mean, rtol=1e-7, atol=1e-8)
