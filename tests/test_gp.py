"""MultiTaskGaussianProcessRegressor against the dense numpy references (tests/gp_reference*.py),
scikit-learn's GaussianProcessRegressor at T = 1, MultiTaskKernelRidge, and a planted task kernel."""

from __future__ import annotations

import numpy as np
import pytest
from gp_reference import GPHyper, ICMTerm, log_marginal_likelihood, predict, random_hyper, shared_to_long
from gp_reference_kronecker import kronecker_log_marginal_likelihood, kronecker_predict
from scipy.optimize import approx_fprime

import multitask as mt


def central_differences(function, x, step=1e-5):
    """The gradient of ``function`` at ``x`` by central differences (error O(step²))."""
    out = np.empty(x.size)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = step
        out[i] = (function(x + e) - function(x - e)) / (2 * step)
    return out


def per_task_data(seed=0, T=3, sizes=(17, 25, 12), d=2):
    rng = np.random.default_rng(seed)
    Xs = [rng.uniform(-2, 2, size=(n, d)) for n in sizes[:T]]
    ys = [np.sin(X[:, 0]) * (t + 1) + 0.3 * X[:, 1] + 0.5 * t + 0.2 * rng.normal(size=len(X))
          for t, X in enumerate(Xs)]
    return Xs, ys


def long_arrays(Xs, ys):
    return np.vstack(Xs), np.concatenate(ys), np.repeat(np.arange(len(Xs)), [len(y) for y in ys])


def fixed_model(hyper: GPHyper, *, mean="constant", ard=None):
    """An estimator that keeps ``hyper`` (optimizer=None) so that its theta_ is hyper's vector."""
    ard = any(q.theta.size > 1 for q in hyper.terms) if ard is None else ard
    return mt.MultiTaskGaussianProcessRegressor(
        kernel=[q.kernel for q in hyper.terms] if len(hyper.terms) > 1 else hyper.terms[0].kernel,
        rank=[q.L.shape[1] for q in hyper.terms] if len(hyper.terms) > 1 else hyper.terms[0].L.shape[1],
        ard=ard, mean=mean, optimizer=None,
        init={"L": [q.L for q in hyper.terms] if len(hyper.terms) > 1 else hyper.terms[0].L,
              "kappa": [np.exp(q.log_kappa) for q in hyper.terms] if len(hyper.terms) > 1
              else np.exp(hyper.terms[0].log_kappa),
              "length_scale": ([np.exp(q.theta) for q in hyper.terms if q.theta.size] if len(hyper.terms) > 1
                               else np.exp(hyper.terms[0].theta)),
              "noise_variance": np.exp(hyper.log_noise), "mean": hyper.mean})


SPECS = {
    "icm_rbf_ard_rank2": [("rbf", 2, 2)],
    "icm_matern32_iso_rank1": [("matern32", 1, 1)],
    "icm_matern52_ard_rank0": [("matern52", 0, 2)],
    "lcm_rbf_matern52": [("rbf", 1, 2), ("matern52", 2, 2)],
    "linear_ard": [("linear", 1, 2)],
}


def with_means(X, tasks, y, hyper: GPHyper, mean: str) -> GPHyper:
    """``hyper`` with the means the estimator uses: the GLS means (profiled, "constant") or zeros."""
    from gp_reference import gls_means

    means = gls_means(X, tasks, y, hyper) if mean == "constant" else np.zeros(hyper.n_tasks)
    return GPHyper(hyper.terms, hyper.log_noise, means)


@pytest.mark.parametrize("mean", ["constant", "zero"])
@pytest.mark.parametrize("name", sorted(SPECS))
def test_log_marginal_likelihood_and_gradient_equal_the_dense_reference(name, mean):
    Xs, ys = per_task_data()
    X, y, tasks = long_arrays(Xs, ys)
    hyper = with_means(X, tasks, y, random_hyper(np.random.default_rng(1), 3, SPECS[name]), mean)
    model = fixed_model(hyper, mean=mean).fit(Xs, ys)
    theta = hyper.to_vector()[:-3]  # the means are not free: profiled by GLS, or zero
    assert model.theta_.shape == theta.shape
    value, gradient = model.log_marginal_likelihood(theta, eval_gradient=True)
    ref_value, ref_gradient = log_marginal_likelihood(X, tasks, y, hyper, eval_gradient=True)
    np.testing.assert_allclose(value, ref_value, rtol=1e-10)
    scale = np.abs(ref_gradient).max()
    np.testing.assert_allclose(gradient, ref_gradient[:-3], rtol=1e-8, atol=1e-9 * scale)
    assert model.log_marginal_likelihood() == pytest.approx(ref_value, rel=1e-10)
    np.testing.assert_allclose(model.mean_, hyper.mean, atol=1e-10)
    if mean == "constant":  # the GLS means maximise the likelihood over m: the reference's d/dm vanishes
        np.testing.assert_allclose(ref_gradient[-3:], 0.0, atol=1e-9 * scale)


def test_gradient_equals_finite_differences_for_every_hyperparameter():
    Xs, ys = per_task_data(seed=3)
    hyper = random_hyper(np.random.default_rng(4), 3, [("rbf", 2, 2), ("linear", 1, 2)], mean_scale=0.3)
    model = mt.MultiTaskGaussianProcessRegressor(kernel=["rbf", "linear"], rank=[2, 1], optimizer=None).fit(Xs, ys)
    theta = hyper.to_vector()[:-3]
    _, gradient = model.log_marginal_likelihood(theta, eval_gradient=True)
    numeric = approx_fprime(theta, model.log_marginal_likelihood, 1e-6)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-4, atol=1e-4)


def test_isotropic_linear_kernel_has_no_length_scale():
    Xs, ys = per_task_data()
    model = mt.MultiTaskGaussianProcessRegressor(kernel="linear", ard=False, optimizer=None).fit(Xs, ys)
    assert model.length_scale_.shape == (0,)
    hyper = GPHyper((ICMTerm("linear", model.kernel_.L[0], model.kernel_.log_kappa[0], np.zeros(0)),),
                    model.kernel_.log_noise, model.mean_)
    X, y, tasks = long_arrays(Xs, ys)
    assert model.log_marginal_likelihood_value_ == pytest.approx(log_marginal_likelihood(X, tasks, y, hyper),
                                                                 rel=1e-10)


# --------------------------------------------------------------- shared design: Kronecker = dense


def shared_data(seed=0, n=40, T=3):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, size=(n, 2))
    F = np.sin(X[:, 0]) + 0.2 * X[:, 1]
    Y = np.column_stack([F * (1 + 0.5 * t) + t for t in range(T)]) + 0.1 * rng.normal(size=(n, T))
    return X, Y


@pytest.mark.parametrize("kernel,rank", [("rbf", 2), ("matern52", 1), ("linear", 1)])
def test_kronecker_route_equals_dense_route_and_reference(kernel, rank):
    X, Y = shared_data()
    hyper = with_means(*shared_to_long(X, Y), random_hyper(np.random.default_rng(2), 3, [(kernel, rank, 2)]),
                       "constant")
    kron = fixed_model(hyper).fit(X, Y)
    dense = fixed_model(hyper).set_params(method="dense").fit(X, Y)
    assert (kron.method_, dense.method_) == ("kronecker", "dense")
    np.testing.assert_allclose([kron.mean_, dense.mean_], [hyper.mean, hyper.mean], atol=1e-9)
    theta = hyper.to_vector()[:-3]
    v_k, g_k = kron.log_marginal_likelihood(theta, eval_gradient=True)
    v_d, g_d = dense.log_marginal_likelihood(theta, eval_gradient=True)
    ref_value, ref_gradient = kronecker_log_marginal_likelihood(X, Y, hyper, eval_gradient=True)
    np.testing.assert_allclose([v_k, v_d], ref_value, rtol=1e-9)
    scale = np.abs(ref_gradient).max()
    np.testing.assert_allclose(g_k, ref_gradient[:-3], atol=1e-8 * scale)
    np.testing.assert_allclose(g_d, ref_gradient[:-3], atol=1e-8 * scale)
    X_new = np.random.default_rng(5).uniform(-3, 3, size=(6, 2))
    ref_mean, ref_cov = kronecker_predict(X, Y, hyper, X_new, include_noise=True)
    for model in (kron, dense):
        mean, std = model.predict(X_new, return_std=True, include_noise=True)
        np.testing.assert_allclose(mean, ref_mean, atol=1e-9 * np.abs(ref_mean).max())
        np.testing.assert_allclose(std.T.ravel() ** 2, np.diag(ref_cov), rtol=1e-7, atol=1e-10)
        _, cov = model.predict(X_new, return_cov=True, include_noise=True)
        assert cov.shape == (6, 3, 6, 3)
        np.testing.assert_allclose(cov.transpose(1, 0, 3, 2).reshape(18, 18), ref_cov, atol=1e-9)


def test_kronecker_and_dense_fits_take_the_same_path():
    X, Y, _ = planted_sample(n=40, seed=3)
    kron = mt.MultiTaskGaussianProcessRegressor(rank=1, mean="zero").fit(X, Y)
    dense = mt.MultiTaskGaussianProcessRegressor(rank=1, mean="zero", method="dense").fit(X, Y)
    assert kron.log_marginal_likelihood_value_ == pytest.approx(dense.log_marginal_likelihood_value_, rel=1e-8)
    # the same model (log kappa -> -inf is a flat direction where kappa is negligible: compare B itself)
    np.testing.assert_allclose(kron.task_kernel_, dense.task_kernel_, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(kron.length_scale_, dense.length_scale_, rtol=1e-4)
    np.testing.assert_allclose(kron.noise_variance_, dense.noise_variance_, rtol=1e-4)


# ------------------------------------------------------------------- predictions


def test_per_task_predictions_equal_the_reference_posterior():
    Xs, ys = per_task_data(seed=7)
    X, y, tasks = long_arrays(Xs, ys)
    hyper = with_means(X, tasks, y, random_hyper(np.random.default_rng(8), 3, [("rbf", 1, 2), ("matern32", 1, 1)]),
                       "constant")
    model = fixed_model(hyper).fit(Xs, ys)
    rng = np.random.default_rng(9)
    X_new, t_new = rng.uniform(-2, 2, size=(7, 2)), rng.integers(0, 3, size=7)
    for include_noise in (False, True):
        ref_mean, ref_cov = predict(X, tasks, y, hyper, X_new, t_new, include_noise=include_noise)
        mean, std = model.predict(X_new, tasks=t_new, return_std=True, include_noise=include_noise)
        np.testing.assert_allclose(mean, ref_mean, atol=1e-10)
        np.testing.assert_allclose(std**2, np.diag(ref_cov), atol=1e-10)
        _, cov = model.predict(X_new, tasks=t_new, return_cov=True, include_noise=include_noise)
        np.testing.assert_allclose(cov, ref_cov, atol=1e-10)
    # the list form: each task's block, and the covariance over the blocks concatenated
    blocks = [X_new[t_new == t] for t in range(3)]
    means, stds = model.predict(blocks, return_std=True)
    order = np.argsort(t_new, kind="stable")
    ref_mean, ref_cov = predict(X, tasks, y, hyper, X_new[order], t_new[order])
    np.testing.assert_allclose(np.concatenate(means), ref_mean, atol=1e-10)
    np.testing.assert_allclose(np.concatenate(stds) ** 2, np.diag(ref_cov), atol=1e-10)


def test_input_forms_give_the_same_model():
    Xs, ys = per_task_data(seed=11)
    X, y, tasks = long_arrays(Xs, ys)
    perm = np.random.default_rng(0).permutation(len(y))
    labels = np.array(["a", "b", "c"])[tasks]
    # at the same (data-scaled) hyperparameters: the same likelihood and predictions to rounding
    lists = mt.MultiTaskGaussianProcessRegressor(rank=1, optimizer=None).fit(Xs, ys)
    long = mt.MultiTaskGaussianProcessRegressor(rank=1, optimizer=None).fit(X[perm], y[perm], tasks=labels[perm])
    assert long.log_marginal_likelihood_value_ == pytest.approx(lists.log_marginal_likelihood_value_, rel=1e-12)
    np.testing.assert_array_equal(long.tasks_, ["a", "b", "c"])
    np.testing.assert_allclose(long.predict(X[:9], tasks=labels[:9], return_std=True),
                               lists.predict(X[:9], tasks=tasks[:9], return_std=True), rtol=1e-10, atol=1e-12)
    # fitted: the same maximum (the optimiser's path differs only by rounding)
    lists_fit = mt.MultiTaskGaussianProcessRegressor(rank=1).fit(Xs, ys)
    long_fit = mt.MultiTaskGaussianProcessRegressor(rank=1).fit(X[perm], y[perm], tasks=labels[perm])
    assert long_fit.log_marginal_likelihood_value_ == pytest.approx(lists_fit.log_marginal_likelihood_value_,
                                                                    rel=1e-6)


# ------------------------------------------------------------- T = 1: scikit-learn


@pytest.mark.parametrize("kernel", ["rbf", "matern32", "matern52"])
def test_single_task_equals_scikit_learn(kernel):
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Matern, WhiteKernel

    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(40, 2))
    y = np.sin(X[:, 0]) + 0.3 * X[:, 1] + 0.1 * rng.normal(size=40)
    input_kernel = {"rbf": RBF([1.0, 1.5], (1e-5, 1e5)), "matern32": Matern([1.0, 1.5], (1e-5, 1e5), nu=1.5),
                    "matern52": Matern([1.0, 1.5], (1e-5, 1e5), nu=2.5)}[kernel]
    # alpha=0: scikit-learn's default adds 1e-10 to the diagonal, which ours does not
    sk = GaussianProcessRegressor(ConstantKernel(0.7, (1e-5, 1e5)) * input_kernel + WhiteKernel(0.2, (1e-5, 1e5)),
                                  alpha=0.0)
    sk.fit(X, y)
    ours = mt.MultiTaskGaussianProcessRegressor(
        kernel=kernel, rank=0, mean="zero", kappa_bounds=(1e-5, 1e5), noise_variance_bounds=(1e-5, 1e5),
        init={"length_scale": [1.0, 1.5], "kappa": 0.7, "noise_variance": 0.2}).fit(X, y)
    # the same start, objective and optimiser: the same maximum
    assert ours.log_marginal_likelihood_value_ == pytest.approx(sk.log_marginal_likelihood_value_, abs=1e-7)
    params = sk.kernel_.get_params()
    assert ours.task_kernel_[0, 0] == pytest.approx(params["k1__k1__constant_value"], rel=1e-4)
    np.testing.assert_allclose(ours.length_scale_, params["k1__k2__length_scale"], rtol=1e-4)
    assert ours.noise_variance_[0] == pytest.approx(params["k2__noise_level"], rel=1e-4)
    # value and gradient at one theta, in scikit-learn's order (constant, length-scales, noise)
    theta_sk = sk.kernel_.theta
    ours_theta = np.concatenate([[theta_sk[0]], theta_sk[1:3], [theta_sk[3]]])
    value, gradient = ours.log_marginal_likelihood(ours_theta, eval_gradient=True)
    sk_value, sk_gradient = sk.log_marginal_likelihood(theta_sk, eval_gradient=True)
    assert value == pytest.approx(sk_value, rel=1e-10)
    np.testing.assert_allclose(gradient, sk_gradient, atol=1e-8)
    X_new = rng.uniform(-3, 3, size=(8, 2))
    sk_mean, sk_std = sk.predict(X_new, return_std=True)  # WhiteKernel: the std of noisy targets
    mean, std = ours.predict(X_new, return_std=True, include_noise=True)
    np.testing.assert_allclose(mean, sk_mean, atol=1e-6)
    np.testing.assert_allclose(std, sk_std, atol=1e-6)


# ------------------------------------------------------ MultiTaskKernelRidge equivalence


@pytest.mark.parametrize("mean", ["zero", "constant"])
def test_posterior_mean_equals_multitask_kernel_ridge(mean):
    from gp_reference import gls_means

    Xs, ys = per_task_data(seed=5)
    X, y, tasks = long_arrays(Xs, ys)
    T, N = 3, len(y)
    length = 0.8
    hyper = GPHyper((ICMTerm("rbf", np.array([[1.0], [0.7], [-0.4]]), np.log([0.3, 0.2, 0.5]),
                             np.array([np.log(length)])),), np.log([0.05, 0.1, 0.2]), np.zeros(T))
    if mean == "constant":
        hyper = GPHyper(hyper.terms, hyper.log_noise, gls_means(X, tasks, y, hyper))
    gp = fixed_model(hyper, mean=mean, ard=False).fit(Xs, ys)
    alpha = 0.01
    ridge = mt.MultiTaskKernelRidge(kernel="rbf", gamma=1 / (2 * length**2), task_kernel=hyper.terms[0].B,
                                    alpha=alpha, task_weights=alpha * N / np.exp(hyper.log_noise),
                                    fit_intercept=mean == "constant", solver="cholesky", tol=1e-14).fit(Xs, ys)
    X_new = [np.random.default_rng(t).uniform(-2, 2, size=(5, 2)) for t in range(T)]
    np.testing.assert_allclose(np.concatenate(gp.predict(X_new)), np.concatenate(ridge.predict(X_new)), atol=1e-8)


# ------------------------------------------------------------- planted task kernel


def planted_sample(n=120, seed=21):
    """A shared design sampled from an ICM with a strongly correlated rank-1 task kernel (zero mean)."""
    from gp_reference import training_covariance
    from gp_reference_fit import sample_gaussian

    rng = np.random.default_rng(seed)
    T = 3
    X = rng.uniform(-3, 3, size=(n, 1))
    w = np.array([[1.0], [0.8], [-0.9]])
    hyper = GPHyper((ICMTerm("rbf", w, np.log([0.02, 0.02, 0.02]), np.log([1.0])),), np.log([0.01] * 3), np.zeros(T))
    Xl, tl, _ = shared_to_long(X, np.zeros((n, T)))
    y = sample_gaussian(rng, np.zeros(n * T), training_covariance(Xl, tl, hyper), 1)[0]
    return X, y.reshape(T, n).T, hyper


def test_recovers_a_planted_task_correlation():
    X, Y, hyper = planted_sample()
    model = mt.MultiTaskGaussianProcessRegressor(rank=1, mean="zero").fit(X, Y)
    B = model.task_kernel_
    correlation = B / np.sqrt(np.outer(np.diag(B), np.diag(B)))
    true_B = hyper.terms[0].B
    true_correlation = true_B / np.sqrt(np.outer(np.diag(true_B), np.diag(true_B)))
    np.testing.assert_allclose(correlation, true_correlation, atol=0.1)
    assert model.length_scale_[0] == pytest.approx(1.0, rel=0.3)
    np.testing.assert_allclose(model.noise_variance_, 0.01, rtol=0.5)


# ------------------------------------------------------------------ the estimator


def test_restarts_never_lower_the_maximum_and_are_seeded():
    Xs, ys = per_task_data(seed=13)
    plain = mt.MultiTaskGaussianProcessRegressor(rank=1).fit(Xs, ys)
    restarted = mt.MultiTaskGaussianProcessRegressor(rank=1, n_restarts=3, random_state=0).fit(Xs, ys)
    again = mt.MultiTaskGaussianProcessRegressor(rank=1, n_restarts=3, random_state=0).fit(Xs, ys)
    assert restarted.log_marginal_likelihood_value_ >= plain.log_marginal_likelihood_value_ - 1e-8
    np.testing.assert_array_equal(restarted.theta_, again.theta_)


def test_sample_y_draws_from_the_posterior():
    X, Y = shared_data(n=25)
    model = mt.MultiTaskGaussianProcessRegressor(rank=1).fit(X, Y)
    X_new = X[:4] + 0.3
    draws = model.sample_y(X_new, n_samples=4000, random_state=1)
    assert draws.shape == (4, 3, 4000)
    mean, cov = model.predict(X_new, return_cov=True)
    np.testing.assert_allclose(draws.mean(axis=-1), mean, atol=5 * np.sqrt(cov.reshape(12, 12).diagonal().max() / 4000))
    empirical = np.cov(draws.reshape(12, -1))
    np.testing.assert_allclose(empirical, cov.reshape(12, 12), atol=0.1 * np.abs(cov).max())
    np.testing.assert_array_equal(model.sample_y(X_new, random_state=3), model.sample_y(X_new, random_state=3))


def test_dataframes_keep_feature_names():
    pd = pytest.importorskip("pandas")
    X, Y = shared_data(n=20)
    frame = pd.DataFrame(X, columns=["u", "v"])
    model = mt.MultiTaskGaussianProcessRegressor(rank=1).fit(frame, Y)
    np.testing.assert_array_equal(model.feature_names_in_, ["u", "v"])
    with pytest.raises(ValueError, match="feature names"):
        model.predict(pd.DataFrame(X, columns=["v", "u"]))


@pytest.mark.parametrize("kwargs,match", [
    ({"method": "kronecker"}, "shared design"),
    ({"kernel": "cosine"}, "kernel"),
    ({"rank": [1, 2]}, "rank has 2 entries"),
    ({"init": {"length_scale": [1.0, 2.0, 3.0]}}, "length_scale"),
    ({"init": {"noise_variance": -1.0}}, "noise_variance"),
    ({"init": {"L": np.ones((2, 1))}}, r"init\['L'\]"),
    ({"init": {"bogus": 1}}, "unknown keys"),
])
def test_bad_parameters_are_value_errors(kwargs, match):
    Xs, ys = per_task_data()
    with pytest.raises(ValueError, match=match):
        mt.MultiTaskGaussianProcessRegressor(**kwargs).fit(Xs, ys)


def test_prediction_errors():
    X, Y = shared_data(n=20)
    model = mt.MultiTaskGaussianProcessRegressor(rank=1).fit(X, Y)
    with pytest.raises(ValueError, match="at most one"):
        model.predict(X, return_std=True, return_cov=True)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :1])
    with pytest.raises(ValueError, match="not seen in fit"):
        model.predict(X[:2], tasks=[0, 7])
    with pytest.raises(ValueError, match="n_samples"):
        model.sample_y(X[:2], n_samples=0)


def test_threads_and_float32_inputs_give_the_same_model():
    Xs, ys = per_task_data(seed=17, sizes=(60, 80, 50))
    one = mt.MultiTaskGaussianProcessRegressor(rank=1, optimizer=None, n_jobs=1).fit(Xs, ys)
    two = mt.MultiTaskGaussianProcessRegressor(rank=1, optimizer=None, n_jobs=2).fit(Xs, ys)
    assert two.log_marginal_likelihood_value_ == pytest.approx(one.log_marginal_likelihood_value_, rel=1e-13)
    value_1, gradient_1 = one.log_marginal_likelihood(one.theta_, eval_gradient=True)
    value_2, gradient_2 = two.log_marginal_likelihood(one.theta_, eval_gradient=True)
    np.testing.assert_allclose(gradient_2, gradient_1, rtol=1e-11, atol=1e-11)
    single = mt.MultiTaskGaussianProcessRegressor(rank=1, optimizer=None).fit(
        [X.astype(np.float32) for X in Xs], [y.astype(np.float32) for y in ys])
    X_new = [X[:3] for X in Xs]
    np.testing.assert_allclose(np.concatenate(single.predict(X_new)), np.concatenate(one.predict(X_new)),
                               rtol=1e-5, atol=1e-5)


def test_missing_targets_and_empty_data_are_refused():
    Xs, ys = per_task_data()
    ys[1] = ys[1].copy()
    ys[1][3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        mt.MultiTaskGaussianProcessRegressor().fit(Xs, ys)
    with pytest.raises(ValueError):
        mt.MultiTaskGaussianProcessRegressor().fit(np.zeros((0, 2)), np.zeros((0, 3)))


def test_readme_section_runs_and_shows_what_it_says():
    from readme_blocks import readme_blocks

    namespace: dict = {}
    for block in readme_blocks("## Multi-task Gaussian processes: `MultiTaskGaussianProcessRegressor`"):
        exec(block, namespace)  # noqa: S102
    B = namespace["B"]
    correlation = B / np.sqrt(np.outer(np.diag(B), np.diag(B)))
    np.testing.assert_allclose(correlation, [[1, 1, -1], [1, 1, -1], [-1, -1, 1]], atol=0.05)
    assert namespace["mean"].shape == namespace["std"].shape == (5, 3)
    assert namespace["draws"].shape == (5, 3, 10)


def test_sparse_route_is_exact_with_every_input_inducing_and_a_bound_otherwise():
    X, Y = shared_data(n=30)
    dense = mt.MultiTaskGaussianProcessRegressor(rank=1, method="dense", optimizer=None).fit(X, Y)
    full = mt.MultiTaskGaussianProcessRegressor(rank=1, method="sparse", inducing_points=X, optimizer=None).fit(X, Y)
    few = mt.MultiTaskGaussianProcessRegressor(rank=1, method="sparse", n_inducing=5, optimizer=None,
                                               random_state=0).fit(X, Y)
    assert full.method_ == "sparse"
    assert full.log_marginal_likelihood_value_ == pytest.approx(dense.log_marginal_likelihood_value_, rel=1e-6)
    assert few.log_marginal_likelihood_value_ < dense.log_marginal_likelihood_value_
    np.testing.assert_allclose(full.mean_, dense.mean_, atol=1e-5)
    X_new = X[:4] + 0.1
    for model in (full,):
        mean, std = model.predict(X_new, return_std=True, include_noise=True)
        ref_mean, ref_std = dense.predict(X_new, return_std=True, include_noise=True)
        np.testing.assert_allclose(mean, ref_mean, atol=1e-5)
        np.testing.assert_allclose(std, ref_std, atol=1e-5)
        _, cov = model.predict(X_new, return_cov=True)
        np.testing.assert_allclose(cov, dense.predict(X_new, return_cov=True)[1], atol=1e-5)
    # the fitted sparse model: theta_ has the exact routes' layout (means profiled), and its gradient is exact
    fitted = mt.MultiTaskGaussianProcessRegressor(rank=1, method="sparse", n_inducing=8, random_state=0).fit(X, Y)
    assert fitted.theta_.shape == dense.theta_.shape
    theta = fitted.theta_ + np.random.default_rng(0).uniform(-0.2, 0.2, size=fitted.theta_.size)
    _, gradient = fitted.log_marginal_likelihood(theta, eval_gradient=True)
    numeric = central_differences(fitted.log_marginal_likelihood, theta)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-5 * np.abs(numeric).max())
    with pytest.raises(ValueError, match="inducing_points"):
        mt.MultiTaskGaussianProcessRegressor(method="sparse", inducing_points=np.zeros((3, 5))).fit(X, Y)
    with pytest.raises(ValueError, match="93 inducing variables, more than the 90 samples"):
        mt.MultiTaskGaussianProcessRegressor(method="sparse", inducing_points=np.vstack([X, X[:1]])).fit(X, Y)
