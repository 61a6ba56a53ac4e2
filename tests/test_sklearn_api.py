"""scikit-learn conventions: estimator checks, cloning, metadata routing of `tasks`."""

import inspect

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
from sklearn.utils.estimator_checks import parametrize_with_checks

import multitask as mt


# scikit-learn's check calls fit, then partial_fit on the same estimator: ours refuses to add a chunk to
# a model fitted in memory (it kept no statistics); test_fit_score_and_partial_fit_take_y checks the rest.
PARTIAL_FIT_AFTER_FIT = {
    mt.KernelCoupledRegressor: {
        "check_fit_score_takes_y": "partial_fit after an in-memory fit is a ValueError: the fit kept no statistics"
    }
}


@parametrize_with_checks([mt.KernelCoupledRegressor(), mt.KernelCoupledClassifier(), mt.SharedSubspaceRegressor(),
                          mt.MultiTaskKernelRidge(), mt.MultiTaskSVC(),
                          mt.TaskRelationRegressor(), mt.TaskRelationClassifier(),
                          mt.KernelCoupledRegressorCV(alphas=3, cv=3), mt.KernelCoupledClassifierCV(alphas=[1e-2, 1e-1, 1.0], cv=3),
                          mt.MultiTaskKernelRidgeCV(alphas=3, cv=3),
                          mt.MultiTaskGaussianProcessRegressor()],
                         expected_failed_checks=lambda estimator: PARTIAL_FIT_AFTER_FIT.get(type(estimator), {}))
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)



def test_fit_score_and_partial_fit_take_y():
    """What check_fit_score_takes_y checks, with partial_fit on a fresh estimator; after fit it is refused."""
    rng = np.random.RandomState(0)
    X, y = rng.uniform(size=(30, 3)), (np.arange(30) % 3).astype(float)
    for method in ("fit", "partial_fit"):
        estimator = mt.KernelCoupledRegressor()
        getattr(estimator, method)(X, y)
        estimator.score(X, y)
        for function in (getattr(estimator, method), estimator.score):
            assert list(inspect.signature(function).parameters)[:2] == ["X", "y"]
    fitted = mt.KernelCoupledRegressor().fit(X, y)
    with pytest.raises(ValueError, match="fitted by fit on in-memory data"):
        fitted.partial_fit(X, y)


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
    model = mt.KernelCoupledRegressor(alpha=0.5, coupling="chain", solver="task_bcd")
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


def test_grid_search_over_coupling_and_weights_refits_on_everything():
    X, y, tasks = long_format_data(2)
    folds = list(StratifiedKFold(n_splits=3, shuffle=True, random_state=2).split(X, tasks))
    grid = {"coupling": ["identity", "mean_regularized"], "task_weights": ["uniform", "balanced"]}
    with sklearn.config_context(enable_metadata_routing=True):
        estimator = mt.KernelCoupledRegressor(alpha=0.1).set_fit_request(tasks=True).set_score_request(tasks=True)
        search = GridSearchCV(estimator, grid, cv=folds).fit(X, y, tasks=tasks)
        best = search.best_estimator_
        assert search.score(X, y, tasks=tasks) == pytest.approx(best.score(X, y, tasks=tasks), rel=1e-12)
    refit = mt.KernelCoupledRegressor(alpha=0.1, **search.best_params_).fit(X, y, tasks=tasks)
    np.testing.assert_allclose(best.coef_, refit.coef_, rtol=1e-12)
    np.testing.assert_array_equal(best.tasks_, np.array(["east", "north", "south", "west"]))
    for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
        fold_scores = [
            mt.KernelCoupledRegressor(alpha=0.1, **params).fit(X[train], y[train], tasks=tasks[train])
            .score(X[test], y[test], tasks=tasks[test])
            for train, test in folds
        ]
        assert score == pytest.approx(np.mean(fold_scores), rel=1e-12)


def test_unrequested_tasks_are_refused_by_routing():
    X, y, tasks = long_format_data(3)
    from sklearn.exceptions import UnsetMetadataPassedError

    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.raises(UnsetMetadataPassedError, match="tasks"):
            cross_validate(mt.KernelCoupledRegressor(), X, y, cv=3, params={"tasks": tasks})


def test_pipeline_routes_tasks_to_fit_predict_and_score():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, tasks = long_format_data(4)
    with sklearn.config_context(enable_metadata_routing=True):
        model = mt.KernelCoupledRegressor(alpha=0.05).set_fit_request(tasks=True)
        model.set_predict_request(tasks=True).set_score_request(tasks=True)
        pipe = make_pipeline(StandardScaler(), model).fit(X, y, tasks=tasks)
        predictions = pipe.predict(X, tasks=tasks)
        score = pipe.score(X, y, tasks=tasks)
    scaled = StandardScaler().fit_transform(X)
    direct = mt.KernelCoupledRegressor(alpha=0.05).fit(scaled, y, tasks=tasks)
    np.testing.assert_allclose(predictions, direct.predict(scaled, tasks=tasks), rtol=1e-10, atol=1e-12)
    assert score == pytest.approx(direct.score(scaled, y, tasks=tasks), rel=1e-12)


def test_clone_of_fitted_model_is_unfitted_and_params_round_trip():
    from sklearn.exceptions import NotFittedError

    K = mt.coupling.chain(3)
    model = mt.KernelCoupledRegressor(coupling=K, alpha=0.2, task_weights=[1.0, 2.0, 3.0], n_jobs=1)
    Xs, ys, _ = mt.datasets.make_multitask_regression(3, [20, 25, 30], 4, random_state=1)
    model.fit(Xs, ys)
    copy = clone(model)
    np.testing.assert_array_equal(copy.coupling, K)
    assert copy.task_weights == [1.0, 2.0, 3.0]
    with pytest.raises(NotFittedError):
        copy.predict(Xs)
    copy.fit(Xs, ys)
    np.testing.assert_array_equal(copy.coef_, model.coef_)
    with pytest.raises(ValueError, match="Invalid parameter"):
        model.set_params(no_such_parameter=1)
    assert set(model.get_params()) == {"coupling", "alpha", "l1", "l21", "trace_norm", "task_weights", "fit_intercept", "loss",
                                       "epsilon", "solver", "tol",
                                       "max_iter", "n_jobs", "warm_start", "unseen_tasks"}


def test_score_forms_are_pooled_or_averaged_r2():
    from sklearn.metrics import r2_score

    rng = np.random.default_rng(5)
    Xs, ys, _ = mt.datasets.make_multitask_regression(3, [20, 25, 30], 4, random_state=2)
    model = mt.KernelCoupledRegressor().fit(Xs, ys)
    pooled = r2_score(np.concatenate(ys), np.concatenate(model.predict(Xs)))
    assert model.score(Xs, ys) == pytest.approx(pooled, rel=1e-12)
    X = rng.normal(size=(40, 4))
    Y = X @ rng.normal(size=(4, 3)) + rng.normal(size=(40, 3))
    shared = mt.KernelCoupledRegressor().fit(X, Y)
    assert shared.score(X, Y) == pytest.approx(np.mean([r2_score(Y[:, t], shared.predict(X)[:, t]) for t in range(3)]),
                                               rel=1e-12)
