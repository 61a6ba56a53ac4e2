"""path_scores (the R^2 of every model of a kernel_ridge_path, one kernel evaluation) against
each model's own score, in the three input forms."""

import numpy as np
import pytest

import multitask as mt
from multitask._kernel_ridge import path_scores
from test_kernel_ridge import per_task_data

ALPHAS = np.array([1e-4, 1e-2, 1.0])


@pytest.mark.parametrize("form", ["lists", "long", "shared"])
def test_path_scores_equal_each_models_score(form):
    rng = np.random.default_rng(12)
    Xs, ys = per_task_data(rng, [20, 25, 15])
    tests_X, tests_y = per_task_data(rng, [7, 9, 5])
    estimator = mt.MultiTaskKernelRidge(kernel="rbf", gamma=0.4)
    tasks = test_tasks = None
    if form == "lists":
        X, y, X_test, y_test = Xs, ys, tests_X, tests_y
    elif form == "long":
        X, y = np.vstack(Xs), np.concatenate(ys)
        tasks = np.repeat(["a", "b", "c"], [20, 25, 15])
        X_test, y_test = np.vstack(tests_X), np.concatenate(tests_y)
        test_tasks = rng.permutation(np.repeat(["a", "b", "c"], [7, 9, 5]))
    else:
        X, y = Xs[1], np.column_stack([ys[1], -2 * ys[1] + 1])
        X_test, y_test = tests_X[1], np.column_stack([tests_y[1], -2 * tests_y[1] + 1])
    path = mt.kernel_ridge_path(estimator, X, y, tasks=tasks, alphas=ALPHAS)
    expected = [model.score(X_test, y_test, tasks=test_tasks) for model in path.estimators]
    np.testing.assert_allclose(path_scores(path.estimators, X_test, y_test, tasks=test_tasks), expected, rtol=1e-12)
    assert len(set(np.round(expected, 8))) == len(ALPHAS)  # the models differ: a mix-up would show
