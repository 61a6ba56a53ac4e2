"""scikit-learn habits on multi-task data: a correct answer or a clear error, never a silent wrong one.

1. lists in cross-validation (scikit-learn would split the list of tasks);
2. the long format without ``tasks`` at predict/score, and model selection that
   would score without the task labels;
3. feature names in every input form;
9. MATLAB/GPy layouts: (n_t, 1) targets, ``loadmat`` cell arrays, 1-D X per task.

Every correct result is checked against a by-hand loop over the same folds that
fits the *list* form on each task's training rows and scores the held-out rows.
"""

import io

import numpy as np
import pandas as pd
import pytest
import scipy.io
import sklearn
from sklearn import model_selection as skm
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import multitask as mt
from readme_blocks import readme_blocks
from multitask.metrics import make_task_scorer
from multitask.model_selection import (
    GridSearchCV,
    RandomizedSearchCV,
    TaskKFold,
    cross_val_predict,
    cross_val_score,
    cross_validate,
    to_long_format,
    train_test_split_tasks,
)

SIZES = [24, 31, 40, 27]  # four tasks: cv=2 splits the list of tasks evenly, the silent case
LABELS = np.array(["east", "north", "south", "west"])
ALPHAS = [1e-3, 3e-2, 1.0]

ESTIMATORS = {
    "regressor": lambda: mt.KernelCoupledRegressor(alpha=1e-2),
    "classifier": lambda: mt.KernelCoupledClassifier(alpha=1e-2),
    "kernel_ridge": lambda: mt.MultiTaskKernelRidge(kernel="rbf", gamma=0.3, alpha=1e-3),
    "svc": lambda: mt.MultiTaskSVC(kernel="rbf", gamma=0.3, alpha=1e-2),
    "subspace": lambda: mt.SharedSubspaceRegressor(n_components=2, alpha=1e-2),
    "relations": lambda: mt.TaskRelationRegressor(alpha=1e-2, beta=1e-2),
    "relations_classifier": lambda: mt.TaskRelationClassifier(alpha=1e-2, beta=1e-2),
    "gaussian_process": lambda: mt.MultiTaskGaussianProcessRegressor(kernel="rbf", rank=1),
}
CLASSIFIERS = {"classifier", "svc", "relations_classifier"}


def search_grid(kind, factors=(0.1, 1.0)):
    """A two-point parameter grid for ``kind``: alpha times ``factors``, or the GP's rank (it has no alpha)."""
    if kind == "gaussian_process":
        return {"rank": [0, 1]}
    return {"alpha": [ESTIMATORS[kind]().alpha * factor for factor in factors]}


def task_lists(kind="regressor", seed=0, sizes=SIZES, n_features=3):
    """Per-task X and y: real targets, or the labels "no"/"yes" (both in every task) for classifiers."""
    Xs, ys, _ = mt.datasets.make_multitask_regression(len(sizes), sizes, n_features, noise=0.5, random_state=seed)
    if kind in CLASSIFIERS:
        ys = [np.where(y > np.median(y), "yes", "no") for y in ys]
    return Xs, ys


def long_data(kind="regressor", seed=0):
    """The same tasks in the long format, with string labels and the rows shuffled."""
    Xs, ys = task_lists(kind, seed)
    X, y = np.vstack(Xs), np.concatenate(ys)
    tasks = np.repeat(LABELS, SIZES)
    order = np.random.default_rng(seed).permutation(len(y))
    return X[order], y[order], tasks[order]


def by_hand_scores(make_model, X, y, tasks, folds, metric):
    """Fit the list form on every task's training rows, score the held-out rows of all tasks pooled."""
    labels = np.unique(tasks)
    scores = []
    for train, test in folds:
        Xs = [X[train][tasks[train] == label] for label in labels]
        ys = [y[train][tasks[train] == label] for label in labels]
        model = make_model().fit(Xs, ys)
        rows = [test[tasks[test] == label] for label in labels]
        held_out = [X[r] if r.size else X[:1] for r in rows]  # a task without test rows: a placeholder row
        predictions = getattr(model, metric.method)(held_out)  # the list form: one array per task
        y_true = np.concatenate([y[r] for r in rows if r.size])
        y_pred = np.concatenate([p for p, r in zip(predictions, rows) if r.size])
        scores.append(metric.score(y_true, y_pred))
    return np.array(scores)


class Metric:
    """A metric and the prediction method whose output it takes, for the by-hand reference."""

    def __init__(self, score, method="predict"):
        self.score, self.method = score, method


R2 = Metric(r2_score)
NEG_MSE = Metric(lambda a, b: -mean_squared_error(a, b))
ACCURACY = Metric(accuracy_score)


def test_task_kfold_splits_within_every_task():
    X, _, tasks = long_data()
    splitter = TaskKFold(n_splits=3, shuffle=True, random_state=0)
    folds = list(splitter.split(X, groups=tasks))
    assert len(folds) == splitter.get_n_splits() == 3
    test_rows = np.concatenate([test for _, test in folds])
    np.testing.assert_array_equal(np.sort(test_rows), np.arange(len(tasks)))  # a partition
    for train, test in folds:
        assert np.intersect1d(train, test).size == 0 and train.size + test.size == len(tasks)
        for label, n in zip(LABELS, SIZES):
            n_test = np.sum(tasks[test] == label)
            assert n_test in (n // 3, n // 3 + 1)  # proportional: a third of every task
            assert np.sum(tasks[train] == label) == n - n_test
    sizes = [test.size for _, test in folds]
    assert max(sizes) - min(sizes) <= 1  # the remainders are spread over the folds
    again = list(TaskKFold(n_splits=3, shuffle=True, random_state=0).split(X, groups=tasks))
    for (a, b), (c, d) in zip(folds, again):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    first = next(TaskKFold(n_splits=2).split(X, groups=tasks))[1]
    for label in LABELS:  # without shuffling: the first rows of every task
        held_out = first[tasks[first] == label]
        np.testing.assert_array_equal(held_out, np.flatnonzero(tasks == label)[: held_out.size])


def test_task_kfold_errors():
    X, _, tasks = long_data()
    with pytest.raises(ValueError, match="needs the task label of every row"):
        next(TaskKFold().split(X))
    with pytest.raises(ValueError, match="task 'solo' has a single row"):
        next(TaskKFold(2).split(X[:5], groups=np.array(["a", "a", "b", "b", "solo"])))
    with pytest.raises(ValueError, match="n_splits must be an integer of at least 2"):
        TaskKFold(1)
    with pytest.raises(ValueError, match="random_state has no effect without shuffle"):
        TaskKFold(3, random_state=0)
    with pytest.raises(ValueError, match="groups must hold one task label per row"):
        next(TaskKFold().split(X, groups=tasks[:-1]))


# ---------------------------------------------------------------- 1. lists


@pytest.mark.parametrize("kind", sorted(ESTIMATORS))
@pytest.mark.parametrize("tool", ["cross_val_score", "cross_validate", "cross_val_predict", "GridSearchCV"])
def test_task_lists_in_scikit_learn_cross_validation_are_refused(kind, tool):
    Xs, ys = task_lists(kind)
    model = ESTIMATORS[kind]()
    with pytest.raises(ValueError, match=r"split the list of tasks.*to_long_format"):
        if tool == "cross_val_score":
            skm.cross_val_score(model, Xs, ys, cv=2)
        elif tool == "cross_validate":
            skm.cross_validate(model, Xs, ys, cv=2)
        elif tool == "cross_val_predict":
            skm.cross_val_predict(model, Xs, ys, cv=2)
        else:
            skm.GridSearchCV(model, search_grid(kind), cv=2).fit(Xs, ys)


def test_task_lists_are_refused_in_joblib_workers_and_as_cell_arrays():
    Xs, ys = task_lists()
    cell_X, cell_y = np.empty((4, 1), dtype=object), np.empty((4, 1), dtype=object)
    for t in range(4):
        cell_X[t, 0], cell_y[t, 0] = Xs[t], ys[t][:, None]
    with pytest.raises(ValueError, match="split the list of tasks"):
        skm.cross_val_score(mt.KernelCoupledRegressor(), cell_X, cell_y, cv=2)
    with pytest.raises(ValueError, match="split the list of tasks"):
        skm.cross_val_score(mt.KernelCoupledRegressor(), Xs, ys, cv=2, n_jobs=2)
    with pytest.raises(ValueError, match="tasks must be None when X is a list of per-task matrices"):
        GridSearchCV(mt.KernelCoupledRegressor(), {"alpha": [0.1]}).fit(Xs, ys, tasks=np.arange(4))


def test_task_lists_through_the_long_format_match_a_by_hand_search():
    Xs, ys = task_lists(seed=1)
    X, y, tasks = to_long_format(Xs, ys)
    np.testing.assert_array_equal(tasks, np.repeat(np.arange(4), SIZES))
    np.testing.assert_array_equal(X, np.vstack(Xs))
    cv = TaskKFold(n_splits=3, shuffle=True, random_state=1)
    search = GridSearchCV(mt.KernelCoupledRegressor(), {"alpha": ALPHAS}, cv=cv).fit(X, y, tasks=tasks)
    folds = list(cv.split(X, groups=tasks))
    expected = [by_hand_scores(lambda: mt.KernelCoupledRegressor(alpha=a), X, y, tasks, folds, R2).mean()
                for a in ALPHAS]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], expected, rtol=1e-10)
    assert search.best_params_ == {"alpha": ALPHAS[int(np.argmax(expected))]}
    # The refitted model predicts the list form too (tasks 0..T-1 keep the list order).
    refit = mt.KernelCoupledRegressor(alpha=search.best_params_["alpha"]).fit(Xs, ys)
    for got, want in zip(search.best_estimator_.predict(Xs), refit.predict(Xs)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_our_search_and_cross_validate_take_task_lists():
    Xs, ys = task_lists(seed=15)
    X, y, tasks = to_long_format(Xs, ys)
    folds = list(TaskKFold(3).split(X, groups=tasks))  # what cv=3 means for lists
    search = GridSearchCV(mt.KernelCoupledRegressor(), {"alpha": ALPHAS}, cv=3, scoring="r2").fit(Xs, ys)
    expected = [by_hand_scores(lambda: mt.KernelCoupledRegressor(alpha=a), X, y, tasks, folds, R2).mean()
                for a in ALPHAS]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], expected, rtol=1e-10)
    best = ALPHAS[int(np.argmax(expected))]
    assert search.best_params_ == {"alpha": best}
    refit = mt.KernelCoupledRegressor(alpha=best).fit(Xs, ys)
    for got, want in zip(search.predict(Xs), refit.predict(Xs)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    assert search.score(Xs, ys) == pytest.approx(refit.score(Xs, ys), rel=1e-10)

    result = cross_validate(mt.KernelCoupledRegressor(alpha=0.03), Xs, ys, cv=3,
                            scoring={"r2": "r2", "mse": "neg_mean_squared_error"})
    np.testing.assert_allclose(result["test_r2"], by_hand_scores(
        lambda: mt.KernelCoupledRegressor(alpha=0.03), X, y, tasks, folds, R2), rtol=1e-10)
    np.testing.assert_allclose(result["test_mse"], by_hand_scores(
        lambda: mt.KernelCoupledRegressor(alpha=0.03), X, y, tasks, folds, NEG_MSE), rtol=1e-10)
    X_long, y_long, tasks_long = long_data("classifier", seed=15)
    long_folds = list(TaskKFold(4).split(X_long, groups=tasks_long))
    scores = cross_val_score(mt.KernelCoupledClassifier(alpha=0.05), X_long, y_long, tasks=tasks_long, cv=4)
    np.testing.assert_allclose(scores, by_hand_scores(lambda: mt.KernelCoupledClassifier(alpha=0.05), X_long, y_long,
                                                      tasks_long, long_folds, ACCURACY), rtol=1e-12)
    assert not sklearn.get_config()["enable_metadata_routing"]
    rng = np.random.default_rng(15)
    X_shared = rng.normal(size=(40, 3))
    Y = X_shared @ rng.normal(size=(3, 2)) + rng.normal(size=(40, 2))
    np.testing.assert_array_equal(cross_val_score(mt.KernelCoupledRegressor(), X_shared, Y, cv=4),
                                  skm.cross_val_score(mt.KernelCoupledRegressor(), X_shared, Y, cv=4))


def test_cross_val_predict_of_task_lists_matches_by_hand():
    Xs, ys = task_lists(seed=2)
    predictions = cross_val_predict(mt.KernelCoupledRegressor(alpha=0.05), Xs, ys, cv=3)
    X, y, tasks = to_long_format(Xs, ys)
    for train, test in TaskKFold(3).split(X, groups=tasks):
        model = mt.KernelCoupledRegressor(alpha=0.05).fit(
            [X[train][tasks[train] == t] for t in range(4)], [y[train][tasks[train] == t] for t in range(4)]
        )
        for t in range(4):
            rows = test[tasks[test] == t]
            local = rows - np.concatenate([[0], np.cumsum(SIZES)])[t]
            np.testing.assert_allclose(predictions[t][local], model.predict([X[rows]] * 4)[t], rtol=1e-10)


# ---------------------------------------------------------- 2. long format


@pytest.mark.parametrize("kind", sorted(ESTIMATORS))
def test_long_format_model_needs_tasks_at_predict_time(kind):
    X, y, tasks = long_data(kind)
    model = ESTIMATORS[kind]().fit(X, y, tasks=tasks)
    methods = ["predict", "decision_function", "predict_proba", "predict_log_proba"]
    for method in [m for m in methods if hasattr(model, m)]:
        with pytest.raises(ValueError, match=r"fitted in the long format.*pass tasks=.*set_score_request"):
            getattr(model, method)(X)
    with pytest.raises(ValueError, match=r"fitted in the long format.*pass tasks="):
        model.score(X, y)
    assert np.shape(model.predict(X, tasks=tasks)) == (len(y),)


@pytest.mark.parametrize("tool", ["cross_val_score", "GridSearchCV", "learning_curve"])
def test_long_format_cross_validation_without_routing_is_refused(tool):
    X, y, tasks = long_data()
    model = mt.KernelCoupledRegressor()
    with pytest.raises(ValueError, match="without metadata routing"):
        if tool == "cross_val_score":
            skm.cross_val_score(model, X, y, cv=TaskKFold(3), groups=tasks, params={"tasks": tasks})
        elif tool == "GridSearchCV":
            skm.GridSearchCV(model, {"alpha": ALPHAS}, cv=TaskKFold(3)).fit(X, y, groups=tasks, tasks=tasks)
        else:
            skm.learning_curve(model, X, y, cv=TaskKFold(3), groups=tasks, params={"tasks": tasks},
                               train_sizes=[0.5, 1.0])


def test_named_scoring_that_gets_no_tasks_is_refused():
    X, y, tasks = long_data()
    with sklearn.config_context(enable_metadata_routing=True):
        model = mt.KernelCoupledRegressor().set_fit_request(tasks=True).set_score_request(tasks=True)
        with pytest.raises(ValueError, match=r"scoring receives no task labels.*make_task_scorer"):
            skm.GridSearchCV(model, {"alpha": ALPHAS}, cv=TaskKFold(3), scoring="r2").fit(X, y, tasks=tasks)
        with pytest.raises(ValueError, match="scoring receives no task labels"):
            skm.cross_validate(model.set_score_request(tasks=False), X, y, cv=TaskKFold(3), params={"tasks": tasks})


def test_folds_that_leave_a_task_out_of_training_are_refused():
    Xs, ys = task_lists(seed=12)
    X, y, tasks = to_long_format(Xs, ys)  # rows sorted by task: an unshuffled KFold(2) holds out whole tasks
    with sklearn.config_context(enable_metadata_routing=True):
        model = mt.KernelCoupledRegressor().set_fit_request(tasks=True).set_score_request(tasks=True)
        with pytest.raises(ValueError, match=r"held-out fold holds tasks \[.*\] that its training fold lacks.*TaskKF"):
            skm.cross_val_score(model, X, y, cv=skm.KFold(2), params={"tasks": tasks})
    with pytest.raises(ValueError, match=r"held-out fold holds tasks \[0, 1\] that its training fold lacks"):
        GridSearchCV(mt.KernelCoupledRegressor(), {"alpha": ALPHAS}, cv=skm.KFold(2)).fit(X, y, tasks=tasks)


def test_grid_search_with_routing_matches_a_by_hand_search():
    X, y, tasks = long_data(seed=3)
    cv = TaskKFold(n_splits=4, shuffle=True, random_state=3)
    folds = list(cv.split(X, groups=tasks))
    with sklearn.config_context(enable_metadata_routing=True):
        model = mt.KernelCoupledRegressor().set_fit_request(tasks=True).set_score_request(tasks=True)
        search = skm.GridSearchCV(model, {"alpha": ALPHAS}, cv=cv).fit(X, y, tasks=tasks)  # TaskKFold gets tasks
        named = skm.GridSearchCV(model, {"alpha": ALPHAS}, cv=cv, scoring=make_task_scorer("neg_mean_squared_error"))
        named.fit(X, y, tasks=tasks)
    expected_r2 = [by_hand_scores(lambda: mt.KernelCoupledRegressor(alpha=a), X, y, tasks, folds, R2).mean()
                   for a in ALPHAS]
    expected_mse = [by_hand_scores(lambda: mt.KernelCoupledRegressor(alpha=a), X, y, tasks, folds, NEG_MSE).mean()
                    for a in ALPHAS]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], expected_r2, rtol=1e-10)
    np.testing.assert_allclose(named.cv_results_["mean_test_score"], expected_mse, rtol=1e-10)
    assert search.best_params_["alpha"] == ALPHAS[int(np.argmax(expected_r2))]
    assert named.best_params_["alpha"] == ALPHAS[int(np.argmax(expected_mse))]
    assert not np.isnan(search.cv_results_["mean_test_score"]).any()


@pytest.mark.parametrize("scoring", [None, "r2", "neg_mean_squared_error"])
def test_our_grid_search_needs_no_routing_and_predicts_with_tasks(scoring):
    X, y, tasks = long_data(seed=4)
    search = GridSearchCV(mt.KernelCoupledRegressor(), {"alpha": ALPHAS}, cv=3, scoring=scoring)
    search.fit(X, y, tasks=tasks)
    assert not sklearn.get_config()["enable_metadata_routing"]
    folds = list(TaskKFold(3).split(X, groups=tasks))  # cv=3 means TaskKFold(3)
    metric = NEG_MSE if scoring == "neg_mean_squared_error" else R2
    expected = [by_hand_scores(lambda: mt.KernelCoupledRegressor(alpha=a), X, y, tasks, folds, metric).mean()
                for a in ALPHAS]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], expected, rtol=1e-10)
    best = ALPHAS[int(np.argmax(expected))]
    assert search.best_params_ == {"alpha": best}
    refit = mt.KernelCoupledRegressor(alpha=best).fit(X, y, tasks=tasks)
    np.testing.assert_allclose(search.predict(X, tasks=tasks), refit.predict(X, tasks=tasks), rtol=1e-10)
    want = metric.score(y, refit.predict(X, tasks=tasks))
    assert search.score(X, y, tasks=tasks) == pytest.approx(want, rel=1e-10)
    with pytest.raises(ValueError, match="pass tasks="):
        search.predict(X)
    assert search.estimator.get_metadata_routing().fit.requests["tasks"] is None  # the user's model is untouched


def test_our_grid_search_routes_tasks_inside_joblib_workers():
    X, y, tasks = long_data(seed=14)
    grid = {"alpha": ALPHAS}
    parallel = GridSearchCV(mt.KernelCoupledRegressor(), grid, cv=3, scoring="r2", n_jobs=2).fit(X, y, tasks=tasks)
    serial = GridSearchCV(mt.KernelCoupledRegressor(), grid, cv=3, scoring="r2").fit(X, y, tasks=tasks)
    np.testing.assert_allclose(parallel.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"],
                               rtol=1e-10)


def test_our_grid_search_on_a_classifier_with_roc_auc_and_accuracy():
    X, y, tasks = long_data("classifier", seed=5)
    search = RandomizedSearchCV(mt.KernelCoupledClassifier(), {"alpha": ALPHAS}, n_iter=3, cv=3, random_state=0,
                                scoring={"auc": "roc_auc", "accuracy": "accuracy"}, refit="auc")
    search.fit(X, y, tasks=tasks)
    folds = list(TaskKFold(3).split(X, groups=tasks))
    auc = Metric(lambda a, b: roc_auc_score(a == "yes", b), method="decision_function")
    for params, got_auc, got_acc in zip(search.cv_results_["params"], search.cv_results_["mean_test_auc"],
                                        search.cv_results_["mean_test_accuracy"]):
        def make():
            return mt.KernelCoupledClassifier(**params)
        assert got_auc == pytest.approx(by_hand_scores(make, X, y, tasks, folds, auc).mean(), rel=1e-10)
        assert got_acc == pytest.approx(by_hand_scores(make, X, y, tasks, folds, ACCURACY).mean(), rel=1e-10)
    proba = search.predict_proba(X, tasks=tasks)
    assert proba.shape == (len(y), 2)
    np.testing.assert_allclose(proba, search.best_estimator_.predict_proba(X, tasks=tasks))
    np.testing.assert_array_equal(search.predict(X, tasks=tasks), search.best_estimator_.predict(X, tasks=tasks))


@pytest.mark.parametrize("kind", sorted(ESTIMATORS))
def test_every_estimator_searches_the_long_format_like_a_by_hand_loop(kind):
    X, y, tasks = long_data(kind, seed=10)
    search = GridSearchCV(ESTIMATORS[kind](), search_grid(kind, (0.5, 2.0)), cv=3)
    search.fit(X, y, tasks=tasks)
    folds = list(TaskKFold(3).split(X, groups=tasks))
    metric = ACCURACY if kind in CLASSIFIERS else R2  # the estimators' own score: accuracy, pooled R^2
    expected = []
    for params in search.cv_results_["params"]:
        def make():
            return ESTIMATORS[kind]().set_params(**params)
        expected.append(by_hand_scores(make, X, y, tasks, folds, metric).mean())
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], expected, rtol=1e-9)
    assert search.best_index_ == int(np.argmax(expected))


@pytest.mark.parametrize("kind", ["regressor", "kernel_ridge", "subspace"])
def test_shared_design_cross_validation_of_every_regressor(kind):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(45, 3))
    Y = X @ rng.normal(size=(3, 3)) + 0.3 * rng.normal(size=(45, 3))
    folds = list(skm.KFold(3, shuffle=True, random_state=0).split(X))
    scores = skm.cross_val_score(ESTIMATORS[kind](), X, Y, cv=folds)
    expected = [r2_score(Y[test], ESTIMATORS[kind]().fit(X[train], Y[train]).predict(X[test]))
                for train, test in folds]
    np.testing.assert_allclose(scores, expected, rtol=1e-10)


def test_cross_val_predict_of_the_long_format():
    X, y, tasks = long_data(seed=6)
    with sklearn.config_context(enable_metadata_routing=True):
        model = mt.KernelCoupledRegressor().set_fit_request(tasks=True)
        with pytest.raises(ValueError, match=r"cross_val_predict passes tasks to fit but never to predict"):
            skm.cross_val_predict(model, X, y, cv=TaskKFold(3), params={"tasks": tasks})
    predictions = cross_val_predict(mt.KernelCoupledRegressor(alpha=0.1), X, y, tasks=tasks, cv=3)
    for train, test in TaskKFold(3).split(X, groups=tasks):
        labels = np.unique(tasks)
        model = mt.KernelCoupledRegressor(alpha=0.1).fit([X[train][tasks[train] == s] for s in labels],
                                                         [y[train][tasks[train] == s] for s in labels])
        for t, label in enumerate(labels):
            rows = test[tasks[test] == label]
            np.testing.assert_allclose(predictions[rows], model.predict([X[rows]] * 4)[t], rtol=1e-10)


def test_pipeline_with_routing_in_cross_validate_matches_by_hand():
    X, y, tasks = long_data(seed=7)
    X = X * [1.0, 10.0, 100.0] + 5.0
    cv = TaskKFold(3, shuffle=True, random_state=7)
    with sklearn.config_context(enable_metadata_routing=True):
        model = mt.KernelCoupledRegressor(alpha=0.05).set_fit_request(tasks=True).set_score_request(tasks=True)
        result = skm.cross_validate(make_pipeline(StandardScaler(), model), X, y, cv=cv, params={"tasks": tasks})
    expected = []
    for train, test in cv.split(X, groups=tasks):
        scaler = StandardScaler().fit(X[train])
        fitted = mt.KernelCoupledRegressor(alpha=0.05).fit(scaler.transform(X[train]), y[train], tasks=tasks[train])
        expected.append(r2_score(y[test], fitted.predict(scaler.transform(X[test]), tasks=tasks[test])))
    np.testing.assert_allclose(result["test_score"], expected, rtol=1e-10)
    # Our search does the requests itself, for the Pipeline's last step too.
    search = GridSearchCV(make_pipeline(StandardScaler(), mt.KernelCoupledRegressor()),
                          {"kernelcoupledregressor__alpha": [0.05]}, cv=cv, scoring="r2").fit(X, y, tasks=tasks)
    np.testing.assert_allclose(search.cv_results_["split0_test_score"], expected[0], rtol=1e-10)


@pytest.mark.parametrize("form", ["lists", "long", "shared"])
def test_train_test_split_tasks_keeps_a_share_of_every_task(form):
    Xs, ys = task_lists(seed=8)
    if form == "lists":
        X_train, X_test, y_train, y_test = train_test_split_tasks(Xs, ys, test_size=0.25, random_state=0)
        for t, n in enumerate(SIZES):
            assert len(X_test[t]) == int(np.ceil(0.25 * n)) and len(X_train[t]) == n - len(X_test[t])
            rows = np.vstack([X_train[t], X_test[t]])
            np.testing.assert_array_equal(np.sort(rows[:, 0]), np.sort(Xs[t][:, 0]))
            for block, target in ((X_train[t], y_train[t]), (X_test[t], y_test[t])):  # rows stay with their y
                index = [np.flatnonzero(Xs[t][:, 0] == value)[0] for value in block[:, 0]]
                np.testing.assert_array_equal(target, ys[t][index])
    elif form == "long":
        X, y, tasks = long_data(seed=8)
        X_train, X_test, y_train, y_test, t_train, t_test = train_test_split_tasks(X, y, tasks, test_size=0.25,
                                                                                   random_state=0)
        for label, n in zip(LABELS, SIZES):
            assert np.sum(t_test == label) == int(np.ceil(0.25 * n)) and np.sum(t_train == label) == n - np.sum(
                t_test == label)
        assert len(y_train) + len(y_test) == len(y) and len(t_train) == len(X_train)
    else:
        X = Xs[0]
        Y = np.column_stack([ys[0], -ys[0]])
        X_train, X_test, Y_train, Y_test = train_test_split_tasks(X, Y, test_size=0.25, random_state=0)
        expected = skm.train_test_split(X, Y, test_size=0.25, random_state=0)
        for got, want in zip((X_train, X_test, Y_train, Y_test), expected):
            np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="test_size must be a fraction"):
        train_test_split_tasks(Xs, ys, test_size=3)
    with pytest.raises(ValueError, match="every task needs at least one of each"):
        train_test_split_tasks([Xs[0], Xs[1][:1]], [ys[0], ys[1][:1]])


def test_shared_design_works_with_plain_kfold():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(60, 4))
    Y = X @ rng.normal(size=(4, 3)) + rng.normal(size=(60, 3))
    folds = list(skm.KFold(3, shuffle=True, random_state=0).split(X))
    scores = skm.cross_val_score(mt.KernelCoupledRegressor(alpha=0.01), X, Y, cv=folds)
    expected = [r2_score(Y[test], mt.KernelCoupledRegressor(alpha=0.01).fit(X[train], Y[train]).predict(X[test]))
                for train, test in folds]
    np.testing.assert_allclose(scores, expected, rtol=1e-10)


# --------------------------------------------------------- 3. feature names


def frame(X, columns=("age", "income", "score")):
    return pd.DataFrame(X, columns=list(columns))


@pytest.mark.parametrize("kind", sorted(ESTIMATORS))
@pytest.mark.parametrize("form", ["lists", "long", "shared"])
def test_feature_names_in_every_form(kind, form):
    if form == "lists":
        Xs, y = task_lists(kind)
        X, predict = [frame(block) for block in Xs], {}
        fit = {}
        reorder = [block[["income", "age", "score"]] for block in X]
        plain = Xs
    elif form == "long":
        X_array, y, tasks = long_data(kind)
        X, fit, predict = frame(X_array), {"tasks": tasks}, {"tasks": tasks}
        reorder, plain = X[["income", "age", "score"]], X_array
    else:
        X_array, y_long, tasks = long_data(kind)
        X_array = X_array[tasks == "north"]
        first = y_long[tasks == "north"]
        Y = np.column_stack([first, np.roll(first, 1) if kind in CLASSIFIERS else first + X_array[:, 0]])
        X, fit, predict, y = frame(X_array), {}, {}, Y
        reorder, plain = X[["income", "age", "score"]], X_array
    model = ESTIMATORS[kind]().fit(X, y, **fit)
    np.testing.assert_array_equal(model.feature_names_in_, ["age", "income", "score"])
    with pytest.raises(ValueError, match="feature names should match"):
        model.predict(reorder, **predict)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        from_array = model.predict(plain, **predict)
    from_frame = model.predict(X, **predict)
    for got, want in zip(from_frame, from_array) if form == "lists" else [(from_frame, from_array)]:
        np.testing.assert_array_equal(got, want)
    unnamed = ESTIMATORS[kind]().fit(plain, y, **fit)
    assert not hasattr(unnamed, "feature_names_in_")
    with pytest.warns(UserWarning, match="fitted without feature names"):
        unnamed.predict(X, **predict)


def test_data_frames_through_cross_validation_give_the_array_results():
    X_array, y, tasks = long_data(seed=13)
    X = frame(X_array)
    grid = {"alpha": ALPHAS}
    from_frame = GridSearchCV(mt.KernelCoupledRegressor(), grid, cv=3, scoring="r2").fit(X, y, tasks=tasks)
    from_array = GridSearchCV(mt.KernelCoupledRegressor(), grid, cv=3, scoring="r2").fit(X_array, y, tasks=tasks)
    np.testing.assert_array_equal(from_frame.cv_results_["mean_test_score"], from_array.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(from_frame.best_estimator_.feature_names_in_, ["age", "income", "score"])
    np.testing.assert_array_equal(from_frame.feature_names_in_, ["age", "income", "score"])
    with pytest.raises(ValueError, match="feature names should match"):
        from_frame.predict(X[["score", "age", "income"]], tasks=tasks)
    with sklearn.config_context(enable_metadata_routing=True):
        model = mt.KernelCoupledRegressor().set_fit_request(tasks=True).set_score_request(tasks=True)
        scores = skm.cross_val_score(model, X, y, cv=TaskKFold(3), params={"tasks": tasks})
    folds = list(TaskKFold(3).split(X_array, groups=tasks))
    expected = by_hand_scores(mt.KernelCoupledRegressor, X_array, y, tasks, folds, R2)
    np.testing.assert_allclose(scores, expected, rtol=1e-10)


def test_list_of_data_frames_with_other_columns_is_refused():
    Xs, ys = task_lists()
    X = [frame(block) for block in Xs]
    X[2] = X[2].rename(columns={"score": "grade"})
    with pytest.raises(ValueError, match=r"X\[2\] has columns \['age', 'income', 'grade'\] but X\[0\] has"):
        mt.KernelCoupledRegressor().fit(X, ys)
    X[2] = Xs[2]
    with pytest.raises(ValueError, match=r"X\[2\] has no column names but X\[0\] has columns"):
        mt.MultiTaskKernelRidge().fit(X, ys)
    refit = mt.KernelCoupledRegressor().fit([frame(block) for block in Xs], ys).fit(Xs, ys)
    assert not hasattr(refit, "feature_names_in_")  # a refit without names forgets them


def test_to_long_format_keeps_data_frames():
    Xs, ys = task_lists()
    X, y, tasks = to_long_format([frame(block) for block in Xs], [pd.Series(target) for target in ys],
                                 task_labels=LABELS)
    assert list(X.columns) == ["age", "income", "score"] and len(X) == sum(SIZES)
    np.testing.assert_array_equal(tasks, np.repeat(LABELS, SIZES))
    np.testing.assert_array_equal(y, np.concatenate(ys))
    model = mt.KernelCoupledRegressor().fit(X, y, tasks=tasks)
    np.testing.assert_array_equal(model.feature_names_in_, X.columns)
    with pytest.raises(ValueError, match=r"X\[1\] has 2 features but X\[0\] has 3"):
        to_long_format([Xs[0], Xs[1][:, :2]], ys[:2])


# ------------------------------------------------------ 9. real-world layouts


@pytest.mark.parametrize("kind", sorted(ESTIMATORS))
def test_column_targets_are_single_targets(kind):
    Xs, ys = task_lists(kind)
    expected = ESTIMATORS[kind]().fit(Xs, ys)
    columns = ESTIMATORS[kind]().fit(Xs, [y[:, None] for y in ys])
    for got, want in zip(columns.predict(Xs), expected.predict(Xs)):
        np.testing.assert_array_equal(got, want)
    assert columns.score(Xs, [y[:, None] for y in ys]) == expected.score(Xs, ys)
    X, y, tasks = long_data(kind)
    long_expected = ESTIMATORS[kind]().fit(X, y, tasks=tasks)
    long_column = ESTIMATORS[kind]().fit(X, y[:, None], tasks=tasks)
    np.testing.assert_array_equal(long_column.predict(X, tasks=tasks), long_expected.predict(X, tasks=tasks))
    assert long_column.score(X, y[:, None], tasks=tasks) == long_expected.score(X, y, tasks=tasks)
    if kind not in CLASSIFIERS:  # a shared design's Y of shape (n, 1) is one task kept as a column
        shared = ESTIMATORS[kind]().fit(Xs[0], ys[0][:, None])
        assert shared.predict(Xs[0]).shape == (SIZES[0], 1)
        np.testing.assert_allclose(shared.predict(Xs[0])[:, 0], ESTIMATORS[kind]().fit(Xs[0], ys[0]).predict(Xs[0]),
                                   rtol=1e-10, atol=1e-12)


def matlab_cells(blocks, shape):
    cell = np.empty(shape, dtype=object)
    for t, block in enumerate(blocks):
        cell.flat[t] = block
    return cell


@pytest.mark.parametrize("kind", ["regressor", "classifier", "kernel_ridge", "svc", "subspace"])
@pytest.mark.parametrize("orientation", ["row", "column", "flat"])
def test_loadmat_cell_arrays_are_the_list_form(kind, orientation):
    Xs, ys = task_lists(kind)
    shape = {"row": (1, 4), "column": (4, 1), "flat": (4,)}[orientation]
    if kind in CLASSIFIERS:
        ys = [np.where(y == "yes", 1.0, -1.0) for y in ys]  # MATLAB labels are numbers
    buffer = io.BytesIO()
    scipy.io.savemat(buffer, {"X": matlab_cells(Xs, shape), "Y": matlab_cells([y[:, None] for y in ys], shape)})
    loaded = scipy.io.loadmat(io.BytesIO(buffer.getvalue()))
    X_cell, Y_cell = loaded["X"], loaded["Y"]
    if orientation == "flat":  # loadmat returns 2-D cells; a 1-D object array is also accepted
        X_cell, Y_cell = X_cell.ravel(), Y_cell.ravel()
    assert X_cell.dtype == object and Y_cell[0 if orientation == "flat" else (0, 0)].shape[1] == 1
    expected = ESTIMATORS[kind]().fit(Xs, ys)
    model = ESTIMATORS[kind]().fit(X_cell, Y_cell)
    predictions = model.predict(X_cell)
    assert isinstance(predictions, list) and len(predictions) == 4
    for got, want in zip(predictions, expected.predict(Xs)):
        np.testing.assert_array_equal(got, want)
    assert model.score(X_cell, Y_cell) == expected.score(Xs, ys)
    X, y, tasks = to_long_format(X_cell, Y_cell)
    np.testing.assert_array_equal(X, np.vstack(Xs))
    np.testing.assert_array_equal(y, np.concatenate(ys))


@pytest.mark.parametrize("kind", sorted(ESTIMATORS))
def test_one_dimensional_task_inputs_are_refused_with_the_fix(kind):
    Xs, ys = task_lists(kind, n_features=1)
    flat = [X[:, 0] for X in Xs]
    model = ESTIMATORS[kind]()
    if kind == "subspace":
        model.set_params(n_components=1)
    with pytest.raises(ValueError, match=r"X\[0\] has shape \(24,\).*2-D \(n_t, n_features\).*reshape\(-1, 1\)"):
        model.fit(flat, ys)  # ragged lengths
    same = [x[:20] for x in flat]
    with pytest.raises(ValueError, match=r"X\[0\] has shape \(20,\).*reshape\(-1, 1\)"):
        model.fit(same, [y[:20] for y in ys])  # equal lengths: still tasks, since y is a list of tasks
    with pytest.raises(ValueError, match=r"X\[1\] has shape \(31,\) but X\[0\] has shape \(24, 1\)"):
        model.fit([Xs[0], flat[1], Xs[2], Xs[3]], ys)
    with pytest.raises(ValueError, match=r"X\[1\] has rows of different lengths \(a ragged nested list\)"):
        model.fit([Xs[0], [[1.0], [2.0, 3.0]], Xs[2], Xs[3]], ys)
    fitted = model.fit([x.reshape(-1, 1) for x in flat], ys)  # the fix the message names
    with pytest.raises(ValueError, match=r"X\[0\] has shape \(24,\).*reshape\(-1, 1\)"):
        fitted.predict(flat)


# ------------------------------------------------------------------ README


def test_readme_cross_validation_section_runs_and_shows_what_it_says():
    blocks = readme_blocks("## Cross-validation")
    assert len(blocks) == 3
    namespace = {}
    snapshots = []
    for block in blocks:
        exec(block, namespace)  # noqa: S102 - the README's own examples
        snapshots.append(dict(namespace))
    first = snapshots[0]  # the lists recipe
    search, X, y, tasks = first["search"], first["X"], first["y"], first["tasks"]
    alphas = [1e-4, 1e-3, 1e-2]
    folds = list(TaskKFold(3).split(X, groups=tasks))
    expected = [by_hand_scores(lambda: mt.KernelCoupledRegressor(coupling="identity", alpha=a), X, y, tasks, folds,
                               NEG_MSE).mean() for a in alphas]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], expected, rtol=1e-8)
    best = alphas[int(np.argmax(expected))]
    assert search.best_params_ == {"alpha": best}
    assert f"search.best_params_                                  # {{'alpha': {best}}}" in blocks[0]  # the comment
    assert len(namespace["oof"]) == 139 and namespace["oof"][0].shape == namespace["Xs"][0][:, 0].shape
    assert namespace["scores"].shape == (3,) and np.all(namespace["scores"] > 0)
    result = namespace["result"]
    assert result["test_r2"].shape == (3,) and np.all(result["test_mse"] < 0)
    assert namespace["X"].shape == (200, 10)  # the last block (shared design) ran too
