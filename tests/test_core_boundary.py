"""The boundary between the estimators and the core: keyword-only calls, one
result path (finite results, ConvergenceWarning comparing like with like),
threads as scikit-learn users expect them, reachable float32 tolerances, and
fits that leave the estimator as it was when they fail."""

from __future__ import annotations

import re
import warnings

import joblib
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

import multitask as mt
import reference as ref
from multitask._base import MAX_C_INT
from multitask._core import core
from multitask._fit_result import FLOAT32_TOL_FLOOR
from multitask._threads import _available_cores, effective_n_threads

ESTIMATORS = [
    mt.KernelCoupledRegressor,
    mt.KernelCoupledClassifier,
    mt.MultiTaskKernelRidge,
    mt.MultiTaskSVC,
    mt.SharedSubspaceRegressor,
    mt.TaskRelationRegressor,
    mt.TaskRelationClassifier,
    mt.KernelCoupledRegressorCV,
    mt.KernelCoupledClassifierCV,
    mt.MultiTaskKernelRidgeCV,
]


def _tasks(seed=0, n_per_task=(30, 40, 25), d=4, classification=False):
    rng = np.random.default_rng(seed)
    Xs = [rng.normal(size=(n, d)) for n in n_per_task]
    w = rng.normal(size=d)
    ys = [X @ (w + 0.3 * rng.normal(size=d)) + 0.1 * rng.normal(size=X.shape[0]) for X in Xs]
    if classification:
        ys = [np.where(y > 0, 1, -1) for y in ys]
    return Xs, ys


# --- keyword-only parameters and bindings -------------------------------------------


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_parameters_after_the_first_are_keyword_only(estimator):
    first = next(iter(estimator().get_params()))
    with pytest.raises(TypeError):
        estimator(estimator().get_params()[first], 0.1)


def test_the_bindings_reject_positional_arguments():
    Xs, ys = _tasks()
    s = np.full(3, 1.0 / sum(X.shape[0] for X in Xs))
    with pytest.raises(TypeError):
        core.fit_least_squares_f64(Xs, ys, s, np.eye(3), 0.1, True, False, "cg", 1e-8, 10, 1, None)
    with pytest.raises(TypeError):
        core.penalty_value(np.ones((2, 3)), 0.1, 0.2, 0.0)
    # The same call by keyword works, and l1/l21 cannot be swapped silently by position.
    assert core.penalty_value(np.ones((2, 3)), l1=0.1, l21=0.0, trace_norm=0.0) == pytest.approx(0.6)


# --- threads ---------------------------------------------------------------------------


def test_n_jobs_none_means_one_thread():
    assert effective_n_threads(None) == 1


def test_n_jobs_none_follows_a_joblib_context():
    with joblib.parallel_config(n_jobs=2):
        assert effective_n_threads(None) == min(2, _available_cores(), core.openmp_max_threads())


def test_n_jobs_minus_one_is_every_core_within_openmp_limit():
    assert effective_n_threads(-1) == min(_available_cores(), core.openmp_max_threads())
    assert effective_n_threads(-_available_cores() - 5) == 1
    with pytest.raises(ValueError, match="n_jobs"):
        effective_n_threads(0)


def test_threadpoolctl_openmp_limit_is_honoured():
    with threadpool_limits(limits=1, user_api="openmp"):
        assert core.openmp_max_threads() == 1  # the limit reaches the core's own OpenMP runtime
        assert effective_n_threads(-1) == 1
        assert effective_n_threads(4) == 1
        Xs, ys = _tasks()
        mt.KernelCoupledRegressor(alpha=0.1, solver="cg", n_jobs=-1).fit(Xs, ys)  # runs with one thread


def test_results_do_not_depend_on_the_thread_count():
    Xs, ys = _tasks(n_per_task=(200, 150, 180), d=30)
    one = mt.KernelCoupledRegressor(alpha=0.01, solver="cg", tol=1e-12, n_jobs=1).fit(Xs, ys)
    every = mt.KernelCoupledRegressor(alpha=0.01, solver="cg", tol=1e-12, n_jobs=-1).fit(Xs, ys)
    np.testing.assert_allclose(every.coef_, one.coef_, rtol=1e-9, atol=1e-12)


# --- float32 ---------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["cg", "task_bcd", "gradient"])
def test_float32_fits_converge_at_the_default_tol(solver):
    Xs, ys = mt.datasets.load_school()
    Xs32 = [X.astype(np.float32) for X in Xs]
    ys32 = [y.astype(np.float32) for y in ys]
    K = mt.coupling.mean_regularized(len(Xs), mu=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model32 = mt.KernelCoupledRegressor(coupling=K, alpha=0.1, solver=solver, max_iter=5000).fit(Xs32, ys32)
    assert model32.coef_.dtype == np.float32
    model64 = mt.KernelCoupledRegressor(coupling=K, alpha=0.1, solver="exact").fit(Xs, ys)
    assert model32.kkt_residual_ <= FLOAT32_TOL_FLOOR
    # The float32 answer is the float64 one to float32 accuracy, measured on the predictions.
    scale = np.linalg.norm(np.concatenate(ys))
    gap = np.linalg.norm(np.concatenate(model32.predict(Xs32)) - np.concatenate(model64.predict(Xs)))
    assert gap <= 1e-3 * scale


@pytest.mark.parametrize("loss", ["logistic", "squared_hinge"])
def test_float32_classifier_converges_at_the_default_tol(loss):
    Xs, ys = _tasks(3, n_per_task=(300, 200, 250), d=8, classification=True)
    Xs32 = [X.astype(np.float32) for X in Xs]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = mt.KernelCoupledClassifier(alpha=1e-2, loss=loss).fit(Xs32, ys)
    reference = mt.KernelCoupledClassifier(alpha=1e-2, loss=loss).fit(Xs, ys)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=0, atol=1e-3 * np.abs(reference.coef_).max())


# --- parameters that the core cannot hold ---------------------------------------------------


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_max_iter_beyond_a_c_int_is_rejected(estimator):
    Xs, ys = _tasks(classification=estimator in (mt.KernelCoupledClassifier, mt.MultiTaskSVC))
    with pytest.raises(ValueError, match="max_iter"):
        estimator(max_iter=MAX_C_INT + 1).fit(Xs, ys)


def test_tiny_indefinite_coupling_is_rejected():
    K = 1e-12 * np.array([[1.0, 2.0], [2.0, 1.0]])  # eigenvalues 3e-12 and -1e-12
    with pytest.raises(ValueError, match="positive semidefinite"):
        mt.coupling.validate_coupling(K)
    Xs, ys = _tasks(n_per_task=(20, 30))
    with pytest.raises(ValueError, match="positive semidefinite"):
        mt.KernelCoupledRegressor(coupling=K, solver="task_bcd").fit(Xs, ys)
    # A tiny PSD coupling is fine.
    mt.coupling.validate_coupling(1e-12 * np.array([[1.0, -1.0], [-1.0, 1.0]]))


@pytest.mark.parametrize(
    "labels, message",
    [
        (np.array([1, "a", 1, "a"], dtype=object), "mixes labels"),
        (np.array(["a", np.nan, "a", "b"], dtype=object), "missing label"),
        (np.array([0.0, np.nan, 1.0, 1.0]), "NaN"),
    ],
)
def test_bad_task_labels_name_tasks(labels, message):
    X, y = np.random.default_rng(0).normal(size=(4, 2)), np.arange(4.0)
    with pytest.raises(ValueError, match=f"tasks.*{message}|{message}.*tasks|tasks contains"):
        mt.KernelCoupledRegressor().fit(X, y, tasks=labels)


# --- one result path ---------------------------------------------------------------------


def test_row_solver_warning_compares_the_relative_gap_with_tol():
    Xs, ys = _tasks(5, n_per_task=(50, 60, 40), d=20)
    model = mt.KernelCoupledRegressor(coupling="identity", alpha=0.01, l21=0.01, solver="feature_bcd", max_iter=1, tol=1e-12)
    with pytest.warns(ConvergenceWarning, match="relative duality gap") as record:
        model.fit(Xs, ys)
    value = float(re.search(r"relative duality gap ([0-9.e+-]+)", str(record[0].message)).group(1))
    # P(0) = sum_t s_t / 2 ||y_t - mean(y_t)||^2 with s_t = 1 / N (uniform weights, intercepts fitted).
    N = sum(y.size for y in ys)
    primal_at_zero = sum(0.5 / N * np.sum((y - y.mean()) ** 2) for y in ys)
    assert value == pytest.approx(model.dual_gap_ / primal_at_zero, rel=0.01)


def test_a_failed_fit_keeps_the_previous_fit():
    Xs, ys = _tasks()
    model = mt.KernelCoupledRegressor(alpha=0.1).fit(Xs, ys)
    coef, n_features = model.coef_.copy(), model.n_features_in_
    wider = [np.hstack([X, X[:, :1]]) for X in Xs]
    with pytest.raises(ValueError):
        model.set_params(coupling=np.eye(2)).fit(wider, ys)  # wrong coupling size, found after n_features_in_
    assert model.n_features_in_ == n_features
    np.testing.assert_array_equal(model.coef_, coef)
    model.set_params(coupling="mean_regularized").fit(wider, ys)
    assert model.coef_.shape == (3, 5)


@pytest.mark.parametrize("scale_X, alpha", [(1e160, 0.1), (1.0, 1e300), (1e160, 1e300)])
def test_non_finite_results_raise_and_leave_no_model(scale_X, alpha):
    Xs, ys = _tasks()
    model = mt.KernelCoupledRegressor(alpha=alpha, solver="gradient")
    try:
        model.fit([X * scale_X for X in Xs], ys)
    except mt.NumericalError:
        assert not hasattr(model, "coef_")
    else:  # a fit that succeeds must be finite and optimal
        assert np.all(np.isfinite(model.coef_)) and np.all(np.isfinite(model.intercept_))


def test_callable_kernel_with_non_finite_values_raises():
    Xs, ys = _tasks(classification=True)
    with pytest.raises(mt.NumericalError, match="callable kernel"):
        mt.MultiTaskSVC(kernel=lambda A, B: np.full((A.shape[0], B.shape[0]), np.nan)).fit(Xs, ys)


def test_reference_objective_at_the_returned_coefficients():
    # The stored objective_ is the objective at the stored coefficients (one result path for every solver).
    Xs, ys = _tasks(7)
    K = mt.coupling.mean_regularized(3, mu=0.2)
    for solver in ("exact", "cg", "task_bcd", "gradient"):
        model = mt.KernelCoupledRegressor(coupling=K, alpha=0.05, solver=solver, tol=1e-10).fit(Xs, ys)
        expected = ref.objective(Xs, ys, model.coef_, model.intercept_, K, 0.05)
        assert model.objective_ == pytest.approx(expected, rel=1e-8)
