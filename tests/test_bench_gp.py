"""The pieces of benchmarks G1/G2 (multi-task GP ML-II) that do not need our estimator.

* ``ICMHyper``'s theta vector has the order of the dense reference (tests/gp_reference.py ``GPHyper``),
  so the LMLs the benchmark compares are evaluated at the hyperparameters it means.
* GPy's model built by ``bench.adapters.gpy_peer`` is the same model: its log likelihood and gradient
  equal the dense reference's (GPy's jitter compensated), its parameters read back unchanged, and
  its ML-II fit stops at a point where the reference's gradient vanishes (skipped without GPy).
* The LAPACK floor and the covariance built in numpy equal the reference's.
* The generators give centred targets of the documented shapes.

Skipped when the source tree's bench/ folder is not beside tests/.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if not (ROOT / "bench" / "problems" / "gaussian_process.py").is_file():
    pytest.skip("bench/ is not beside tests/", allow_module_level=True)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import gp_reference as ref  # noqa: E402
from bench.adapters import numpy_scipy  # noqa: E402
from bench.problems.gaussian_process import ICMHyper, own_inputs, planted, shared_inputs  # noqa: E402

T, R, D = 3, 2, 2


def reference_hyper(hyper: ICMHyper) -> ref.GPHyper:
    """The same hyperparameters as the reference's zero-mean ``GPHyper``."""
    term = ref.ICMTerm("rbf", hyper.W, np.log(hyper.kappa), np.log(hyper.lengthscale))
    return ref.GPHyper((term,), np.log(hyper.noise), np.zeros(hyper.noise.size))


def small_problem(n_t: int = 15, seed: int = 4):
    Xs, ys, truth = own_inputs(T, n_t, D, R, seed=seed)
    X, tasks, y = np.vstack(Xs), np.repeat(np.arange(T), n_t), np.concatenate(ys)
    return Xs, ys, truth, X, tasks, y


def test_theta_has_the_reference_order_and_round_trips():
    hyper = planted(T, R, D, seed=1)
    theta = hyper.to_theta(T * R + 3 * T + D)  # with T trailing zero means
    np.testing.assert_array_equal(theta, reference_hyper(hyper).to_vector())
    back = ICMHyper.from_theta(theta, T, R, D)
    for name in ("W", "kappa", "lengthscale", "noise"):
        np.testing.assert_allclose(getattr(back, name), getattr(hyper, name), rtol=1e-15)
    with pytest.raises(ValueError, match="size"):
        hyper.to_theta(3)
    with pytest.raises(ValueError, match="theta"):
        ICMHyper.from_theta(theta[:4], T, R, D)


def test_generators_give_centred_targets_of_the_documented_shapes():
    Xs, ys, truth = own_inputs(T, 12, D, R, seed=0)
    assert [X.shape for X in Xs] == [(12, D)] * T and [y.shape for y in ys] == [(12,)] * T
    assert max(abs(y.mean()) for y in ys) < 1e-12 and truth.W.shape == (T, R)
    X, Y, _ = shared_inputs(T, 20, D, R, seed=0)
    assert X.shape == (20, D) and Y.shape == (20, T) and np.abs(Y.mean(axis=0)).max() < 1e-12


def test_covariance_and_lapack_floor_match_the_reference():
    Xs, _, truth, X, tasks, _ = small_problem()
    K = numpy_scipy.gp_covariance(Xs, truth)
    np.testing.assert_allclose(K, ref.training_covariance(X, tasks, reference_hyper(truth)), rtol=1e-12, atol=1e-14)
    inverse = numpy_scipy.cholesky_and_inverse(K)
    lower = np.tril(inverse)  # dpotri fills the lower triangle only
    full = lower + np.tril(lower, -1).T
    np.testing.assert_allclose(full, np.linalg.inv(K), rtol=1e-8, atol=1e-8 * np.abs(full).max())
    with pytest.raises(np.linalg.LinAlgError):
        numpy_scipy.cholesky_and_inverse(-np.eye(3))


def test_gpy_model_is_the_reference_model():
    pytest.importorskip("GPy")
    from bench.adapters import gpy_peer

    Xs, ys, truth, X, tasks, y = small_problem()
    model = gpy_peer.icm_model(Xs, ys, truth)
    value, gradient = ref.log_marginal_likelihood(X, tasks, y, reference_hyper(truth), eval_gradient=True)
    assert model.log_likelihood() == pytest.approx(value, rel=1e-10)
    read = gpy_peer.hyper_of(model)
    for name in ("W", "kappa", "lengthscale", "noise"):
        np.testing.assert_allclose(getattr(read, name), getattr(truth, name), rtol=1e-12)
    # GPy's gradient (``model.gradient``, of log p in its natural parameters, the fixed RBF variance
    # first): lengthscale, W, kappa, noise variances. Ours is in W, log kappa, log l, log noise: the
    # chain rule d/d log p = p d/dp (GPy's noise parameter is the noise minus the jitter: same derivative).
    natural = np.asarray(model.gradient)[1:]
    n_w = T * R
    in_ours_order = np.concatenate([natural[D : D + n_w], natural[D + n_w : D + n_w + T] * truth.kappa,
                                    natural[:D] * truth.lengthscale, natural[D + n_w + T :] * truth.noise])
    np.testing.assert_allclose(in_ours_order, gradient[: n_w + 2 * T + D], rtol=1e-7, atol=1e-9)


def test_gpy_fit_stops_where_the_reference_gradient_vanishes():
    pytest.importorskip("GPy")
    from bench.adapters import gpy_peer

    Xs, ys, truth, X, tasks, y = small_problem(n_t=20, seed=7)
    fit = gpy_peer.icm_fit(Xs, ys, truth, max_iters=500, count_inferences=True)
    value, gradient = ref.log_marginal_likelihood(X, tasks, y, reference_hyper(fit.hyper), eval_gradient=True)
    assert fit.log_likelihood == pytest.approx(value, rel=1e-10)
    start_value = ref.log_marginal_likelihood(X, tasks, y, reference_hyper(truth))
    assert value >= start_value
    # Stationary in W and in the log-parameters (the kappa that go to 0 excepted: a boundary of GPy's domain).
    interior = np.concatenate([np.ones(T * R, bool), fit.hyper.kappa > 1e-4, np.ones(D + T, bool)])
    assert np.abs(gradient[: T * R + 2 * T + D][interior]).max() < 1e-2 * max(1.0, abs(value))
    assert fit.inferences == fit.evaluations + 3  # construction, GPy's re-evaluation at x_opt, the write-back
