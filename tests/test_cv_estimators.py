"""The cross-validated estimators against GridSearchCV over the plain estimators, and the leave-one-out shortcut."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

import multitask as mt
from multitask._core import core
from multitask.model_selection import GridSearchCV, TaskKFold, to_long_format


def _tasks_data(seed=0, sizes=(30, 45, 25), d=4, noise=0.5):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=d)
    Xs = [rng.normal(size=(n, d)) for n in sizes]
    ys = [X @ (base + 0.3 * rng.normal(size=d)) + 1.0 + noise * rng.normal(size=len(X)) for X in Xs]
    return Xs, ys


def _shared_data(seed=0, n=40, d=5, T=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    W = rng.normal(size=(d, T))
    return X, X @ W + rng.normal(size=(n, T))


def _same_search(cv_model, search, atol=1e-8):
    """Equal choice and equal per-fold scores."""
    assert cv_model.best_index_ == search.best_index_
    n_folds = cv_model.n_splits_
    for k in range(n_folds):
        np.testing.assert_allclose(cv_model.cv_results_[f"split{k}_test_score"],
                                   search.cv_results_[f"split{k}_test_score"], rtol=0, atol=atol)
    np.testing.assert_array_equal(cv_model.cv_results_["rank_test_score"], search.cv_results_["rank_test_score"])
    np.testing.assert_allclose(cv_model.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"],
                               rtol=0, atol=atol)
    np.testing.assert_allclose(cv_model.cv_results_["std_test_score"], search.cv_results_["std_test_score"],
                               rtol=0, atol=atol)


ALPHAS = np.logspace(-4, 1, 8)


@pytest.mark.parametrize("solver", ["exact", "cg", "task_bcd"])
@pytest.mark.parametrize("scoring", [None, "neg_mean_absolute_error"])
def test_regressor_cv_long_format_equals_grid_search(solver, scoring):
    X, y, tasks = to_long_format(*_tasks_data())
    splitter = TaskKFold(4, shuffle=True, random_state=0)
    params = dict(coupling="mean_regularized", solver=solver, tol=1e-12)
    model = mt.KernelCoupledRegressorCV(alphas=ALPHAS, cv=splitter, scoring=scoring, **params).fit(X, y, tasks=tasks)
    search = GridSearchCV(mt.KernelCoupledRegressor(**params), {"alpha": ALPHAS}, cv=splitter,
                          scoring=scoring).fit(X, y, tasks=tasks)
    _same_search(model, search)
    assert model.alpha_ == search.best_params_["alpha"]
    np.testing.assert_allclose(model.coef_, search.best_estimator_.coef_, atol=1e-9)
    np.testing.assert_allclose(model.predict(X, tasks=tasks), search.predict(X, tasks=tasks), atol=1e-8)


def test_regressor_cv_lists_equal_long_format():
    Xs, ys = _tasks_data(seed=1)
    on_lists = mt.KernelCoupledRegressorCV(alphas=ALPHAS, cv=3).fit(Xs, ys)
    X, y, tasks = to_long_format(Xs, ys)
    on_long = mt.KernelCoupledRegressorCV(alphas=ALPHAS, cv=3).fit(X, y, tasks=tasks)
    np.testing.assert_allclose(on_lists.cv_results_["mean_test_score"], on_long.cv_results_["mean_test_score"],
                               atol=1e-12)
    np.testing.assert_allclose(on_lists.coef_, on_long.coef_, atol=1e-12)


@pytest.mark.parametrize("coupling", ["mean_regularized", "chain"])
def test_regressor_cv_shared_design_equals_grid_search(coupling):
    X, Y = _shared_data()
    model = mt.KernelCoupledRegressorCV(coupling, alphas=ALPHAS, cv=4).fit(X, Y)
    search = GridSearchCV(mt.KernelCoupledRegressor(coupling), {"alpha": ALPHAS}, cv=4).fit(X, Y)
    _same_search(model, search)
    np.testing.assert_allclose(model.coef_, search.best_estimator_.coef_, atol=1e-10)


@pytest.mark.parametrize("penalty", ["l21", "l1"])
def test_regressor_cv_structure_penalty_equals_grid_search(penalty):
    X, y, tasks = to_long_format(*_tasks_data(seed=2, d=8))
    splitter = TaskKFold(3, shuffle=True, random_state=1)
    model = mt.KernelCoupledRegressorCV(alphas=6, penalty=penalty, alpha=1e-3, cv=splitter, tol=1e-12,
                                        max_iter=100000).fit(X, y, tasks=tasks)
    grid = model.alphas_
    assert np.all(np.diff(grid) < 0)
    # The default grid starts at penalty_max: every coefficient zero there.
    plain = mt.KernelCoupledRegressor(alpha=1e-3, tol=1e-12, max_iter=100000)
    assert grid[0] == pytest.approx(mt.penalty_max(plain, X, y, tasks=tasks, penalty=penalty), rel=1e-12)
    search = GridSearchCV(plain, {penalty: grid}, cv=splitter).fit(X, y, tasks=tasks)
    _same_search(model, search, atol=1e-7)
    assert model.best_params_ == {penalty: grid[model.best_index_]}
    assert getattr(model, penalty) == 0.0  # the parameter itself is not changed by fit


def test_regressor_cv_huber_and_sparse_take_the_warm_path():
    X, y, tasks = to_long_format(*_tasks_data(seed=3))
    splitter = TaskKFold(3)
    for Xin, params in ((X, {"loss": "huber"}), (sparse.csr_matrix(X), {})):
        model = mt.KernelCoupledRegressorCV(alphas=ALPHAS[:4], cv=splitter, tol=1e-12, **params).fit(
            Xin, y, tasks=tasks)
        search = GridSearchCV(mt.KernelCoupledRegressor(tol=1e-12, **params), {"alpha": ALPHAS[:4]},
                              cv=splitter).fit(Xin, y, tasks=tasks)
        _same_search(model, search, atol=1e-7)


@pytest.mark.parametrize("penalty,scoring", [("coupling", None), ("l1", "roc_auc")])
def test_classifier_cv_equals_grid_search(penalty, scoring):
    rng = np.random.default_rng(4)
    Xs = [rng.normal(size=(n, 5)) for n in (50, 70)]
    ys = [np.where(X @ [1.0, -1.0, 0.5, 0, 0] + rng.normal(size=len(X)) > 0, "yes", "no") for X in Xs]
    X, y, tasks = to_long_format(Xs, ys)
    splitter = TaskKFold(3, shuffle=True, random_state=2)
    grid = np.logspace(-3, -1, 4) if penalty == "coupling" else np.logspace(-1.5, -3, 4)
    params = dict(alpha=1e-3, tol=1e-12, max_iter=100000)
    model = mt.KernelCoupledClassifierCV(alphas=grid, penalty=penalty, cv=splitter, scoring=scoring,
                                         **params).fit(X, y, tasks=tasks)
    name = "alpha" if penalty == "coupling" else penalty
    search = GridSearchCV(mt.KernelCoupledClassifier(**params), {name: grid}, cv=splitter,
                          scoring=scoring).fit(X, y, tasks=tasks)
    _same_search(model, search, atol=1e-7)
    np.testing.assert_array_equal(model.classes_, ["no", "yes"])
    np.testing.assert_array_equal(model.predict(X, tasks=tasks), search.predict(X, tasks=tasks))


# ---------------------------------------------------------------- the core's path


@pytest.mark.parametrize("shared,solver", [(True, "exact"), (False, "exact"), (False, "cg"), (False, "task_bcd"),
                                           (True, "cg")])
def test_core_path_equals_single_fits(shared, solver):
    if shared:
        X, Y = _shared_data(seed=5)
        T = Y.shape[1]
        blocks, targets = [X] * T, [np.ascontiguousarray(Y[:, t]) for t in range(T)]
    else:
        blocks, targets = _tasks_data(seed=5)
        T = len(blocks)
    K = mt.coupling.chain(T)
    weights = np.full(T, 1.0 / 100)
    common = dict(X=blocks, y=targets, sample_weight=weights, coupling=K, fit_intercept=True, shared_design=shared,
                  solver=solver, tol=1e-13, max_iter=100000, n_threads=1)
    alphas = [0.3, 1e-3, 10.0, 0.02]  # not sorted: results come back in this order
    path = core.fit_least_squares_path_f64(alphas=alphas, **common)
    for alpha, result in zip(alphas, path):
        single = core.fit_least_squares_f64(alpha=alpha, warm_start=None, **common)
        np.testing.assert_allclose(result["coef"], single["coef"], rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(result["intercept"], single["intercept"], rtol=1e-9, atol=1e-11)
        assert result["converged"]


def test_core_path_rejects_bad_alphas():
    blocks, targets = _tasks_data()
    common = dict(X=blocks, y=targets, sample_weight=np.full(3, 0.01), coupling=np.eye(3), fit_intercept=True,
                  shared_design=False, solver="cg", tol=1e-8, max_iter=100, n_threads=1)
    for alphas in ([], [0.0], [1.0, float("nan")]):
        with pytest.raises(ValueError, match="alpha"):
            core.fit_least_squares_path_f64(alphas=alphas, **common)


# ---------------------------------------------------------------- leave-one-out


def _brute_force_loo_long(X, y, tasks, alpha, task_weights, **params):
    """Leave every row out in turn: the fit without it, every other row keeping its weight omega_t / N."""
    labels, counts = np.unique(tasks, return_counts=True)
    N, T = y.size, labels.size
    omega = np.ones(T) if task_weights == "uniform" else N / (T * counts)
    predictions = np.empty(N)
    for i in range(N):
        keep = np.arange(N) != i
        model = mt.KernelCoupledRegressor(alpha=alpha, task_weights=omega * (N - 1) / N, solver="exact", **params)
        model.fit(X[keep], y[keep], tasks=tasks[keep])
        predictions[i] = model.predict(X[i : i + 1], tasks=tasks[i : i + 1])[0]
    return predictions


@pytest.mark.parametrize("task_weights", ["uniform", "balanced"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("coupling", ["chain", "mean_regularized"])  # the general route, and the Woodbury route
def test_leave_one_out_equals_brute_force_per_task(task_weights, fit_intercept, coupling):
    from multitask._cv_search import cv_data
    from multitask._loo import leave_one_out_predictions
    from multitask._loo_low_rank import low_rank_split

    X, y, tasks = to_long_format(*_tasks_data(seed=6, sizes=(8, 12, 6), d=3))
    assert (low_rank_split(mt.coupling.resolve_coupling(coupling, 3), 3) is None) == (coupling == "chain")
    params = dict(coupling=coupling, fit_intercept=fit_intercept)
    estimator = mt.KernelCoupledRegressor(task_weights=task_weights, **params)
    alphas = np.array([1e-3, 0.1])
    loo = leave_one_out_predictions(estimator, cv_data(X, y, tasks), alphas)
    for a, alpha in enumerate(alphas):
        np.testing.assert_allclose(loo[a], _brute_force_loo_long(X, y, tasks, alpha, task_weights, **params),
                                   rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_leave_one_out_equals_brute_force_shared_design(fit_intercept):
    from multitask._cv_search import cv_data
    from multitask._loo import leave_one_out_predictions

    X, Y = _shared_data(seed=7, n=15, d=4, T=3)
    n = X.shape[0]
    estimator = mt.KernelCoupledRegressor("chain", fit_intercept=fit_intercept)
    alphas = np.array([1e-2, 1.0])
    loo = leave_one_out_predictions(estimator, cv_data(X, Y, None), alphas)
    for a, alpha in enumerate(alphas):
        expected = np.empty_like(Y)
        for i in range(n):
            keep = np.arange(n) != i
            model = mt.KernelCoupledRegressor("chain", alpha=alpha, fit_intercept=fit_intercept, solver="exact",
                                              task_weights=np.full(3, (n - 1) / n)).fit(X[keep], Y[keep])
            expected[i] = model.predict(X[i : i + 1])[0]
        np.testing.assert_allclose(loo[a], expected, rtol=1e-8, atol=1e-10)


def test_loo_estimator_chooses_the_best_leave_one_out_score():
    from sklearn.metrics import r2_score

    from multitask._cv_search import cv_data
    from multitask._loo import leave_one_out_predictions

    X, y, tasks = to_long_format(*_tasks_data(seed=8))
    model = mt.KernelCoupledRegressorCV(alphas=ALPHAS, cv="loo").fit(X, y, tasks=tasks)
    loo = leave_one_out_predictions(mt.KernelCoupledRegressor(), cv_data(X, y, tasks), ALPHAS)
    scores = [r2_score(y, prediction) for prediction in loo]
    np.testing.assert_allclose(model.cv_results_["mean_test_score"], scores, rtol=1e-12)
    assert model.alpha_ == ALPHAS[int(np.argmax(scores))]
    assert model.n_splits_ == y.size


def test_loo_errors():
    X, y, tasks = to_long_format(*_tasks_data())
    with pytest.raises(ValueError, match="penalty='coupling'"):
        mt.KernelCoupledRegressorCV(alphas=3, penalty="l21", cv="loo").fit(X, y, tasks=tasks)
    with pytest.raises(ValueError, match="dense X"):
        mt.KernelCoupledRegressorCV(alphas=ALPHAS, cv="loo").fit(sparse.csr_matrix(X), y, tasks=tasks)
    with pytest.raises(ValueError, match="scoring"):
        mt.KernelCoupledRegressorCV(alphas=ALPHAS, cv="loo", scoring="neg_mean_absolute_error").fit(
            X, y, tasks=tasks)
    singular = mt.coupling.chain(3, ridge=0.0)  # eigenvalues 0, 1, 3: not c I + low rank, so K^(-1/2) is needed
    with pytest.raises(ValueError, match="positive definite"):
        mt.KernelCoupledRegressorCV(singular, alphas=ALPHAS, cv="loo").fit(X, y, tasks=tasks)


# ---------------------------------------------------------------- parameters


@pytest.mark.parametrize("alphas", [[], [1.0, -1.0], [[1.0, 2.0]], [np.inf]])
def test_bad_alphas(alphas):
    Xs, ys = _tasks_data()
    with pytest.raises(ValueError, match="alphas"):
        mt.KernelCoupledRegressorCV(alphas=alphas).fit(Xs, ys)


def test_bad_cv_and_scoring():
    Xs, ys = _tasks_data()
    with pytest.raises(ValueError, match="cv"):
        mt.KernelCoupledRegressorCV(cv=1).fit(Xs, ys)
    with pytest.raises(ValueError, match="scoring"):
        mt.KernelCoupledRegressorCV(alphas=3, scoring=["r2", "neg_mean_squared_error"]).fit(Xs, ys)


def test_default_coupling_grid_brackets_the_choice():
    """The default grid is wide enough that School-like data choose inside it, not at an end."""
    X, y, tasks = to_long_format(*_tasks_data(seed=9, sizes=(60, 80, 70), noise=2.0))
    model = mt.KernelCoupledRegressorCV(alphas=15).fit(X, y, tasks=tasks)
    assert 0 < model.best_index_ < 14
    assert np.all(np.diff(model.alphas_) < 0)


def test_refit_equals_plain_estimator_at_the_choice():
    Xs, ys = _tasks_data(seed=10)
    model = mt.KernelCoupledRegressorCV(alphas=ALPHAS).fit(Xs, ys)
    plain = mt.KernelCoupledRegressor(alpha=model.alpha_).fit(Xs, ys)
    np.testing.assert_allclose(model.coef_, plain.coef_, atol=1e-12)
    np.testing.assert_allclose(model.intercept_, plain.intercept_, atol=1e-12)
    assert model.score(Xs, ys) == pytest.approx(plain.score(Xs, ys))


# ---------------------------------------------------------------- kernel ridge


@pytest.mark.parametrize("form", ["long", "shared"])
def test_kernel_ridge_cv_equals_grid_search(form):
    alphas, gammas = np.logspace(-4, 0, 5), [0.2, 1.0]
    if form == "long":
        X, y, tasks = to_long_format(*_tasks_data(seed=11, d=2))
        fit_params, cv = {"tasks": tasks}, TaskKFold(3, shuffle=True, random_state=0)
    else:
        X, y = _shared_data(seed=11, n=30, d=2, T=2)
        fit_params, cv = {}, 3
    model = mt.MultiTaskKernelRidgeCV(alphas=alphas, gammas=gammas, cv=cv, task_kernel=[[1.0, 0.5], [0.5, 1.0]]
                                      if form == "shared" else None).fit(X, y, **fit_params)
    plain = mt.MultiTaskKernelRidge(solver="cholesky", task_kernel=model.task_kernel)
    search = GridSearchCV(plain, {"alpha": alphas, "gamma": gammas}, cv=cv).fit(X, y, **fit_params)
    _same_search(model, search, atol=1e-8)
    assert model.best_params_ == search.best_params_
    assert (model.alpha_, model.gamma_) == (search.best_params_["alpha"], search.best_params_["gamma"])
    np.testing.assert_allclose(model.predict(X, **fit_params), search.predict(X, **fit_params), atol=1e-8)


def test_kernel_ridge_cv_without_gammas_keeps_gamma():
    X, Y = _shared_data(seed=12, n=30, d=2, T=2)
    model = mt.MultiTaskKernelRidgeCV(alphas=6, gamma=0.5, cv=3).fit(X, Y)
    assert model.gamma_ == 0.5 and list(model.best_params_) == ["alpha"]
    assert model.alphas_.shape == (6,) and model.alphas_[0] == 10.0
    with pytest.raises(ValueError, match="gammas"):
        mt.MultiTaskKernelRidgeCV(gammas=[0.0, 1.0]).fit(X, Y)


def test_readme_model_selection_section_runs():
    import matplotlib

    matplotlib.use("Agg")
    from readme_blocks import readme_blocks

    (block,) = readme_blocks(
        "## Built-in model selection: `KernelCoupledRegressorCV`, `KernelCoupledClassifierCV`, `MultiTaskKernelRidgeCV`")
    namespace: dict = {}
    exec(block, namespace)  # noqa: S102 - the README's own example
    model, sparse_model = namespace["model"], namespace["sparse"]
    means = model.cv_results_["mean_test_score"]
    assert model.alphas_.size == 30 and model.alpha_ == model.alphas_[int(np.argmax(means))]
    assert model.best_score_ == means.max()
    assert 0 < model.best_index_ < 29  # the default grid brackets School's choice
    assert list(sparse_model.best_params_) == ["l21"] and sparse_model.alphas_.size == 8
    assert np.all(sparse_model.coef_[:, np.all(sparse_model.coef_ == 0, axis=0)] == 0)


def test_cv_estimator_in_a_pipeline_with_routed_tasks():
    import sklearn
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, tasks = to_long_format(*_tasks_data(seed=13))
    X = X * [1.0, 10.0, 100.0, 0.1]
    with sklearn.config_context(enable_metadata_routing=True):
        model = mt.KernelCoupledRegressorCV(alphas=ALPHAS, cv=3)
        model.set_fit_request(tasks=True).set_predict_request(tasks=True).set_score_request(tasks=True)
        pipeline = make_pipeline(StandardScaler(), model).fit(X, y, tasks=tasks)
        predictions = pipeline.predict(X, tasks=tasks)
    scaled = StandardScaler().fit_transform(X)
    by_hand = mt.KernelCoupledRegressorCV(alphas=ALPHAS, cv=3).fit(scaled, y, tasks=tasks)
    assert pipeline[-1].alpha_ == by_hand.alpha_
    np.testing.assert_allclose(predictions, by_hand.predict(scaled, tasks=tasks), atol=1e-10)


def test_dataframe_input_keeps_feature_names():
    pd = pytest.importorskip("pandas")
    X, y, tasks = to_long_format(*_tasks_data(seed=14))
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = mt.KernelCoupledRegressorCV(alphas=ALPHAS, cv=3).fit(frame, pd.Series(y), tasks=pd.Series(tasks))
    np.testing.assert_array_equal(model.feature_names_in_, ["a", "b", "c", "d"])
    plain = mt.KernelCoupledRegressorCV(alphas=ALPHAS, cv=3).fit(X, y, tasks=tasks)
    np.testing.assert_allclose(model.cv_results_["mean_test_score"], plain.cv_results_["mean_test_score"], atol=1e-12)
    with pytest.raises(ValueError, match="feature names"):
        model.predict(frame.rename(columns={"a": "z"}), tasks=tasks)
