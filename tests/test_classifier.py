"""KernelCoupledClassifier against independent references.

Objective (README, "The objective") with labels mapped to -1/+1 (classes_[1] is +1):

    F(W, b) = (1/N) sum_t omega_t sum_i l(y_ti, <w_t, x_ti> + b_t) + alpha/2 sum_{s,t} K_st <w_s, w_t>.

References: scikit-learn's LogisticRegression per task for K = I (C = omega_t / (N alpha)),
and the numpy/scipy solution of reference.py for coupled tasks (s_t = omega_t / N).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold

import multitask as mt
import reference as ref

N_PER_TASK = (40, 65, 90, 52)


def make_tasks(seed=0, n_per_task=N_PER_TASK, n_features=6, *, sparsity=0.0, labels=("no", "yes")):
    """Per-task X and labels from related noisy linear models; labels[1] is the positive class."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(size=n_features)
    Xs, ys = [], []
    for n in n_per_task:
        X = rng.normal(size=(n, n_features)) + 0.2
        if sparsity:
            X[rng.random(X.shape) < sparsity] = 0.0
        f = X @ (shared + 0.8 * rng.normal(size=n_features)) + 0.3 + rng.normal(size=n)
        Xs.append(X)
        ys.append(np.where(f > 0, labels[1], labels[0]))
    return Xs, ys


def signed(ys, positive):
    return [np.where(np.asarray(y) == positive, 1.0, -1.0) for y in ys]


def tight(**params):
    return mt.KernelCoupledClassifier(tol=1e-12, max_iter=5000, **params)


# --- against references ---------------------------------------------------------


@pytest.mark.parametrize("task_weights", ["uniform", "balanced", [0.5, 2.0, 1.0, 3.0]])
def test_identity_coupling_is_logistic_regression_per_task(task_weights):
    """K = I: task t is LogisticRegression(C = omega_t / (N alpha)) on its own data."""
    Xs, ys = make_tasks(1)
    alpha = 0.02
    model = tight(coupling="identity", alpha=alpha, task_weights=task_weights).fit(Xs, ys)
    omega = ref.omega(task_weights, [len(y) for y in ys])
    N = sum(len(y) for y in ys)
    for t, (X, y) in enumerate(zip(Xs, ys)):
        peer = LogisticRegression(C=omega[t] / (N * alpha), tol=1e-12, max_iter=10000).fit(X, y)
        np.testing.assert_allclose(model.coef_[t], peer.coef_[0], rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(model.intercept_[t], peer.intercept_[0], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("loss", ["logistic", "squared_hinge"])
@pytest.mark.parametrize("solver", ["block_newton", "gradient"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_coupled_model_matches_reference_solution(loss, solver, fit_intercept):
    Xs, ys = make_tasks(2)
    K = mt.coupling.mean_regularized(len(Xs), 0.3)
    model = tight(coupling=K, alpha=0.05, loss=loss, solver=solver, fit_intercept=fit_intercept).fit(Xs, ys)
    s = ref.omega("uniform", [len(y) for y in ys]) / sum(len(y) for y in ys)
    coef, intercept, _ = ref.classification_solution(Xs, signed(ys, "yes"), s, K, 0.05, loss, fit_intercept)
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(model.intercept_, intercept if fit_intercept else 0.0, rtol=1e-6, atol=1e-8)
    assert model.objective_ == pytest.approx(
        ref.linear_model_objective(Xs, signed(ys, "yes"), s, K, 0.05, loss, coef, intercept, fit_intercept),
        rel=1e-10,
    )
    assert model.solver_ == solver and model.kkt_residual_ <= 1e-12


@pytest.mark.parametrize("sparse_format", ["csr", "csc", "mixed"])
def test_sparse_input_gives_the_dense_model(sparse_format):
    Xs, ys = make_tasks(3, sparsity=0.7)
    dense = tight(alpha=0.01).fit(Xs, ys)
    if sparse_format == "mixed":
        blocks = [sp.csr_array(X) if t % 2 else X for t, X in enumerate(Xs)]
    else:
        blocks = [sp.csr_matrix(X) if sparse_format == "csr" else sp.csc_array(X) for X in Xs]
    sparse = tight(alpha=0.01).fit(blocks, ys)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-10, atol=1e-12)
    for got, expected in zip(sparse.decision_function(blocks), dense.decision_function(Xs)):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


# --- input forms ------------------------------------------------------------------


@pytest.mark.parametrize("as_sparse", [False, True])
def test_long_format_equals_list_format(as_sparse):
    Xs, ys = make_tasks(4, sparsity=0.5)
    names = np.array(["d", "a", "c", "b"])  # sorted task labels: a, b, c, d
    X, y = np.vstack(Xs), np.concatenate(ys)
    tasks = np.repeat(names, [len(v) for v in ys])
    perm = np.random.default_rng(0).permutation(len(y))
    X, y, tasks = X[perm], y[perm], tasks[perm]
    long_model = tight(alpha=0.01).fit(sp.csr_array(X) if as_sparse else X, y, tasks=tasks)
    order = np.argsort(names)
    list_model = tight(alpha=0.01).fit([Xs[t] for t in order], [ys[t] for t in order])
    np.testing.assert_array_equal(long_model.tasks_, ["a", "b", "c", "d"])
    np.testing.assert_allclose(long_model.coef_, list_model.coef_, rtol=1e-9, atol=1e-11)
    predicted = long_model.predict(sp.csr_array(X) if as_sparse else X, tasks=tasks)
    assert predicted.shape == y.shape and set(predicted) <= {"no", "yes"}
    expected = np.empty(len(y), dtype=object)
    for rank, t in enumerate(order):
        rows = tasks == names[t]
        expected[rows] = list_model.predict([X[rows] if i == rank else Xs[order[i]] for i in range(4)])[rank]
    np.testing.assert_array_equal(predicted, expected.astype(predicted.dtype))


def test_shared_design_one_vs_rest():
    """A 2-D indicator Y over one X: each column is a task, the model is the list form with X repeated."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(120, 5))
    Y = (X @ rng.normal(size=(5, 3)) + rng.normal(size=(120, 3)) > 0).astype(int)
    model = tight(alpha=0.02).fit(sp.csr_array(X), Y)
    list_model = tight(alpha=0.02).fit([X] * 3, list(Y.T))
    np.testing.assert_allclose(model.coef_, list_model.coef_, rtol=1e-9, atol=1e-11)
    scores = model.decision_function(X)
    assert scores.shape == (120, 3)
    np.testing.assert_array_equal(model.predict(X), (scores > 0).astype(int))
    np.testing.assert_allclose(model.predict_proba(X), expit(scores), rtol=1e-14)
    assert model.score(X, Y) == pytest.approx(np.mean(model.predict(X) == Y))


def test_probabilities_labels_and_accuracy():
    Xs, ys = make_tasks(6, labels=("ham", "spam"))
    model = mt.KernelCoupledClassifier(alpha=0.01).fit(Xs, ys)
    np.testing.assert_array_equal(model.classes_, ["ham", "spam"])
    scores = model.decision_function(Xs)
    for f, proba, log_proba, labels in zip(scores, model.predict_proba(Xs), model.predict_log_proba(Xs), model.predict(Xs)):
        np.testing.assert_allclose(proba[:, 1], expit(f), rtol=1e-14)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-14)
        np.testing.assert_allclose(log_proba, np.log(proba), rtol=1e-9)  # ours avoids log(1 - tiny)
        np.testing.assert_array_equal(labels, np.where(f > 0, "spam", "ham"))
    correct = np.concatenate([p == y for p, y in zip(model.predict(Xs), ys)])
    assert model.score(Xs, ys) == pytest.approx(correct.mean())
    assert model.score(Xs, ys) > 0.8


def test_decision_function_is_the_linear_model():
    Xs, ys = make_tasks(7)
    model = mt.KernelCoupledClassifier(alpha=0.01).fit(Xs, ys)
    for t, (X, f) in enumerate(zip(Xs, model.decision_function(Xs))):
        np.testing.assert_allclose(f, X @ model.coef_[t] + model.intercept_[t], rtol=1e-12)


def test_squared_hinge_has_no_probabilities():
    Xs, ys = make_tasks(8)
    model = mt.KernelCoupledClassifier(loss="squared_hinge").fit(Xs, ys)
    assert not hasattr(model, "predict_proba") and not hasattr(model, "predict_log_proba")
    with pytest.raises(AttributeError, match="has no attribute 'predict_proba'") as raised:
        model.predict_proba(Xs)
    assert "only available for loss='logistic'" in str(raised.value.__cause__)
    assert model.score(Xs, ys) > 0.8


def test_float32_input_gives_float32_model():
    Xs, ys = make_tasks(9)
    model32 = mt.KernelCoupledClassifier(alpha=0.01, tol=1e-5).fit([X.astype(np.float32) for X in Xs], ys)
    model64 = tight(alpha=0.01).fit(Xs, ys)
    assert model32.coef_.dtype == np.float32
    np.testing.assert_allclose(model32.coef_, model64.coef_, rtol=1e-3, atol=1e-4)


def test_warm_start_continues_from_the_previous_model():
    Xs, ys = make_tasks(10)
    model = tight(alpha=0.01, warm_start=True).fit(Xs, ys)
    first = model.coef_.copy()
    model.fit(Xs, ys)
    assert model.n_iter_ <= 1
    np.testing.assert_allclose(model.coef_, first, rtol=1e-9, atol=1e-11)
    cold = tight(alpha=0.01).fit(Xs, ys)
    assert cold.n_iter_ > model.n_iter_


def test_grid_search_routes_tasks():
    Xs, ys = make_tasks(11)
    X, y = np.vstack(Xs), np.concatenate(ys)
    tasks = np.repeat(np.arange(4), [len(v) for v in ys])
    folds = list(StratifiedKFold(n_splits=3, shuffle=True, random_state=0).split(X, tasks))
    with sklearn.config_context(enable_metadata_routing=True):
        estimator = mt.KernelCoupledClassifier().set_fit_request(tasks=True).set_score_request(tasks=True)
        search = GridSearchCV(estimator, {"alpha": [1e-3, 1e-1]}, cv=folds).fit(X, y, tasks=tasks)
    expected = []
    for alpha in [1e-3, 1e-1]:
        scores = []
        for train, test in folds:
            model = mt.KernelCoupledClassifier(alpha=alpha).fit(X[train], y[train], tasks=tasks[train])
            scores.append(model.score(X[test], y[test], tasks=tasks[test]))
        expected.append(np.mean(scores))
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], expected, rtol=1e-12)


# --- bad input ----------------------------------------------------------------------


def test_task_with_one_class_is_an_error():
    Xs, ys = make_tasks(12)
    ys[2] = np.full(len(ys[2]), "yes")
    with pytest.raises(ValueError, match=r"task 2 holds a single class \('yes'\)"):
        mt.KernelCoupledClassifier().fit(Xs, ys)


def test_third_class_is_an_error():
    Xs, ys = make_tasks(13)
    ys[1] = ys[1].astype(object)
    ys[1][0] = "maybe"
    with pytest.raises(ValueError, match="Only binary classification is supported.*3 classes"):
        mt.KernelCoupledClassifier().fit(Xs, [y.astype(str) for y in ys])


def test_continuous_target_is_an_error():
    Xs, _ = make_tasks(14)
    with pytest.raises(ValueError, match="Unknown label type"):
        mt.KernelCoupledClassifier().fit(Xs, [X[:, 0] for X in Xs])


def test_nan_in_sparse_data_is_an_error():
    Xs, ys = make_tasks(15, sparsity=0.5)
    blocks = [sp.csr_array(X) for X in Xs]
    blocks[1].data[3] = np.nan
    with pytest.raises(ValueError, match=r"X\[1\].*NaN"):
        mt.KernelCoupledClassifier().fit(blocks, ys)


@pytest.mark.parametrize("defect", ["unsorted", "duplicate"])
def test_non_canonical_sparse_indices_are_an_error(defect):
    data, indices, indptr = np.array([1.0, 2.0, 3.0]), np.array([2, 0, 1]), np.array([0, 2, 3])
    if defect == "duplicate":
        indices = np.array([1, 1, 0])
    X = sp.csr_array((data, indices, indptr), shape=(2, 3))
    X.has_canonical_format = True  # stale flag, as after editing the arrays in place
    with pytest.raises(ValueError, match=r"X\[0\]"):
        mt.KernelCoupledClassifier().fit([X, np.ones((2, 3))], [np.array([0, 1]), np.array([0, 1])])


def test_mismatched_shapes_are_errors():
    Xs, ys = make_tasks(16)
    with pytest.raises(ValueError, match=r"y\[1\]"):
        mt.KernelCoupledClassifier().fit(Xs, [ys[0], ys[1][:-1], ys[2], ys[3]])
    with pytest.raises(ValueError, match=r"X\[2\]"):
        mt.KernelCoupledClassifier().fit([Xs[0], Xs[1], Xs[2][:, :4], Xs[3]], ys)
    model = mt.KernelCoupledClassifier().fit(Xs, ys)
    with pytest.raises(ValueError, match="features"):
        model.predict([X[:, :5] for X in Xs])
    with pytest.raises(ValueError, match="4"):
        model.predict(Xs[:3])
