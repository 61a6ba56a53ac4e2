"""MultiTaskSVC against scikit-learn's SVC on the multi-task Gram matrix and numpy KKT certificates."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import laplacian_kernel, polynomial_kernel, rbf_kernel
from sklearn.svm import SVC

import multitask as mt

T, D, GAMMA, ALPHA = 3, 2, 0.7, 0.02


def task_kernel(T: int = T, seed: int = 1) -> np.ndarray:
    A = np.random.default_rng(seed).normal(size=(T, 2))
    return A @ A.T + 0.3 * np.eye(T)


def task_data(sizes=(50, 70, 40), seed: int = 0):
    """Per-task inputs and labels {-1, +1} from a noisy task-shifted boundary (overlapping classes)."""
    rng = np.random.default_rng(seed)
    Xs = [rng.normal(size=(n, D)) for n in sizes]
    ys = [np.where(X[:, 0] - 0.5 * X[:, 1] ** 2 + 0.4 * t + 0.6 * rng.normal(size=len(X)) > 0, 1, -1)
          for t, X in enumerate(Xs)]
    return Xs, ys


def multitask_gram(X1, tasks1, X2, tasks2, B, kernel=rbf_kernel, **params):
    """M[(s,i),(t,j)] = B_st k(x_i, x_j) in numpy/scikit-learn."""
    return B[np.ix_(tasks1, tasks2)] * kernel(X1, X2, **params)


def task_ids(Xs):
    return np.repeat(np.arange(len(Xs)), [len(X) for X in Xs])


def hinge_primal_and_dual(M, y, task, c, b, alpha, omega):
    """Primal (1/N) sum omega_t hinge + (alpha/2) c^T M c at f = M c + b, and alpha times the LIBSVM dual."""
    N = y.size
    f = M @ c + b[task]
    a = c * y
    norm2 = c @ M @ c
    primal = np.sum(omega[task] * np.maximum(0, 1 - y * f)) / N + 0.5 * alpha * norm2
    dual = alpha * (a.sum() - 0.5 * norm2)
    return primal, dual


def check_kkt_certificate(model, Xs, ys, B, omega, equality):
    """Box, equality constraints and a relative duality gap <= 1e-6 (numpy, from the fitted attributes)."""
    X, task, y = np.vstack(Xs), task_ids(Xs), np.concatenate(ys).astype(float)
    N = y.size
    M = multitask_gram(X, task, X, task, B, gamma=GAMMA)
    c = model.dual_coef_
    a = c * y
    C = omega[task] / (ALPHA * N)
    assert np.all(a >= 0) and np.all(a <= C * (1 + 1e-12))
    if equality == "per_task":
        np.testing.assert_allclose(np.bincount(task, weights=c), 0, atol=1e-12 * C.max())
    elif equality == "shared":
        assert abs(c.sum()) <= 1e-12 * C.max() * N
    primal, dual = hinge_primal_and_dual(M, y, task, c, model.intercept_, ALPHA, omega)
    assert primal >= dual - 1e-12
    assert (primal - dual) <= 1e-6 * primal
    return primal


# ------------------------------------------------------------------ against scikit-learn


@pytest.mark.parametrize("form", ["lists", "shared_design"])
def test_shared_intercept_equals_sklearn_svc_on_multitask_gram(form):
    B = task_kernel()
    if form == "lists":
        Xs, ys = task_data()
    else:  # every task observed at the same inputs: M = B (x) K_x, task-major
        rng = np.random.default_rng(3)
        X = rng.normal(size=(60, D))
        Y = np.column_stack([np.where(X[:, 0] + 0.3 * t + 0.6 * rng.normal(size=60) > 0, 1, -1) for t in range(T)])
        Xs, ys = [X] * T, [Y[:, t] for t in range(T)]
    X_all, task, y = np.vstack(Xs), task_ids(Xs), np.concatenate(ys)
    M = multitask_gram(X_all, task, X_all, task, B, gamma=GAMMA)
    reference = SVC(kernel="precomputed", C=1 / (ALPHA * y.size), tol=1e-10).fit(M, y)
    model = mt.MultiTaskSVC(gamma=GAMMA, task_kernel=B, alpha=ALPHA, fit_intercept="shared", tol=1e-10)
    model.fit(Xs, ys) if form == "lists" else model.fit(X, Y)
    ours = model.decision_function(Xs) if form == "lists" else model.decision_function(X).T
    np.testing.assert_allclose(np.concatenate(ours) if form == "lists" else ours.ravel(),
                               reference.decision_function(M), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(model.support_, np.sort(reference.support_))
    np.testing.assert_allclose(model.intercept_, reference.intercept_[0], atol=1e-6)
    # Test inputs: rows of the multi-task kernel against the training samples.
    X_test = np.random.default_rng(9).normal(size=(25, D))
    M_test = np.vstack([multitask_gram(X_test, np.full(25, t), X_all, task, B, gamma=GAMMA) for t in range(T)])
    test_scores = np.concatenate(model.decision_function([X_test] * T))
    np.testing.assert_allclose(test_scores, reference.decision_function(M_test), atol=1e-6)


@pytest.mark.parametrize("task_weights", ["uniform", "balanced"])
def test_identity_task_kernel_is_one_sklearn_svc_per_task(task_weights):
    Xs, ys = task_data(seed=4)
    N = sum(len(y) for y in ys)
    model = mt.MultiTaskSVC(gamma=GAMMA, alpha=ALPHA, task_weights=task_weights, tol=1e-10).fit(Xs, ys)
    scores = model.decision_function(Xs)
    for t, (X, y) in enumerate(zip(Xs, ys)):
        omega = 1.0 if task_weights == "uniform" else N / (T * len(y))
        reference = SVC(kernel="rbf", gamma=GAMMA, C=omega / (ALPHA * N), tol=1e-10).fit(X, y)
        np.testing.assert_allclose(scores[t], reference.decision_function(X), atol=1e-6)
        np.testing.assert_allclose(model.intercept_[t], reference.intercept_[0], atol=1e-6)


# ------------------------------------------------------------------ KKT certificates


@pytest.mark.parametrize("shrinking", [True, False])
def test_general_task_kernel_per_task_intercepts_kkt_certificate(shrinking):
    Xs, ys = task_data(seed=5)
    B, omega = task_kernel(seed=2), np.array([1.0, 2.0, 0.5])
    model = mt.MultiTaskSVC(gamma=GAMMA, task_kernel=B, alpha=ALPHA, task_weights=omega, tol=1e-9,
                            shrinking=shrinking).fit(Xs, ys)
    check_kkt_certificate(model, Xs, ys, B, omega, "per_task")
    assert model.kkt_residual_ <= 1e-9


def test_tiny_cache_gives_the_same_solution():
    """A cache of a few rows (constant eviction) changes nothing but speed."""
    Xs, ys = task_data(seed=6)
    B = task_kernel()
    full = mt.MultiTaskSVC(gamma=GAMMA, task_kernel=B, alpha=ALPHA, tol=1e-9).fit(Xs, ys)
    tiny = mt.MultiTaskSVC(gamma=GAMMA, task_kernel=B, alpha=ALPHA, tol=1e-9, cache_size=0.001).fit(Xs, ys)
    np.testing.assert_allclose(np.concatenate(tiny.decision_function(Xs)),
                               np.concatenate(full.decision_function(Xs)), atol=1e-7)


def test_no_intercept_matches_box_constrained_qp_and_kkt():
    Xs, ys = task_data(seed=7)
    B = task_kernel(seed=3)
    omega = np.ones(T)
    model = mt.MultiTaskSVC(gamma=GAMMA, task_kernel=B, alpha=ALPHA, fit_intercept=False, tol=1e-9).fit(Xs, ys)
    np.testing.assert_array_equal(model.intercept_, 0)
    check_kkt_certificate(model, Xs, ys, B, omega, None)
    # Independent reference: the box-constrained dual min 1/2 a^T Q a - 1^T a by scipy's L-BFGS-B.
    X, task, y = np.vstack(Xs), task_ids(Xs), np.concatenate(ys).astype(float)
    Q = np.outer(y, y) * multitask_gram(X, task, X, task, B, gamma=GAMMA)
    C = 1 / (ALPHA * y.size)
    qp = scipy.optimize.minimize(lambda a: (0.5 * a @ Q @ a - a.sum(), Q @ a - 1), np.zeros(y.size), jac=True,
                                 method="L-BFGS-B", bounds=[(0, C)] * y.size,
                                 options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10000})
    np.testing.assert_allclose(model.dual_coef_, y * qp.x, atol=1e-5 * C)


# ------------------------------------------------------------------ kernels and input forms


def test_precomputed_callable_and_named_kernels_agree():
    Xs, ys = task_data(seed=8)
    B = task_kernel()
    X_all = np.vstack(Xs)
    named = mt.MultiTaskSVC(kernel="laplacian", gamma=0.5, task_kernel=B, alpha=ALPHA, tol=1e-9).fit(Xs, ys)
    callable_kernel = mt.MultiTaskSVC(kernel=lambda A, C: laplacian_kernel(A, C, gamma=0.5), task_kernel=B,
                                      alpha=ALPHA, tol=1e-9).fit(Xs, ys)
    grams = [laplacian_kernel(X, X_all, gamma=0.5) for X in Xs]  # task t's rows against all N samples
    precomputed = mt.MultiTaskSVC(kernel="precomputed", task_kernel=B, alpha=ALPHA, tol=1e-9).fit(grams, ys)
    expected = np.concatenate(named.decision_function(Xs))
    np.testing.assert_allclose(np.concatenate(callable_kernel.decision_function(Xs)), expected, atol=1e-7)
    np.testing.assert_allclose(np.concatenate(precomputed.decision_function(grams)), expected, atol=1e-7)


def test_polynomial_kernel_per_task_kkt():
    Xs, ys = task_data(seed=9)
    B = task_kernel()
    model = mt.MultiTaskSVC(kernel="poly", gamma=0.5, degree=2, coef0=1.0, task_kernel=B, alpha=ALPHA,
                            tol=1e-9).fit(Xs, ys)
    X, task, y = np.vstack(Xs), task_ids(Xs), np.concatenate(ys).astype(float)
    M = multitask_gram(X, task, X, task, B, polynomial_kernel, gamma=0.5, degree=2, coef0=1.0)
    primal, dual = hinge_primal_and_dual(M, y, task, model.dual_coef_, model.intercept_, ALPHA, np.ones(T))
    assert 0 <= primal - dual <= 1e-6 * primal


def test_three_input_forms_agree_and_labels_are_kept():
    Xs, ys = task_data(seed=10)
    labels = [np.where(y > 0, "spam", "ham") for y in ys]
    B = task_kernel()
    lists = mt.MultiTaskSVC(gamma=GAMMA, task_kernel=B, alpha=ALPHA, tol=1e-9).fit(Xs, labels)
    # Long format with rows shuffled and task labels that are not 0..T-1.
    X, task = np.vstack(Xs), task_ids(Xs)
    perm = np.random.default_rng(0).permutation(len(X))
    names = np.array(["a", "b", "c"])[task]
    long = mt.MultiTaskSVC(gamma=GAMMA, task_kernel=B, alpha=ALPHA, tol=1e-9).fit(
        X[perm], np.concatenate(labels)[perm], tasks=names[perm])
    np.testing.assert_allclose(long.decision_function(X[perm], tasks=names[perm]),
                               np.concatenate(lists.decision_function(Xs))[perm], atol=1e-7)
    # The long format hands the core each task's rows in another order, so the pair steps (and the
    # float32 cached kernel rows they read) differ: the duals agree to the cache's precision.
    np.testing.assert_allclose(long.dual_coef_, lists.dual_coef_[perm], atol=1e-5 * np.abs(lists.dual_coef_).max())
    np.testing.assert_array_equal(np.sort(perm[long.support_]), lists.support_)
    assert lists.classes_.tolist() == ["ham", "spam"]
    np.testing.assert_array_equal(np.concatenate(lists.predict(Xs)),
                                  np.where(np.concatenate(lists.decision_function(Xs)) > 0, "spam", "ham"))
    # Shared design: (n, T) labels equal the lists form with the same X for every task.
    X_shared = Xs[0][:40]
    Y = np.column_stack([labels[t][:40] for t in range(T)])
    shared = mt.MultiTaskSVC(gamma=GAMMA, task_kernel=B, alpha=ALPHA, tol=1e-9).fit(X_shared, Y)
    as_lists = mt.MultiTaskSVC(gamma=GAMMA, task_kernel=B, alpha=ALPHA, tol=1e-9).fit([X_shared] * T, list(Y.T))
    np.testing.assert_allclose(shared.decision_function(X_shared),
                               np.column_stack(as_lists.decision_function([X_shared] * T)), atol=1e-7)
    assert shared.predict(X_shared).shape == (40, T)
    assert 0.5 < shared.score(X_shared, Y) <= 1


def test_max_iter_warns():
    Xs, ys = task_data()
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        model = mt.MultiTaskSVC(gamma=GAMMA, alpha=ALPHA, max_iter=3).fit(Xs, ys)
    assert model.n_iter_ == 3


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "params, message",
    [
        ({"task_kernel": np.array([[1.0, 2.0, 0], [2.0, 1.0, 0], [0, 0, 1.0]])}, "task_kernel"),  # not PSD
        ({"task_kernel": np.eye(2)}, "task_kernel"),
        ({"gamma": -1.0}, "gamma"),
        ({"degree": 0, "kernel": "poly"}, "degree"),
        ({"alpha": 0.0}, "alpha"),
        ({"tol": 0.0}, "tol"),
        ({"cache_size": -1.0}, "cache_size"),
        ({"fit_intercept": "both"}, "fit_intercept"),
        ({"task_kernel": np.eye(3), "coupling": np.eye(3)}, "task_kernel"),
    ],
)
def test_bad_parameters_raise_naming_them(params, message):
    Xs, ys = task_data()
    with pytest.raises(ValueError, match=message):
        mt.MultiTaskSVC(**params).fit(Xs, ys)


def test_bad_labels_and_precomputed_shapes_raise():
    Xs, ys = task_data()
    with pytest.raises(ValueError, match="task 1 holds a single class"):
        mt.MultiTaskSVC().fit(Xs, [ys[0], np.ones(len(ys[1])), ys[2]])
    with pytest.raises(ValueError, match="Only binary classification"):
        mt.MultiTaskSVC().fit(Xs, [ys[0], ys[1], np.arange(len(ys[2])) % 3])
    with pytest.raises(ValueError, match="continuous"):
        mt.MultiTaskSVC().fit(Xs, [y + 0.5 for y in ys])
    grams = [rbf_kernel(X, np.vstack(Xs)) for X in Xs]
    with pytest.raises(ValueError, match="precomputed"):
        mt.MultiTaskSVC(kernel="precomputed").fit([g[:, :-1] for g in grams], ys)
    model = mt.MultiTaskSVC(kernel="precomputed").fit(grams, ys)
    with pytest.raises(ValueError, match="features"):
        model.decision_function([g[:, :-1] for g in grams])
