"""The pointwise losses as types (cpp/include/multitask/objectives/pointwise_losses.hpp), and Huber's loss.

Every loss is checked through the core's objective, gradient and Hessian-vector
product against the numpy formulas of ``reference.py``; Huber's loss also end to
end: the regressor against a numpy/scipy minimisation of the same objective, the
large-threshold limit (the squared loss), robustness to outliers, and
``penalty_max`` from its own best constant prediction.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

import multitask as mt
import reference as ref
from multitask._core import core

LOSSES = [("logistic", 0.0), ("squared_hinge", 0.0), ("squared", 0.0), ("huber", 0.7)]


def make_tasks(seed, sizes=(30, 45, 25), n_features=5, outliers=0.0):
    rng = np.random.default_rng(seed)
    w0 = rng.normal(size=n_features)
    Xs, ys = [], []
    for n in sizes:
        X = rng.normal(size=(n, n_features))
        y = X @ (w0 + 0.3 * rng.normal(size=n_features)) + 0.5 + 0.2 * rng.normal(size=n)
        Xs.append(X)
        ys.append(y)
    # Gross errors (+-25) on a fraction `outliers` of the targets, drawn apart so
    # that the clean data are the same whatever the fraction.
    corrupt = np.random.default_rng(seed + 1000)
    for y in ys:
        flip = corrupt.random(y.size) < outliers
        y[flip] += corrupt.choice([-1.0, 1.0], size=flip.sum()) * 25.0
    return Xs, ys


def targets_for(loss, ys):
    """Labels -1/+1 for the classification losses, the real targets otherwise."""
    if loss in ("logistic", "squared_hinge"):
        return [np.where(y > np.median(y), 1.0, -1.0) for y in ys]
    return ys


def reference_loss(loss, parameter):
    return ("huber", parameter) if loss == "huber" else loss


@pytest.mark.parametrize("loss,parameter", LOSSES)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_objective_gradient_and_hessian_match_numpy(loss, parameter, fit_intercept):
    Xs, ys = make_tasks(0)
    ys = targets_for(loss, ys)
    rng = np.random.default_rng(1)
    T, d = len(Xs), Xs[0].shape[1]
    K = mt.coupling.mean_regularized(T, mu=0.3)
    s = np.array([0.4, 1.0, 2.0]) / 100
    coef, intercept = rng.normal(size=(T, d)), rng.normal(size=T)
    direction_coef, direction_intercept = rng.normal(size=(T, d)), rng.normal(size=T)
    common = dict(X=Xs, y=ys, sample_weight=s, coupling=K, alpha=0.2, fit_intercept=fit_intercept, loss=loss,
                  loss_parameter=parameter)
    value, grad_coef, grad_intercept = core.linear_model_objective(**common, coef=coef, intercept=intercept)
    spec = reference_loss(loss, parameter)
    expected = ref.linear_model_objective(Xs, ys, s, K, 0.2, spec, coef, intercept, fit_intercept)
    expected_coef, expected_intercept = ref.classification_gradient(Xs, ys, s, K, 0.2, spec, coef, intercept,
                                                                    fit_intercept)
    assert value == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(grad_coef, expected_coef, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(grad_intercept, expected_intercept, rtol=1e-11, atol=1e-13)
    hv_coef, hv_intercept = core.linear_model_hessian_product(
        **common, coef=coef, intercept=intercept, direction_coef=direction_coef,
        direction_intercept=direction_intercept)
    H = ref.classification_hessian(Xs, ys, s, K, 0.2, spec, coef, intercept, fit_intercept)
    product = H @ np.concatenate([direction_coef.ravel(), direction_intercept])
    np.testing.assert_allclose(hv_coef, product[: T * d].reshape(T, d), rtol=1e-10, atol=1e-12)
    if fit_intercept:
        np.testing.assert_allclose(hv_intercept, product[T * d:], rtol=1e-10, atol=1e-12)


def test_huber_gradient_matches_finite_differences():
    Xs, ys = make_tasks(2)
    T, d = len(Xs), Xs[0].shape[1]
    K, s = np.eye(T), np.full(T, 0.01)
    rng = np.random.default_rng(3)
    coef, intercept = rng.normal(size=(T, d)), rng.normal(size=T)

    def value(c):
        return core.linear_model_objective(X=Xs, y=ys, sample_weight=s, coupling=K, alpha=0.1, fit_intercept=True,
                                             loss="huber", loss_parameter=0.5, coef=c, intercept=intercept)[0]

    _, grad_coef, _ = core.linear_model_objective(X=Xs, y=ys, sample_weight=s, coupling=K, alpha=0.1,
                                                    fit_intercept=True, loss="huber", loss_parameter=0.5,
                                                    coef=coef, intercept=intercept)
    np.testing.assert_allclose(grad_coef, ref.numerical_gradient(value, coef), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("solver", ["auto", "block_newton", "newton", "gradient"])
@pytest.mark.parametrize("coupling", ["identity", "mean_regularized"])
def test_huber_regressor_reaches_the_numpy_optimum(solver, coupling):
    Xs, ys = make_tasks(4, outliers=0.1)
    T = len(Xs)
    N = sum(len(y) for y in ys)
    model = mt.KernelCoupledRegressor(coupling=coupling, alpha=0.05, loss="huber", epsilon=0.8, solver=solver,
                                      tol=1e-10, max_iter=20000).fit(Xs, ys)
    K = model.coupling_
    coef, intercept, _ = ref.classification_solution(Xs, ys, np.full(T, 1.0 / N), K, 0.05, ("huber", 0.8))
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(model.intercept_, intercept, rtol=1e-6, atol=1e-7)
    assert model.solver_ in ("block_newton", "newton", "gradient")


def test_huber_with_a_large_threshold_is_the_squared_loss():
    Xs, ys = make_tasks(5)
    squared = mt.KernelCoupledRegressor(alpha=0.05).fit(Xs, ys)
    huber = mt.KernelCoupledRegressor(alpha=0.05, loss="huber", epsilon=1e6, tol=1e-12).fit(Xs, ys)
    np.testing.assert_allclose(huber.coef_, squared.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(huber.intercept_, squared.intercept_, rtol=1e-8, atol=1e-10)


def test_huber_resists_outlying_targets():
    Xs, ys = make_tasks(6, sizes=(200, 200, 200), outliers=0.1)
    clean_Xs, clean_ys = make_tasks(6, sizes=(200, 200, 200), outliers=0.0)
    clean = mt.KernelCoupledRegressor(alpha=1e-3).fit(clean_Xs, clean_ys)
    squared = mt.KernelCoupledRegressor(alpha=1e-3).fit(Xs, ys)
    huber = mt.KernelCoupledRegressor(alpha=1e-3, loss="huber", epsilon=0.5).fit(Xs, ys)
    error_squared = np.abs(squared.coef_ - clean.coef_).max()
    error_huber = np.abs(huber.coef_ - clean.coef_).max()
    assert error_huber < error_squared / 4


def test_huber_sparse_input_equals_dense():
    Xs, ys = make_tasks(7, outliers=0.1)
    dense = mt.KernelCoupledRegressor(alpha=0.05, loss="huber", epsilon=0.6, tol=1e-11).fit(Xs, ys)
    sparse = mt.KernelCoupledRegressor(alpha=0.05, loss="huber", epsilon=0.6, tol=1e-11).fit(
        [sp.csr_matrix(X) for X in Xs], ys)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("penalty_name", ["l21", "l1", "trace_norm"])
def test_huber_penalty_max_is_the_zero_threshold(penalty_name):
    Xs, ys = make_tasks(8, outliers=0.1)
    estimator = mt.KernelCoupledRegressor(alpha=0.1, loss="huber", epsilon=0.7, task_weights="balanced",
                                          tol=1e-10, max_iter=50000)
    value = mt.penalty_max(estimator, Xs, ys, penalty=penalty_name)
    above = clone(estimator).set_params(**{penalty_name: value * (1 + 1e-6)}).fit(Xs, ys)
    below = clone(estimator).set_params(**{penalty_name: value * 0.9}).fit(Xs, ys)
    assert np.all(np.abs(above.coef_) < 1e-9)
    assert np.abs(below.coef_).max() > 1e-6


def test_huber_penalty_max_against_numpy():
    """G0 from the Huber best constant of each task, found by scipy, and the l21 threshold from it."""
    Xs, ys = make_tasks(9, outliers=0.2)
    delta, T = 0.7, len(Xs)
    N = sum(len(y) for y in ys)
    columns = []
    for X, y in zip(Xs, ys):
        best = minimize_scalar(lambda b, y=y: ref.margin_loss(("huber", delta), y, np.full_like(y, b)).sum(),
                               bracket=(y.min(), y.max()), tol=1e-14).x
        columns.append(X.T @ ref.margin_loss_first(("huber", delta), y, np.full_like(y, best)) / N)
    G0 = np.column_stack(columns)  # (d, T)
    estimator = mt.KernelCoupledRegressor(loss="huber", epsilon=delta)
    assert mt.penalty_max(estimator, Xs, ys, penalty="l21") == pytest.approx(np.linalg.norm(G0, axis=1).max(),
                                                                              rel=1e-7)
    assert mt.penalty_max(estimator, Xs, ys, penalty="trace_norm") == pytest.approx(np.linalg.norm(G0, 2), rel=1e-7)
    assert T == 3


def test_unknown_loss_and_bad_threshold_are_value_errors():
    Xs, ys = make_tasks(10)
    common = dict(X=Xs, y=ys, sample_weight=np.full(3, 0.01), coupling=np.eye(3), alpha=0.1, fit_intercept=True,
                  l1=0.0, l21=0.0, trace_norm=0.0, solver="auto", tol=1e-8, max_iter=100, n_threads=1,
                  warm_coef=None, warm_intercept=None)
    with pytest.raises(ValueError, match="loss must be one of 'logistic', 'squared_hinge', 'squared', 'huber'"):
        core.fit_linear_model_f64(**common, loss="hinge")
    with pytest.raises(ValueError, match="Huber threshold"):
        core.fit_linear_model_f64(**common, loss="huber", loss_parameter=0.0)
    with pytest.raises(InvalidParameterError, match="epsilon"):
        mt.KernelCoupledRegressor(loss="huber", epsilon=0.0).fit(Xs, ys)
    with pytest.raises(InvalidParameterError, match="loss"):
        mt.KernelCoupledRegressor(loss="hinge").fit(Xs, ys)
    with pytest.raises(ValueError, match="solver='exact' works on Gram statistics.*loss='huber'"):
        mt.KernelCoupledRegressor(loss="huber", solver="exact").fit(Xs, ys)


def test_squared_loss_newton_on_the_data_equals_the_gram_solvers():
    Xs, ys = make_tasks(11)
    exact = mt.KernelCoupledRegressor(alpha=0.05, solver="exact").fit(Xs, ys)
    newton = mt.KernelCoupledRegressor(alpha=0.05, solver="newton", tol=1e-12).fit(Xs, ys)
    assert newton.solver_ == "newton"
    np.testing.assert_allclose(newton.coef_, exact.coef_, rtol=1e-8, atol=1e-10)
