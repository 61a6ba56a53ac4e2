"""The sparse (VFE) route of the multi-task GP: bound, gradient, posterior, inducing inputs.

References: tests/gp_reference_sparse.py (the bound from its definition with N × N matrices and
its O(N M²) form, VFE prediction), tests/gp_reference.py (exact LML and prediction), central
finite differences for the gradient.
"""

import numpy as np
import pytest

from gp_covariance_numpy import ExplicitCovariance, VectorisedCovariance, exact_objective, terms_from_vector
from gp_reference import (
    GPHyper,
    covariance_derivatives,
    gls_means,
    log_marginal_likelihood,
    predict,
    random_hyper,
)
from gp_reference_sparse import vfe_bound, vfe_bound_dense
from gp_reference_sparse import vfe_predict as reference_vfe_predict
from multitask._errors import NumericalError
from multitask._gp_sparse import VFEPosterior, choose_inducing_inputs, vfe_objective, vfe_predict

# (kernel, rank, n_theta) per term; d = 2 inputs.
SPECS = {
    "rbf-ard-rank2": [("rbf", 2, 2)],
    "matern52-rank0": [("matern52", 0, 1)],
    "matern32-rank1": [("matern32", 1, 2)],
    "linear-ard": [("linear", 1, 2)],
    "linear-plain": [("linear", 2, 0)],
    "lcm-rbf-matern32": [("rbf", 1, 2), ("matern32", 0, 1)],
}


def data(rng, sizes=(12, 20, 9), d=2):
    tasks = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    X = rng.normal(size=(tasks.size, d))
    return X, tasks, np.sin(X[:, 0]) + 0.5 * tasks + 0.1 * rng.normal(size=tasks.size)


def split(hyper: GPHyper):
    """(covariance functions, log σ², m) of the reference hyperparameters."""
    return ExplicitCovariance(hyper.terms), hyper.log_noise, hyper.mean


def full_objective(hyper, X, tasks, y, Z, jitter, functions_class=ExplicitCovariance):
    """F and its gradient as a function of the whole vector [covariance, log σ², m]."""
    T = hyper.n_tasks

    def objective(vector):
        n_cov = vector.size - 2 * T
        terms = terms_from_vector(hyper.terms, vector[:n_cov])
        return vfe_objective(functions_class(terms), X, tasks, y, Z, vector[n_cov : n_cov + T],
                             vector[n_cov + T :], eval_gradient=True, jitter=jitter)

    return objective


def central_differences(objective, vector, step=1e-6):
    out = np.empty(vector.size)
    for j in range(vector.size):
        e = np.zeros(vector.size)
        e[j] = step
        out[j] = (objective(vector + e)[0] - objective(vector - e)[0]) / (2.0 * step)
    return out


# --- the numpy stand-ins of the covariance functions -------------------------------------------


@pytest.mark.parametrize("name", SPECS)
def test_explicit_stand_in_matches_reference_derivatives_and_finite_differences(name):
    rng = np.random.default_rng(1)
    X, tasks, _ = data(rng)
    hyper = random_hyper(rng, 3, SPECS[name])
    functions = ExplicitCovariance(hyper.terms)
    n_cov = hyper.to_vector().size - 6
    references = covariance_derivatives(X, tasks, hyper)[:n_cov]
    for mine, reference in zip(functions.derivatives(X, tasks, X, tasks), references, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-14)
    # Cross arguments (X1 ≠ X2), which the reference's derivatives do not cover: finite differences.
    X2, t2 = rng.normal(size=(7, 2)), rng.integers(0, 3, size=7)
    W = rng.normal(size=(X.shape[0], 7))
    cov_vector = hyper.to_vector()[:n_cov]

    def weighted(vector):
        return np.sum(W * ExplicitCovariance(terms_from_vector(hyper.terms, vector)).covariance(X, tasks, X2, t2)),

    np.testing.assert_allclose(functions.gradient(X, tasks, X2, t2, W), central_differences(weighted, cov_vector),
                               rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", SPECS)
def test_vectorised_stand_in_equals_explicit(name):
    rng = np.random.default_rng(2)
    X, tasks, _ = data(rng)
    hyper = random_hyper(rng, 3, SPECS[name])
    slow, fast = ExplicitCovariance(hyper.terms), VectorisedCovariance(hyper.terms)
    X2, t2 = rng.normal(size=(7, 2)), rng.integers(0, 3, size=7)
    W, w = rng.normal(size=(X.shape[0], 7)), rng.normal(size=X.shape[0])
    np.testing.assert_allclose(fast.covariance(X, tasks, X2, t2), slow.covariance(X, tasks, X2, t2), rtol=1e-12)
    np.testing.assert_allclose(fast.diagonal(X, tasks), slow.diagonal(X, tasks), rtol=1e-12)
    np.testing.assert_allclose(fast.gradient(X, tasks, X2, t2, W), slow.gradient(X, tasks, X2, t2, W),
                               rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(fast.diagonal_gradient(X, tasks, w), slow.diagonal_gradient(X, tasks, w),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["rbf-ard-rank2", "lcm-rbf-matern32", "linear-ard"])
def test_exact_objective_through_the_protocol_equals_reference(name):
    rng = np.random.default_rng(3)
    X, tasks, y = data(rng)
    hyper = random_hyper(rng, 3, SPECS[name], mean_scale=1.0)
    value, gradient = exact_objective(VectorisedCovariance(hyper.terms), X, tasks, y, hyper.log_noise,
                                      hyper.mean, eval_gradient=True)
    ref_value, ref_gradient = log_marginal_likelihood(X, tasks, y, hyper, eval_gradient=True)
    assert value == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(gradient, ref_gradient, rtol=1e-9, atol=1e-10)


# --- the bound -----------------------------------------------------------------------------------


@pytest.mark.parametrize("jitter", [0.0, 1e-8, 1e-2])
@pytest.mark.parametrize("name", SPECS)
def test_bound_equals_reference_and_definition(name, jitter):
    rng = np.random.default_rng(4)
    X, tasks, y = data(rng)
    hyper = random_hyper(rng, 3, SPECS[name], mean_scale=1.0)
    linear = name.startswith("linear")
    # A linear kernel has rank d (= 2): d generic inducing inputs span it, more would be singular.
    Z = rng.normal(size=(2 if linear else 6, 2))
    value = vfe_objective(*split(hyper)[:1], X, tasks, y, Z, hyper.log_noise, hyper.mean, jitter=jitter)
    assert value == pytest.approx(vfe_bound(X, tasks, y, Z, hyper, jitter=jitter), rel=1e-11)
    assert value == pytest.approx(vfe_bound_dense(X, tasks, y, Z, hyper, jitter=jitter), rel=1e-9)
    exact = log_marginal_likelihood(X, tasks, y, hyper)
    if linear and jitter == 0.0:  # the Nyström approximation of a rank-d kernel on d points is exact
        assert value == pytest.approx(exact, rel=1e-10)
    else:
        assert value < exact


@pytest.mark.parametrize("jitter", [1e-8, 1e-2])
@pytest.mark.parametrize("name", SPECS)
def test_gradient_equals_finite_differences_for_every_coordinate(name, jitter):
    """Every covariance hyperparameter, the per-task log noises and the means; the large jitter
    checks the jitter's own contribution (ε tr(K_uu)/M depends on the hyperparameters)."""
    rng = np.random.default_rng(5)
    X, tasks, y = data(rng)
    hyper = random_hyper(rng, 3, SPECS[name], mean_scale=1.0)
    Z = rng.normal(size=(2 if name.startswith("linear") else 6, 2))
    objective = full_objective(hyper, X, tasks, y, Z, jitter)
    vector = hyper.to_vector()
    value, gradient = objective(vector)
    assert value == pytest.approx(vfe_bound(X, tasks, y, Z, hyper, jitter=jitter), rel=1e-11)
    np.testing.assert_allclose(gradient, central_differences(objective, vector), rtol=2e-6, atol=1e-6)


def test_gradient_with_the_vectorised_stand_in_equals_the_explicit_one():
    rng = np.random.default_rng(6)
    X, tasks, y = data(rng)
    hyper = random_hyper(rng, 3, SPECS["lcm-rbf-matern32"], mean_scale=1.0)
    Z = rng.normal(size=(6, 2))
    vector = hyper.to_vector()
    slow = full_objective(hyper, X, tasks, y, Z, 1e-8)(vector)
    fast = full_objective(hyper, X, tasks, y, Z, 1e-8, VectorisedCovariance)(vector)
    assert fast[0] == pytest.approx(slow[0], rel=1e-12)
    np.testing.assert_allclose(fast[1], slow[1], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", ["rbf-ard-rank2", "matern52-rank0", "lcm-rbf-matern32"])
def test_bound_and_gradient_are_exact_with_every_training_input_inducing(name):
    """Z = X: every (x_i, t) is an inducing point, Q = K_ff, so F ≡ log p(y) as a function of the
    hyperparameters; hence the gradients agree too (an independent check of the gradient)."""
    rng = np.random.default_rng(7)
    X, tasks, y = data(rng)
    hyper = random_hyper(rng, 3, SPECS[name], mean_scale=1.0)
    value, gradient = full_objective(hyper, X, tasks, y, X, 0.0)(hyper.to_vector())
    exact, exact_gradient = log_marginal_likelihood(X, tasks, y, hyper, eval_gradient=True)
    assert value == pytest.approx(exact, rel=1e-9)
    np.testing.assert_allclose(gradient, exact_gradient, rtol=1e-6, atol=1e-7)


def test_bound_is_below_the_exact_likelihood_and_grows_with_nested_inducing_sets():
    rng = np.random.default_rng(8)
    X, tasks, y = data(rng)
    hyper = random_hyper(rng, 3, SPECS["rbf-ard-rank2"], mean_scale=1.0)
    exact = log_marginal_likelihood(X, tasks, y, hyper)
    Z = rng.normal(size=(16, 2))
    bounds = [vfe_objective(*split(hyper)[:1], X, tasks, y, Z[:m], hyper.log_noise, hyper.mean, jitter=0.0)
              for m in (1, 2, 4, 8, 16)]
    assert np.all(np.diff(bounds) > 0)
    assert bounds[-1] < exact


# --- the posterior --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["rbf-ard-rank2", "matern32-rank1", "lcm-rbf-matern32"])
def test_prediction_equals_reference(name):
    rng = np.random.default_rng(9)
    X, tasks, y = data(rng)
    hyper = random_hyper(rng, 3, SPECS[name], mean_scale=1.0)
    Z = rng.normal(size=(6, 2))
    X_new, tasks_new = rng.normal(size=(8, 2)), rng.integers(0, 3, size=8)
    ref_mean, ref_cov = reference_vfe_predict(X, tasks, y, Z, hyper, X_new, tasks_new, jitter=1e-8)
    functions, log_noise, mean = split(hyper)
    posterior = VFEPosterior.from_data(functions, X, tasks, y, Z, log_noise, mean, jitter=1e-8)
    mean_full, cov = posterior.predict(X_new, tasks_new, full_cov=True)
    mean_diag, variance = posterior.predict(X_new, tasks_new)
    np.testing.assert_allclose(mean_full, ref_mean, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(mean_diag, ref_mean, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(cov, ref_cov, atol=1e-9)
    np.testing.assert_allclose(variance, np.diag(ref_cov), atol=1e-9)
    np.testing.assert_allclose(posterior.predict_mean(X_new, tasks_new), ref_mean, rtol=1e-9, atol=1e-10)
    one_off = vfe_predict(functions, X, tasks, y, Z, log_noise, mean, X_new, tasks_new, jitter=1e-8)
    np.testing.assert_allclose(one_off[1], variance, rtol=1e-12)


def test_blocked_prediction_equals_one_block(monkeypatch):
    import multitask._gp_sparse as sparse

    rng = np.random.default_rng(17)
    X, tasks, y = data(rng)
    hyper = random_hyper(rng, 3, SPECS["rbf-ard-rank2"], mean_scale=1.0)
    posterior = VFEPosterior.from_data(*split(hyper)[:1], X, tasks, y, X[:5], hyper.log_noise, hyper.mean)
    X_new, tasks_new = rng.normal(size=(11, 2)), rng.integers(0, 3, size=11)
    whole = posterior.predict(X_new, tasks_new)
    monkeypatch.setattr(sparse, "_chunks", lambda n: [slice(a, min(a + 3, n)) for a in range(0, n, 3)])
    blocked = posterior.predict(X_new, tasks_new)
    np.testing.assert_allclose(blocked[0], whole[0], rtol=1e-13)
    np.testing.assert_allclose(blocked[1], whole[1], rtol=1e-13)
    np.testing.assert_allclose(posterior.predict_mean(X_new, tasks_new), whole[0], rtol=1e-13)


def test_prediction_is_exact_with_every_training_input_inducing():
    rng = np.random.default_rng(10)
    X, tasks, y = data(rng)
    hyper = random_hyper(rng, 3, SPECS["lcm-rbf-matern32"], mean_scale=1.0)
    X_new, tasks_new = rng.normal(size=(5, 2)), np.array([0, 1, 2, 2, 0])
    ref_mean, ref_cov = predict(X, tasks, y, hyper, X_new, tasks_new)
    mean, cov = vfe_predict(*split(hyper)[:1], X, tasks, y, X, hyper.log_noise, hyper.mean, X_new, tasks_new,
                            full_cov=True, jitter=0.0)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(cov, ref_cov, atol=1e-8)


# --- inducing inputs ------------------------------------------------------------------------------


def test_inducing_inputs_are_distinct_rows_and_deterministic_given_the_seed():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(200, 3))
    Z = choose_inducing_inputs(X, 20, random_state=0)
    assert Z.shape == (20, 3)
    assert np.unique(Z, axis=0).shape[0] == 20
    assert all(np.any(np.all(X == z, axis=1)) for z in Z)  # rows of X
    np.testing.assert_array_equal(Z, choose_inducing_inputs(X, 20, random_state=0))
    assert not np.array_equal(Z, choose_inducing_inputs(X, 20, random_state=1))


def test_inducing_inputs_never_exceed_the_distinct_rows():
    rng = np.random.default_rng(12)
    X = np.repeat(rng.normal(size=(7, 2)), 30, axis=0)
    Z = choose_inducing_inputs(X, 50, random_state=0)
    assert Z.shape == (7, 2)
    np.testing.assert_array_equal(np.unique(Z, axis=0), np.unique(X, axis=0))


def test_inducing_inputs_spread_over_clusters():
    """D² sampling puts a point in each of 5 far-apart clusters, whatever their sizes."""
    rng = np.random.default_rng(13)
    centres = 20.0 * np.arange(5)[:, None] * np.ones((1, 2))
    X = np.vstack([c + rng.normal(size=(n, 2)) for c, n in zip(centres, (500, 20, 20, 20, 20))])
    for seed in range(5):
        Z = choose_inducing_inputs(X, 5, random_state=seed)
        assert sorted(np.argmin(np.linalg.norm(Z[:, None] - centres[None], axis=2), axis=1)) == list(range(5))


# --- errors --------------------------------------------------------------------------------------


def test_bad_arguments_raise_value_errors_naming_them():
    rng = np.random.default_rng(14)
    X, tasks, y = data(rng)
    hyper = random_hyper(rng, 3, SPECS["rbf-ard-rank2"])
    functions, log_noise, mean = split(hyper)
    Z = X[:4]
    good = dict(X=X, tasks=tasks, y=y, Z=Z, log_noise=log_noise, mean=mean)
    bad = {
        "X": X[:, 0], "tasks": tasks + 5, "y": y[:-1], "Z": Z[:, :1], "log_noise": np.array([np.nan, 0, 0]),
        "mean": mean[:2],
    }
    for name, value in bad.items():
        with pytest.raises(ValueError, match=name):
            vfe_objective(functions, **{**good, name: value})
    with pytest.raises(ValueError, match="jitter"):
        vfe_objective(functions, **good, jitter=-1.0)
    with pytest.raises(ValueError, match="n_inducing"):
        choose_inducing_inputs(X, 0)
    posterior = VFEPosterior.from_data(functions, **good)
    with pytest.raises(ValueError, match="tasks_new"):
        posterior.predict(X[:3], np.array([0, 1, 3]))
    with pytest.raises(ValueError, match="X_new"):
        posterior.predict(X[:3, :1], np.array([0, 1, 2]))


def test_singular_inducing_covariance_raises_numerical_error():
    rng = np.random.default_rng(15)
    X, tasks, y = data(rng)
    hyper = random_hyper(rng, 3, SPECS["rbf-ard-rank2"])
    Z = np.vstack([X[:3], X[:1]])  # a repeated inducing input: K_uu singular without jitter
    with pytest.raises(NumericalError, match="K_uu"):
        vfe_objective(*split(hyper)[:1], X, tasks, y, Z, hyper.log_noise, hyper.mean, jitter=0.0)


# --- with the core's covariance functions (what the estimator passes) ------------------------------


@pytest.mark.parametrize("name", ["rbf-ard-rank2", "matern52-rank0", "linear-ard", "lcm-rbf-matern32"])
def test_bound_gradient_and_prediction_with_the_core_covariance_equal_the_stand_in(name):
    from multitask._gp_likelihood import CoreCovariance
    from multitask._gp_params import GPSpec, TermSpec

    rng = np.random.default_rng(16)
    X, tasks, y = data(rng)
    hyper = random_hyper(rng, 3, SPECS[name], mean_scale=1.0)
    spec = GPSpec(tuple(TermSpec(kernel, rank, n_theta) for kernel, rank, n_theta in SPECS[name]), 3)
    core_functions = CoreCovariance(spec.unpack(hyper.to_vector()), n_threads=1)
    functions, log_noise, mean = split(hyper)
    Z = rng.normal(size=(2 if name.startswith("linear") else 6, 2))
    value, gradient = vfe_objective(core_functions, X, tasks, y, Z, log_noise, mean, eval_gradient=True)
    ref_value, ref_gradient = vfe_objective(functions, X, tasks, y, Z, log_noise, mean, eval_gradient=True)
    assert value == pytest.approx(ref_value, rel=1e-11)
    np.testing.assert_allclose(gradient, ref_gradient, rtol=1e-8, atol=1e-9)
    X_new, tasks_new = rng.normal(size=(8, 2)), rng.integers(0, 3, size=8)
    for full_cov in (False, True):
        got = vfe_predict(core_functions, X, tasks, y, Z, log_noise, mean, X_new, tasks_new, full_cov=full_cov)
        want = vfe_predict(functions, X, tasks, y, Z, log_noise, mean, X_new, tasks_new, full_cov=full_cov)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-9, atol=1e-11)


# --- profiled means --------------------------------------------------------------------------------


def test_profiled_means_are_the_exact_gls_means_when_every_training_input_is_inducing():
    rng = np.random.default_rng(18)
    X, tasks, y = data(rng)
    hyper = random_hyper(rng, 3, SPECS["lcm-rbf-matern32"])
    value, means = vfe_objective(*split(hyper)[:1], X, tasks, y, X, hyper.log_noise, None, jitter=0.0,
                                 profile_mean=True)
    gls = gls_means(X, tasks, y, hyper)
    np.testing.assert_allclose(means, gls, rtol=1e-8, atol=1e-9)
    at_gls = GPHyper(hyper.terms, hyper.log_noise, gls)
    assert value == pytest.approx(log_marginal_likelihood(X, tasks, y, at_gls), rel=1e-9)


@pytest.mark.parametrize("name", ["rbf-ard-rank2", "lcm-rbf-matern32"])
def test_profiled_bound_is_the_maximum_over_the_means_and_its_gradient_the_envelope(name):
    rng = np.random.default_rng(19)
    X, tasks, y = data(rng)
    hyper = random_hyper(rng, 3, SPECS[name], mean_scale=1.0)
    functions, log_noise, _ = split(hyper)
    Z = rng.normal(size=(6, 2))
    value, gradient, means = vfe_objective(functions, X, tasks, y, Z, log_noise, None, eval_gradient=True,
                                           profile_mean=True)
    at_means, gradient_at_means = vfe_objective(functions, X, tasks, y, Z, log_noise, means, eval_gradient=True)
    assert value == pytest.approx(at_means, rel=1e-12)
    np.testing.assert_allclose(gradient, gradient_at_means, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gradient[-3:], 0.0, atol=1e-9)  # ∂F/∂m = 0 at the maximiser
    for _ in range(5):  # F is concave in m: any other means give less
        other = means + 0.1 * rng.normal(size=3)
        assert vfe_objective(functions, X, tasks, y, Z, log_noise, other) < value
    # Finite differences of the profiled F over the covariance and noise hyperparameters.
    T, vector = 3, hyper.to_vector()[:-3]

    def profiled(v):
        terms = terms_from_vector(hyper.terms, v[:-T])
        return vfe_objective(ExplicitCovariance(terms), X, tasks, y, Z, v[-T:], None, profile_mean=True)  # (F, m*)

    np.testing.assert_allclose(gradient[:-3], central_differences(profiled, vector), rtol=2e-6, atol=1e-6)


def test_profiling_the_means_needs_every_task():
    rng = np.random.default_rng(20)
    X, tasks, y = data(rng)
    hyper = random_hyper(rng, 3, SPECS["rbf-ard-rank2"])
    keep = tasks != 1
    with pytest.raises(ValueError, match="profile_mean"):
        vfe_objective(*split(hyper)[:1], X[keep], tasks[keep], y[keep], X[:4], hyper.log_noise, None,
                      profile_mean=True)
