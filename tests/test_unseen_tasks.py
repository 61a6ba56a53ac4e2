"""Predictions for tasks not seen in fit: ``unseen_tasks`` and ``unseen_task_models``.

``unseen_task_models(b)`` is checked against its defining identity: fitting T + m tasks with the
coupling K_ext = B_ext^{-1}, the last m tasks without data, gives the first T tasks the models of
a fit with ``coupling=from_task_kernel(B_ext[:T, :T])`` (Schur complement) and the m empty tasks
the models ``B_ext[T:, :T] B_ext[:T, :T]^{-1} W``. The T + m task problem is solved here from its
own optimality conditions (normal equations for the squared loss, Newton for the logistic loss),
in plain numpy, since the estimators refuse a task without data.

Objective (README, "The objective"), uniform task weights, W = coef^T (d, T):

    F(W, b) = (1/N) sum_t sum_i l(y_ti, <w_t, x_ti> + b_t) + alpha/2 tr(W K W^T).
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit
from sklearn.exceptions import NotFittedError
from sklearn.metrics import r2_score

import multitask as mt
from readme_blocks import readme_blocks

N_FITTED, N_NEW, N_FEATURES = 3, 2, 4


def extended_kernel(seed=0):
    """A task kernel over T + m tasks from random descriptors (rbf, plus a small ridge)."""
    rng = np.random.default_rng(seed)
    descriptors = rng.normal(size=(N_FITTED + N_NEW, 2))
    return mt.coupling.task_kernel(descriptors, gamma=0.5) + 0.05 * np.eye(N_FITTED + N_NEW)


def regression_tasks(seed=0, n_per_task=(25, 40, 30)):
    rng = np.random.default_rng(seed)
    Xs = [rng.normal(size=(n, N_FEATURES)) + 0.3 for n in n_per_task]
    ys = [X @ rng.normal(size=N_FEATURES) + rng.normal() + 0.1 * rng.normal(size=len(X)) for X in Xs]
    return Xs, ys


def least_squares_with_empty_tasks(Xs, ys, K, alpha, fit_intercept):
    """Minimiser of F for len(K) tasks, the last len(K) - len(Xs) without data, by its normal equations.

    Unknowns: w_0 .. w_{T+m-1} (d each), then the intercepts of the T tasks with data (an empty
    task's intercept appears in no term of F). Gradient in w_t:
    (1/N) X_t^T (X_t w_t + b_t - y_t) + alpha sum_s K_ts w_s; in b_t: (1/N) sum_i (x_ti w_t + b_t - y_ti).
    """
    n_all, n_data, d = K.shape[0], len(Xs), Xs[0].shape[1]
    N = sum(len(X) for X in Xs)
    n_intercepts = n_data if fit_intercept else 0
    size = d * n_all + n_intercepts
    M, r = np.zeros((size, size)), np.zeros(size)
    for t in range(n_all):
        for s in range(n_all):
            M[t * d:(t + 1) * d, s * d:(s + 1) * d] += alpha * K[t, s] * np.eye(d)
    for t, (X, y) in enumerate(zip(Xs, ys)):
        block = slice(t * d, (t + 1) * d)
        M[block, block] += X.T @ X / N
        r[block] = X.T @ y / N
        if fit_intercept:
            b = d * n_all + t
            M[block, b] = M[b, block] = X.sum(axis=0) / N
            M[b, b] = len(X) / N
            r[b] = y.sum() / N
    theta = np.linalg.solve(M, r)
    coef = theta[:d * n_all].reshape(n_all, d)
    intercept = theta[d * n_all:] if fit_intercept else np.zeros(n_data)
    return coef, intercept


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_unseen_task_models_are_the_empty_tasks_of_the_joint_least_squares_fit(fit_intercept):
    B_ext = extended_kernel()
    Xs, ys = regression_tasks()
    alpha = 0.05
    coef_all, intercept_all = least_squares_with_empty_tasks(Xs, ys, mt.coupling.from_task_kernel(B_ext), alpha,
                                                             fit_intercept)
    model = mt.KernelCoupledRegressor(coupling=mt.coupling.from_task_kernel(B_ext[:N_FITTED, :N_FITTED]),
                                      alpha=alpha, fit_intercept=fit_intercept, tol=1e-12).fit(Xs, ys)
    # The T tasks with data: the Schur complement of K_ext is inv(B_ext[:T, :T]).
    np.testing.assert_allclose(model.coef_, coef_all[:N_FITTED], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(model.intercept_, intercept_all, rtol=1e-8, atol=1e-10)
    # The m empty tasks: -K_nn^{-1} K_nf W = B_nf B_ff^{-1} W.
    coef, intercept = model.unseen_task_models(B_ext[N_FITTED:, :N_FITTED])
    np.testing.assert_allclose(coef, coef_all[N_FITTED:], rtol=1e-8, atol=1e-10)
    assert coef.shape == (N_NEW, N_FEATURES) and intercept.shape == (N_NEW,)
    if not fit_intercept:
        np.testing.assert_array_equal(intercept, np.zeros(N_NEW))
    # The closed form itself, by the Schur complement of K_ext.
    K_ext = mt.coupling.from_task_kernel(B_ext)
    schur = -np.linalg.solve(K_ext[N_FITTED:, N_FITTED:], K_ext[N_FITTED:, :N_FITTED])
    np.testing.assert_allclose(coef, schur @ model.coef_, rtol=1e-8, atol=1e-10)


def logistic_with_empty_tasks(Xs, ys, K, alpha):
    """Minimiser of F with the logistic loss (labels -1/+1) for len(K) tasks, the last without data (Newton)."""
    n_all, d = K.shape[0], Xs[0].shape[1]
    N = sum(len(X) for X in Xs)
    size = d * n_all + len(Xs)
    theta = np.zeros(size)
    penalty = np.zeros((size, size))
    penalty[:d * n_all, :d * n_all] = alpha * np.kron(K, np.eye(d))
    for _ in range(100):
        gradient, hessian = penalty @ theta, penalty.copy()
        for t, (X, y) in enumerate(zip(Xs, ys)):
            rows = np.zeros((len(X), size))  # d f / d theta for task t's samples
            rows[:, t * d:(t + 1) * d] = X
            rows[:, d * n_all + t] = 1.0
            f = rows @ theta
            gradient += rows.T @ (-y * expit(-y * f)) / N
            curvature = expit(f) * expit(-f)
            hessian += rows.T @ (curvature[:, None] * rows) / N
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.linalg.norm(step) < 1e-14 * max(1.0, np.linalg.norm(theta)):
            break
    return theta[:d * n_all].reshape(n_all, d), theta[d * n_all:]


def test_unseen_task_models_are_the_empty_tasks_of_the_joint_logistic_fit():
    B_ext = extended_kernel(seed=1)
    Xs, ys = regression_tasks(seed=1, n_per_task=(60, 80, 70))
    labels = [np.where(y > np.median(y), 1.0, -1.0) for y in ys]
    alpha = 0.05
    coef_all, intercept_all = logistic_with_empty_tasks(Xs, labels, mt.coupling.from_task_kernel(B_ext), alpha)
    model = mt.KernelCoupledClassifier(coupling=mt.coupling.from_task_kernel(B_ext[:N_FITTED, :N_FITTED]),
                                       alpha=alpha, tol=1e-12).fit(Xs, labels)
    np.testing.assert_allclose(model.coef_, coef_all[:N_FITTED], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(model.intercept_, intercept_all, rtol=1e-7, atol=1e-9)
    coef, _ = model.unseen_task_models(B_ext[N_FITTED:, :N_FITTED])
    np.testing.assert_allclose(coef, coef_all[N_FITTED:], rtol=1e-7, atol=1e-9)


def test_unseen_task_intercepts_follow_the_documented_formula():
    B = extended_kernel()[:N_FITTED, :N_FITTED]
    Xs, ys = regression_tasks()
    model = mt.KernelCoupledRegressor(coupling=mt.coupling.from_task_kernel(B), alpha=0.05).fit(Xs, ys)
    rng = np.random.default_rng(3)
    similarity = rng.uniform(size=(4, N_FITTED))
    coef, intercept = model.unseen_task_models(similarity)
    K, b = model.coupling_, model.intercept_
    np.testing.assert_allclose(coef, similarity @ K @ model.coef_, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(intercept, b.mean() + similarity @ K @ (b - b.mean()), rtol=1e-12, atol=1e-14)
    # A row of B reproduces that fitted task; a row of zeros is the zero model with the mean intercept.
    coef, intercept = model.unseen_task_models(np.vstack((B[[1]], np.zeros((1, N_FITTED)))))
    np.testing.assert_allclose(coef[0], model.coef_[1], rtol=1e-10, atol=1e-12)
    assert intercept[0] == pytest.approx(b[1], rel=1e-10)
    np.testing.assert_array_equal(coef[1], np.zeros(N_FEATURES))
    assert intercept[1] == pytest.approx(b.mean(), rel=1e-14)
    # The scale of the coupling (alpha K with K = B^{-1}) does not change the formula's weights.
    assert model.unseen_task_models(np.zeros((0, N_FITTED)))[0].shape == (0, N_FEATURES)


def test_unseen_task_models_of_the_shared_subspace_regressor():
    """W = U A with the prior on the heads A: the new heads A K b*, so the same formula on coef_."""
    B = extended_kernel()[:N_FITTED, :N_FITTED]
    Xs, ys = regression_tasks()
    model = mt.SharedSubspaceRegressor(n_components=2, coupling=mt.coupling.from_task_kernel(B)).fit(Xs, ys)
    similarity = np.random.default_rng(4).uniform(size=(2, N_FITTED))
    coef, _ = model.unseen_task_models(similarity)
    heads = similarity @ model.coupling_ @ model.heads_  # (m, r)
    np.testing.assert_allclose(coef, heads @ model.components_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.unseen_task_models(B[[0]])[0][0], model.coef_[0], rtol=1e-10, atol=1e-12)


def test_unseen_task_models_keep_float32():
    B = extended_kernel()[:N_FITTED, :N_FITTED]
    Xs, ys = regression_tasks()
    model = mt.KernelCoupledRegressor(coupling=mt.coupling.from_task_kernel(B), alpha=0.05)
    model.fit([X.astype(np.float32) for X in Xs], [y.astype(np.float32) for y in ys])
    coef, intercept = model.unseen_task_models(B[[0]])
    assert coef.dtype == np.float32 and intercept.dtype == np.float32


@pytest.mark.parametrize(
    "similarity, match",
    [
        (np.ones(N_FITTED), r"task_similarity must be a 2-D array of shape \(n_new_tasks, 3\).*got shape \(3,\)"),
        (np.ones((2, N_FITTED + 1)), r"task_similarity must be a 2-D.*got shape \(2, 4\)"),
        (np.ones((1, 1, N_FITTED)), r"task_similarity must be a 2-D"),
        (np.array([[1.0, np.nan, 0.0]]), "task_similarity contains NaN or infinite entries"),
        (np.array([[1.0, np.inf, 0.0]]), "task_similarity contains NaN or infinite entries"),
        (np.ones((1, N_FITTED), dtype=complex), "task_similarity must be real"),
        ([["a", "b", "c"]], "task_similarity must be a real numeric array"),
        ([[1.0, 2.0], [1.0]], "task_similarity must be a numeric array"),
    ],
)
def test_bad_task_similarity_is_a_value_error(similarity, match):
    B = extended_kernel()[:N_FITTED, :N_FITTED]
    Xs, ys = regression_tasks()
    model = mt.KernelCoupledRegressor(coupling=mt.coupling.from_task_kernel(B), alpha=0.05).fit(Xs, ys)
    with pytest.raises(ValueError, match=match):
        model.unseen_task_models(similarity)


def test_unseen_task_models_need_a_fitted_model_and_an_invertible_coupling():
    with pytest.raises(NotFittedError):
        mt.KernelCoupledRegressor().unseen_task_models(np.ones((1, 3)))
    Xs, ys = regression_tasks()
    K = mt.coupling.mean_regularized(N_FITTED, mu=0.0)  # I - 11^T/T: the all-ones direction is not penalised
    assert np.linalg.eigvalsh(K)[0] == pytest.approx(0.0, abs=1e-14)
    singular = mt.KernelCoupledRegressor(coupling=K, alpha=0.05).fit(Xs, ys)
    with pytest.raises(ValueError, match=r"coupling_ is singular .*from_task_kernel\(B\)"):
        singular.unseen_task_models(np.ones((1, N_FITTED)))
    labels = [np.where(y > np.median(y), "b", "a") for y in ys]
    singular = mt.KernelCoupledClassifier(coupling=K, alpha=0.05).fit(Xs, labels)
    with pytest.raises(ValueError, match="coupling_ is singular"):
        singular.unseen_task_models(np.ones((1, N_FITTED)))
    # The default coupling (mean_regularized with mu=0.1) is positive definite: no error.
    model = mt.KernelCoupledRegressor(alpha=0.05).fit(Xs, ys)
    similarity = mt.coupling.from_task_kernel(model.coupling_)[[2]]  # B's row of task 2
    np.testing.assert_allclose(model.unseen_task_models(similarity)[0][0], model.coef_[2], rtol=1e-10)


def test_unseen_task_models_example_runs():
    method = mt.KernelCoupledRegressor.unseen_task_models
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    test = parser.get_doctest(method.__doc__, {}, method.__qualname__, None, 0)
    assert test.examples
    result = runner.run(test, out=lambda text: None)
    assert result.failed == 0 and result.attempted == len(test.examples)


# ------------------------------------------------------------------ unseen_tasks="mean"


def long_format(seed=0, labels=("a", "b", "c"), n_per_task=(30, 45, 35)):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(sum(n_per_task), N_FEATURES)) + 0.2
    tasks = np.repeat(np.array(labels), n_per_task)
    rng.shuffle(tasks)
    models = {label: rng.normal(size=N_FEATURES) for label in labels}
    y = np.array([x @ models[t] for x, t in zip(X, tasks)]) + 0.5 + 0.1 * rng.normal(size=len(X))
    return X, y, tasks


def mixed_rows(seed=1):
    """Rows labelled by fitted tasks and by two unseen labels, interleaved."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(12, N_FEATURES))
    tasks = np.array(["a", "z", "b", "c", "new", "a", "z", "c", "b", "new", "a", "z"])
    return X, tasks


def by_hand(model, X, tasks):
    """<w_t, x> + b_t, the mean model (equal weight per task) for labels not in tasks_."""
    coef_mean, intercept_mean = model.coef_.mean(axis=0), model.intercept_.mean()
    values = []
    for x, label in zip(X, tasks):
        if label in model.tasks_.tolist():
            t = model.tasks_.tolist().index(label)
            values.append(x @ model.coef_[t] + model.intercept_[t])
        else:
            values.append(x @ coef_mean + intercept_mean)
    return np.array(values)


def test_mean_option_predicts_unseen_rows_with_the_mean_model_regressor():
    X, y, tasks = long_format()
    model = mt.KernelCoupledRegressor(alpha=0.01, unseen_tasks="mean").fit(X, y, tasks=tasks)
    X_test, tasks_test = mixed_rows()
    expected = by_hand(model, X_test, tasks_test)
    np.testing.assert_allclose(model.predict(X_test, tasks=tasks_test), expected, rtol=1e-12, atol=1e-12)
    y_test = expected + np.random.default_rng(2).normal(size=len(expected))
    assert model.score(X_test, y_test, tasks=tasks_test) == pytest.approx(r2_score(y_test, expected), rel=1e-12)
    # Seen rows are predicted as before; sparse X gives the same.
    seen = np.isin(tasks_test, model.tasks_)
    errors = mt.KernelCoupledRegressor(alpha=0.01).fit(X, y, tasks=tasks)
    np.testing.assert_allclose(model.predict(X_test[seen], tasks=tasks_test[seen]),
                               errors.predict(X_test[seen], tasks=tasks_test[seen]), rtol=1e-12)
    np.testing.assert_allclose(model.predict(sp.csr_matrix(X_test), tasks=tasks_test), expected, rtol=1e-12,
                               atol=1e-12)
    # Every row unseen.
    np.testing.assert_allclose(model.predict(X_test, tasks=np.full(len(X_test), "zz")),
                               X_test @ model.coef_.mean(axis=0) + model.intercept_.mean(), rtol=1e-12)


def test_mean_option_predicts_unseen_rows_with_the_mean_model_classifier():
    X, y, tasks = long_format(seed=3)
    labels = np.where(y > np.median(y), "spam", "ham")
    model = mt.KernelCoupledClassifier(alpha=0.01, unseen_tasks="mean").fit(X, labels, tasks=tasks)
    X_test, tasks_test = mixed_rows(seed=4)
    expected = by_hand(model, X_test, tasks_test)
    np.testing.assert_allclose(model.decision_function(X_test, tasks=tasks_test), expected, rtol=1e-12,
                               atol=1e-12)
    predicted = np.where(expected > 0, "spam", "ham")
    np.testing.assert_array_equal(model.predict(X_test, tasks=tasks_test), predicted)
    np.testing.assert_allclose(model.predict_proba(X_test, tasks=tasks_test),
                               np.column_stack((expit(-expected), expit(expected))), rtol=1e-12)
    np.testing.assert_allclose(model.predict_log_proba(X_test, tasks=tasks_test),
                               np.log(np.column_stack((expit(-expected), expit(expected)))), rtol=1e-10)
    truth = predicted.copy()
    truth[:3] = np.where(truth[:3] == "spam", "ham", "spam")
    assert model.score(X_test, truth, tasks=tasks_test) == pytest.approx(np.mean(truth == predicted), rel=1e-14)


def test_error_option_keeps_the_value_error():
    X, y, tasks = long_format()
    X_test, tasks_test = mixed_rows()
    message = r"tasks contains labels not seen in fit, e.g. \['new', 'z'\]; when cross-validating"
    for model in (mt.KernelCoupledRegressor(alpha=0.01), mt.KernelCoupledRegressor(alpha=0.01, unseen_tasks="error")):
        model.fit(X, y, tasks=tasks)
        with pytest.raises(ValueError, match=message):
            model.predict(X_test, tasks=tasks_test)
        with pytest.raises(ValueError, match=message):
            model.score(X_test, np.zeros(len(X_test)), tasks=tasks_test)
    labels = np.where(y > np.median(y), 1, 0)
    classifier = mt.KernelCoupledClassifier(alpha=0.01).fit(X, labels, tasks=tasks)
    for method in (classifier.predict, classifier.decision_function, classifier.predict_proba):
        with pytest.raises(ValueError, match=message):
            method(X_test, tasks=tasks_test)
    # The option is read at predict time: set_params after fit switches it.
    classifier.set_params(unseen_tasks="mean")
    np.testing.assert_allclose(classifier.decision_function(X_test, tasks=tasks_test),
                               by_hand(classifier, X_test, tasks_test), rtol=1e-12, atol=1e-12)


def test_mean_option_keeps_the_error_for_labels_of_another_type():
    X, y, tasks = long_format()
    model = mt.KernelCoupledRegressor(alpha=0.01, unseen_tasks="mean").fit(X, y, tasks=tasks)
    another_type = "tasks has labels of another type than those seen in fit"
    with pytest.raises(ValueError, match=another_type + r": int64 labels, but tasks_ has dtype <U1"):
        model.predict(X[:3], tasks=np.array([1, 2, 3]))
    with pytest.raises(ValueError, match=another_type):  # objects: compared label by label
        model.predict(X[:3], tasks=np.array([1, 2, 3], dtype=object))
    Xs, ys = regression_tasks()
    numbered = mt.KernelCoupledRegressor(alpha=0.01, unseen_tasks="mean").fit(Xs, ys)  # tasks_ 0, 1, 2
    with pytest.raises(ValueError, match=another_type + r": <U1 labels, but tasks_ has dtype int64"):
        numbered.predict(Xs[0][:2], tasks=["0", "7"])
    # Labels as objects of the same type as tasks_ are fine.
    np.testing.assert_allclose(model.predict(X[:2], tasks=np.array(["a", "zz"], dtype=object)),
                               by_hand(model, X[:2], ["a", "zz"]), rtol=1e-12)


def test_mean_option_leaves_lists_and_the_shared_design_alone():
    Xs, ys = regression_tasks()
    model = mt.KernelCoupledRegressor(alpha=0.01, unseen_tasks="mean").fit(Xs, ys)
    reference = mt.KernelCoupledRegressor(alpha=0.01).fit(Xs, ys)
    for got, expected in zip(model.predict(Xs), reference.predict(Xs)):
        np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError, match="X holds 4 tasks but the model was fitted on 3"):
        model.predict(Xs + [Xs[0]])
    X, Y = Xs[0], np.column_stack([Xs[0] @ np.ones(N_FEATURES), ys[0]])
    shared = mt.KernelCoupledRegressor(alpha=0.01, unseen_tasks="mean").fit(X, Y)
    np.testing.assert_array_equal(shared.predict(X), mt.KernelCoupledRegressor(alpha=0.01).fit(X, Y).predict(X))
    # A model fitted on lists has labels 0..T-1: the long format at predict time can still name others.
    np.testing.assert_allclose(model.predict(Xs[0][:2], tasks=[0, 7]),
                               by_hand(model, Xs[0][:2], [0, 7]), rtol=1e-12)


@pytest.mark.parametrize("estimator", [mt.KernelCoupledRegressor, mt.KernelCoupledClassifier])
def test_unseen_tasks_is_validated_at_fit(estimator):
    X, y, tasks = long_format()
    if estimator is mt.KernelCoupledClassifier:
        y = np.where(y > np.median(y), 1, 0)
    with pytest.raises(ValueError, match="The 'unseen_tasks' parameter of .* must be a str among"):
        estimator(unseen_tasks="zero").fit(X, y, tasks=tasks)
    assert estimator(unseen_tasks="mean").get_params()["unseen_tasks"] == "mean"


# ------------------------------------------------------------------ README


def test_readme_new_tasks_section_runs_and_shows_what_it_says():
    blocks = readme_blocks("### New tasks: `unseen_tasks` and `unseen_task_models`")
    assert len(blocks) == 1
    namespace = {}
    exec(blocks[0], namespace)  # noqa: S102 - the README's own example
    model, X, A, A_new = namespace["model"], namespace["X"], namespace["A"], namespace["A_new"]
    np.testing.assert_allclose(namespace["mixed"], by_hand(model, X[:3], [0, 9, 9]), rtol=1e-12)
    T = len(A)
    B_all = mt.coupling.task_kernel(np.vstack((A, A_new)), gamma=1.0)
    coef = B_all[T:, :T] @ model.coupling_ @ model.coef_
    np.testing.assert_allclose(namespace["coef"], coef, rtol=1e-12)
    b = model.intercept_
    np.testing.assert_allclose(namespace["intercept"], b.mean() + B_all[T:, :T] @ model.coupling_ @ (b - b.mean()),
                               rtol=1e-12)
    assert namespace["coef"].shape == (2, X.shape[1]) and namespace["intercept"].shape == (2,)
