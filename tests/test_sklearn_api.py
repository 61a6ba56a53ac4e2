"""scikit-learn conventions: estimator checks, cloning, metadata routing of `tasks`."""

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
from sklearn.utils.estimator_checks import parametrize_with_checks

import multitask as mt


@parametrize_with_checks([mt.KernelCoupledRegressor()])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def long_format_data(seed=0):
    Xs, ys, _ = mt.datasets.make_multitask_regression(4, [30, 45, 60, 36], 5, noise=0.5, random_state=seed)
    X, y = np.vstack(Xs), np.concatenate(ys)
    tasks = np.repeat(np.array(["north", "south", "east", "west"]), [len(y_t) for y_t in ys])
    perm = np.random.default_rng(seed).permutation(len(y))
    return X[perm], y[perm], tasks[perm]


def test_grid_search_routes_tasks_with_the_rows():
    X, y, tasks = long_format_data()
    folds = list(StratifiedKFold(n_splits=3, shuffle=True, random_state=0).split(X, tasks))
    with sklearn.config_context(enable_metadata_routing=True):
        estimator = mt.KernelCoupledRegressor().set_fit_request(tasks=True).set_score_request(tasks=True)
        search = GridSearchCV(estimator, {"alpha": [1e-3, 1e-1, 10.0]}, cv=folds).fit(X, y, tasks=tasks)
    # Reference: the same grid scored by hand, passing each fold its own task labels.
    expected = []
    for alpha in [1e-3, 1e-1, 10.0]:
        scores = []
        for train, test in folds:
            model = mt.KernelCoupledRegressor(alpha=alpha).fit(X[train], y[train], tasks=tasks[train])
            scores.append(model.score(X[test], y[test], tasks=tasks[test]))
        expected.append(np.mean(scores))
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], expected, rtol=1e-12)
    assert search.best_params_["alpha"] == [1e-3, 1e-1, 10.0][int(np.argmax(expected))]


def test_cross_validate_routes_tasks():
    X, y, tasks = long_format_data(1)
    folds = list(StratifiedKFold(n_splits=3, shuffle=True, random_state=1).split(X, tasks))
    with sklearn.config_context(enable_metadata_routing=True):
        estimator = mt.KernelCoupledRegressor().set_fit_request(tasks=True).set_score_request(tasks=True)
        result = cross_validate(estimator, X, y, cv=folds, params={"tasks": tasks}, return_estimator=True)
    for (train, test), score, fitted in zip(folds, result["test_score"], result["estimator"]):
        model = mt.KernelCoupledRegressor().fit(X[train], y[train], tasks=tasks[train])
        np.testing.assert_allclose(fitted.coef_, model.coef_, rtol=1e-12)
        assert score == pytest.approx(model.score(X[test], y[test], tasks=tasks[test]), rel=1e-12)


def test_clone_and_params():
    model = mt.KernelCoupledRegressor(alpha=0.5, coupling="chain", solver="bcd")
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    copy.set_params(alpha=2.0)
    assert model.alpha == 0.5 and copy.alpha == 2.0


def test_fitted_attributes():
    Xs, ys, _ = mt.datasets.make_multitask_regression(3, [20, 25, 30], 4, random_state=0)
    model = mt.KernelCoupledRegressor().fit(Xs, ys)
    assert model.coef_.shape == (3, 4) and model.intercept_.shape == (3,)
    np.testing.assert_array_equal(model.tasks_, np.arange(3))
    assert model.solver_ in ("exact", "cg") and model.n_features_in_ == 4
    assert np.isfinite(model.objective_) and model.kkt_residual_ <= model.tol
    np.testing.assert_allclose(model.coupling_, mt.coupling.mean_regularized(3))
