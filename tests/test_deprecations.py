"""Deprecated names keep working, give exactly the old results and say what replaces them."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse
from sklearn.base import clone

import multitask as mt


def _regression(seed: int = 0):
    rng = np.random.default_rng(seed)
    Xs = [rng.normal(size=(n, 6)) for n in (30, 40, 25)]
    ys = [X @ rng.normal(size=6) + 0.1 * rng.normal(size=len(X)) for X in Xs]
    return Xs, ys


def _labels(ys):
    return [(y > np.median(y)).astype(int) for y in ys]


# (estimator, data, the solver "bcd" meant there)
BCD_CASES = {
    "regressor_gram": (mt.KernelCoupledRegressor(alpha=0.1), lambda Xs, ys: (Xs, ys), "task_bcd"),
    "regressor_sparse": (
        mt.KernelCoupledRegressor(alpha=0.1),
        lambda Xs, ys: ([scipy.sparse.csr_array(X) for X in Xs], ys),
        "block_newton",
    ),
    "regressor_huber": (mt.KernelCoupledRegressor(alpha=0.1, loss="huber"), lambda Xs, ys: (Xs, ys), "block_newton"),
    "regressor_l21": (mt.KernelCoupledRegressor(alpha=0.1, l21=0.02), lambda Xs, ys: (Xs, ys), "feature_bcd"),
    "regressor_l1": (mt.KernelCoupledRegressor(alpha=0.0, l1=0.02), lambda Xs, ys: (Xs, ys), "feature_bcd"),
    "classifier": (mt.KernelCoupledClassifier(alpha=0.1), lambda Xs, ys: (Xs, _labels(ys)), "block_newton"),
    "classifier_identity": (
        mt.KernelCoupledClassifier(coupling="identity", alpha=0.1),
        lambda Xs, ys: (Xs, _labels(ys)),
        "block_newton",
    ),
}

FITTED = ("coef_", "intercept_", "n_iter_", "objective_history_", "kkt_residual_", "dual_gap_")


@pytest.mark.parametrize("case", list(BCD_CASES))
def test_bcd_is_a_deprecated_alias_with_exactly_the_same_fit(case):
    estimator, data, meaning = BCD_CASES[case]
    X, y = data(*_regression())
    new = clone(estimator).set_params(solver=meaning).fit(X, y)
    old = clone(estimator).set_params(solver="bcd")
    with pytest.warns(FutureWarning, match=rf"solver='bcd' is deprecated.*use solver='{meaning}'") as record:
        old.fit(X, y)
    assert record[0].filename == __file__  # the warning points at the user's call of fit
    assert old.solver_ == new.solver_ == meaning
    for name in FITTED:
        np.testing.assert_array_equal(getattr(old, name), getattr(new, name), err_msg=name)


@pytest.mark.parametrize("estimator", [mt.KernelCoupledRegressor, mt.KernelCoupledClassifier])
def test_bcd_stays_a_parameter_value(estimator):
    model = estimator(solver="bcd")
    assert clone(model).get_params()["solver"] == "bcd"


def test_auto_reports_the_new_names():
    Xs, ys = _regression()
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        assert mt.KernelCoupledRegressor(l21=0.02).fit(Xs, ys).solver_ == "feature_bcd"
        sparse = [scipy.sparse.csr_array(X) for X in Xs]
        assert mt.KernelCoupledRegressor(coupling="identity").fit(sparse, ys).solver_ == "block_newton"
        assert mt.KernelCoupledClassifier(coupling="identity").fit(Xs, _labels(ys)).solver_ == "block_newton"


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(solver="task_bcd", l21=0.1), "solver='task_bcd' works on Gram statistics.*'feature_bcd'"),
        (dict(solver="task_bcd", loss="huber"), "solver='task_bcd' works on Gram statistics.*'block_newton'"),
        (dict(solver="feature_bcd"), "solver='feature_bcd' .* an l1 or l21 penalty"),
        (dict(solver="feature_bcd", l21=0.1, loss="huber"), "solver='feature_bcd' .*'gradient'"),
        (dict(solver="block_newton", l1=0.1), "solver='block_newton' takes no structure penalty.*'feature_bcd'"),
        (dict(solver="newton", trace_norm=0.1),
         "solver='newton' takes no structure penalty.*use solver='gram_gradient', 'gradient' or 'auto'"),
        (dict(solver="newton", trace_norm=0.1, loss="huber"),
         "solver='newton' takes no structure penalty.*use solver='gradient' or 'auto'"),
    ],
)
def test_a_solver_that_cannot_take_the_problem_names_those_that_can(params, message):
    Xs, ys = _regression()
    with pytest.raises(ValueError, match=message):
        mt.KernelCoupledRegressor(**params).fit(Xs, ys)


def _kernel_machines():
    Xs, ys = _regression(3)
    ridge = mt.MultiTaskKernelRidge(solver="cg", alpha=0.1).fit(Xs, ys)
    svc = mt.MultiTaskSVC(alpha=0.1).fit(Xs, _labels(ys))
    return ridge, svc


def test_residual_is_a_deprecated_read_only_alias_of_kkt_residual():
    for model in _kernel_machines():
        with pytest.warns(FutureWarning, match="residual_ is deprecated.*use kkt_residual_") as record:
            value = model.residual_
        assert record[0].filename == __file__
        assert value == model.kkt_residual_
        with pytest.raises(AttributeError):
            model.residual_ = 1.0
        assert "residual_" not in vars(model)  # not a second fitted attribute


@pytest.mark.parametrize("estimator", [mt.MultiTaskKernelRidge, mt.MultiTaskSVC])
def test_residual_of_an_unfitted_estimator_is_missing_without_a_warning(estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        assert not hasattr(estimator(), "residual_")


def test_every_estimator_with_a_convergence_measure_calls_it_kkt_residual():
    Xs, ys = _regression(4)
    fitted = [
        mt.KernelCoupledRegressor().fit(Xs, ys),
        mt.KernelCoupledClassifier().fit(Xs, _labels(ys)),
        mt.MultiTaskKernelRidge(solver="nystroem", n_components=20, random_state=0).fit(Xs, ys),
        *_kernel_machines(),
    ]
    for model in fitted:
        assert isinstance(model.kkt_residual_, float), type(model).__name__
