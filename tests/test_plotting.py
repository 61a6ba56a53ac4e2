"""multitask.plotting: what each picture holds (image data, line data, bar heights), the task
orders, the per-task scores in the three input forms, the errors, and the optional import."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score  # noqa: E402
from sklearn.model_selection import GridSearchCV as SkGridSearchCV  # noqa: E402

import multitask as mt  # noqa: E402
import multitask.plotting as mtp  # noqa: E402
from multitask.model_selection import GridSearchCV, TaskKFold, to_long_format  # noqa: E402
from readme_blocks import readme_blocks  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


class Fitted:
    """A stand-in for a fitted estimator: only the attributes the pictures read."""

    def __init__(self, **attributes):
        vars(self).update(attributes)


def block_correlation(sizes, within=0.8, between=0.1):
    """A correlation matrix with planted blocks of the given sizes (tasks in block order), and each task's block."""
    blocks = np.repeat(np.arange(len(sizes)), sizes)
    C = np.where(blocks[:, None] == blocks[None, :], within, between)
    np.fill_diagonal(C, 1.0)
    return C, blocks


def contiguous(values):
    """Whether equal values are next to each other (every value forms one run)."""
    values = np.asarray(values)
    runs = values[np.r_[True, values[1:] != values[:-1]]]
    return runs.size == np.unique(values).size


def boundary_lines(ax):
    horizontal = sorted(line.get_ydata()[0] for line in ax.lines if np.ptp(line.get_ydata()) == 0)
    vertical = sorted(line.get_xdata()[0] for line in ax.lines if np.ptp(line.get_xdata()) == 0)
    return horizontal, vertical


def regression_lists(n_tasks=5, seed=0):
    Xs, ys, _ = mt.datasets.make_multitask_regression(
        n_tasks=n_tasks, n_samples=[12, 20, 9, 16, 14][:n_tasks], n_features=4, coupling="chain", noise=1.0,
        random_state=seed,
    )
    return Xs, ys


# ------------------------------------------------------------------ import


def test_importing_multitask_does_not_import_matplotlib():
    code = "import sys, multitask; print('matplotlib' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"


def test_import_without_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # "import matplotlib" raises ImportError
    monkeypatch.delitem(sys.modules, "multitask.plotting")
    with pytest.raises(ImportError, match=re.escape('pip install "multitask[plot]"')):
        importlib.import_module("multitask.plotting")


# ------------------------------------------------------------------ task relations


def test_cluster_order_groups_clusters_stably_and_the_image_is_the_reordered_matrix():
    rng = np.random.default_rng(0)
    C = np.corrcoef(rng.normal(size=(7, 30)))
    C = 0.5 * C + 0.5 * C.T  # symmetric to the last bit, as the picture shows it
    clusters = np.array([2, 0, 1, 0, 2, 1, 0])
    order = mtp.task_order(C, clusters=clusters)
    np.testing.assert_array_equal(order, [1, 3, 6, 2, 5, 0, 4])  # by cluster, original order within
    ax = mtp.plot_task_relations(C, clusters=clusters)
    image = ax.images[0]
    np.testing.assert_array_equal(image.get_array(), C[np.ix_(order, order)])
    assert image.get_clim() == (-1.0, 1.0)
    assert len(ax.figure.axes) == 2  # the colorbar
    assert boundary_lines(ax) == ([2.5, 4.5], [2.5, 4.5])  # between clusters 0|1 and 1|2
    assert [label.get_text() for label in ax.get_xticklabels()] == [str(t) for t in order]
    assert [label.get_text() for label in ax.get_yticklabels()] == [str(t) for t in order]


def test_hierarchical_order_puts_planted_blocks_together():
    C, blocks = block_correlation([4, 6, 3, 5])
    shuffle = np.random.default_rng(1).permutation(C.shape[0])
    C, blocks = C[np.ix_(shuffle, shuffle)], blocks[shuffle]
    assert not contiguous(blocks)
    order = mtp.task_order(C)
    assert sorted(order) == list(range(C.shape[0]))
    assert contiguous(blocks[order])
    ax = mtp.plot_task_relations(C)
    np.testing.assert_array_equal(ax.images[0].get_array(), C[np.ix_(order, order)])
    assert boundary_lines(ax) == ([], [])  # no cluster labels, no lines


def test_order_none_keeps_the_given_order_and_many_tasks_get_no_tick_labels():
    C, _ = block_correlation([25, 20])
    ax = mtp.plot_task_relations(C, clusters=np.r_[np.ones(25), np.zeros(20)], order=None)
    np.testing.assert_array_equal(ax.images[0].get_array(), C)
    assert boundary_lines(ax) == ([], [])
    assert len(ax.get_xticks()) == 0 and len(ax.get_yticks()) == 0


def test_a_matrix_beyond_unit_range_gets_a_symmetric_colour_range():
    B = np.array([[4.0, -1.0], [-1.0, 2.0]])
    image = mtp.plot_task_relations(B, order=None).images[0]
    assert image.get_clim() == (-4.0, 4.0)


def test_estimator_path_uses_task_correlation_clusters_and_task_labels():
    C, blocks = block_correlation([2, 3, 2])
    shuffle = np.array([4, 0, 6, 2, 1, 5, 3])
    C, blocks = C[np.ix_(shuffle, shuffle)], blocks[shuffle]
    names = np.array(list("abcdefg"))
    model = Fitted(task_correlation_=C, clusters_=blocks, tasks_=names, objective_history_=np.array([3.0, 2.0]))
    order = mtp.task_order(model)
    np.testing.assert_array_equal(order, np.argsort(blocks, kind="stable"))
    ax = mtp.plot_task_relations(model)
    np.testing.assert_array_equal(ax.images[0].get_array(), C[np.ix_(order, order)])
    assert [label.get_text() for label in ax.get_xticklabels()] == list(names[order])
    assert boundary_lines(ax) == ([1.5, 4.5], [1.5, 4.5])
    # An explicit clusters argument and labels win over the estimator's.
    mine = np.array([0, 0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(mtp.task_order(model, clusters=mine), np.arange(7))
    ax = mtp.plot_task_relations(model, clusters=mine, labels=np.arange(10, 17))
    assert [label.get_text() for label in ax.get_xticklabels()] == [str(i) for i in range(10, 17)]


def test_coupling_path_shows_the_correlation_of_the_inverse_coupling():
    Xs, ys = regression_lists()
    K = mt.coupling.chain(5, ridge=0.3)
    model = mt.KernelCoupledRegressor(coupling=K, alpha=0.1).fit(Xs, ys)
    B = np.linalg.inv(K)
    expected = B / np.sqrt(np.outer(np.diag(B), np.diag(B)))
    ax = mtp.plot_task_relations(model, order=None)
    np.testing.assert_allclose(ax.images[0].get_array(), expected, rtol=1e-12, atol=1e-14)
    # The chain's correlation decreases away from the diagonal: the hierarchical order is the chain.
    assert mtp.task_order(model).tolist() in ([0, 1, 2, 3, 4], [4, 3, 2, 1, 0])


def test_singular_coupling_is_an_error():
    laplacian = np.array([[1.0, -1.0, 0.0], [-1.0, 2.0, -1.0], [0.0, -1.0, 1.0]])  # no ridge: singular
    with pytest.raises(ValueError, match=r"relations: .*invertible coupling_"):
        mtp.plot_task_relations(Fitted(coupling_=laplacian))


@pytest.mark.parametrize(
    ("relations", "kwargs", "message"),
    [
        (np.ones((2, 3)), {}, r"relations must be a square 2-D matrix"),
        (np.array([[1.0, 0.5], [0.2, 1.0]]), {}, r"relations must be symmetric"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), {}, r"relations contains NaN"),
        (np.eye(3), {"clusters": [0, 1]}, r"clusters must hold one cluster label per task \(3\)"),
        (np.eye(3), {"labels": ["a", "b"]}, r"labels must hold one label per task \(3\)"),
        (np.eye(3), {"order": "hierarchical"}, r"order must be 'clusters' or None"),
        (Fitted(tasks_=np.arange(3)), {}, r"relations must be"),
    ],
)
def test_task_relation_errors_name_the_argument(relations, kwargs, message):
    with pytest.raises(ValueError, match=message):
        mtp.plot_task_relations(relations, **kwargs)


def test_estimator_errors():
    with pytest.raises(NotFittedError):
        mtp.plot_task_relations(mt.KernelCoupledRegressor())
    with pytest.raises(ValueError, match=r"relations.clusters_ must hold one cluster label per task"):
        mtp.task_order(Fitted(task_correlation_=np.eye(3), clusters_=np.zeros(4)))


# ------------------------------------------------------------------ objective history


def test_objective_history_line_is_the_history():
    Xs, ys = regression_lists()
    model = mt.KernelCoupledRegressor(coupling="chain", alpha=0.1, solver="cg", tol=1e-12).fit(Xs, ys)
    history = model.objective_history_
    assert history.size > 3
    ax = mtp.plot_objective_history(model, relative=False)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), history)
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.arange(history.size))
    assert ax.get_yscale() == "linear"

    ax = mtp.plot_objective_history(model)
    gaps = ax.lines[0].get_ydata()
    floor = np.finfo(float).eps * abs(history.min())
    np.testing.assert_array_equal(gaps, np.maximum(history - history.min(), floor))
    assert ax.get_yscale() == "log" and np.all(gaps > 0)
    assert ax.get_xlabel() and ax.get_ylabel()


def test_objective_history_of_an_alternating_fit():
    model = Fitted(objective_history_=[5.0, 3.0, 2.5, 2.5])
    gaps = mtp.plot_objective_history(model).lines[0].get_ydata()
    np.testing.assert_array_equal(gaps, [2.5, 0.5, 2.5 * np.finfo(float).eps, 2.5 * np.finfo(float).eps])


def test_objective_history_errors():
    with pytest.raises(NotFittedError):
        mtp.plot_objective_history(mt.KernelCoupledRegressor())
    with pytest.raises(ValueError, match=r"model: Fitted has no objective_history_"):
        mtp.plot_objective_history(Fitted(coef_=np.zeros((2, 2))))
    with pytest.raises(ValueError, match=r"model.objective_history_ must be a non-empty 1-D array"):
        mtp.plot_objective_history(Fitted(objective_history_=[]))
    with pytest.raises(ValueError, match=r"model.objective_history_ contains NaN"):
        mtp.plot_objective_history(Fitted(objective_history_=[1.0, np.nan]))


# ------------------------------------------------------------------ per-task scores


def fitted_pair(X, y, **fit_kwargs):
    coupled = mt.KernelCoupledRegressor(coupling="mean_regularized", alpha=0.3).fit(X, y, **fit_kwargs)
    independent = mt.KernelCoupledRegressor(coupling="identity", alpha=0.3).fit(X, y, **fit_kwargs)
    return coupled, independent


def by_hand_r2(model, Xs, ys):
    """R^2 of every task from its own matrix, predicting with its row of coef_."""
    return np.array([r2_score(y, X @ w + b) for X, y, w, b in zip(Xs, ys, model.coef_, model.intercept_)])


def check_bars(ax, differences):
    heights = np.array([patch.get_height() for patch in ax.patches])
    np.testing.assert_allclose(heights, np.sort(differences), rtol=1e-12, atol=1e-14)
    assert any(np.ptp(line.get_ydata()) == 0 and line.get_ydata()[0] == 0 for line in ax.lines)  # zero line
    assert ax.get_title() == f"{int(np.sum(differences > 0))} of {differences.size} tasks improve"


def test_score_differences_for_lists():
    Xs, ys = regression_lists()
    train = [X[: len(X) // 2] for X in Xs], [y[: len(y) // 2] for y in ys]
    test = [X[len(X) // 2:] for X in Xs], [y[len(y) // 2:] for y in ys]
    coupled, independent = fitted_pair(*train)
    expected = by_hand_r2(coupled, *test) - by_hand_r2(independent, *test)
    np.testing.assert_allclose(mtp.task_scores(coupled, *test), by_hand_r2(coupled, *test), rtol=1e-12)
    np.testing.assert_allclose(mtp.task_score_differences(coupled, independent, *test), expected, rtol=1e-12)
    ax = mtp.plot_task_score_differences(coupled, independent, *test)
    check_bars(ax, expected)
    order = np.argsort(expected)
    assert [label.get_text() for label in ax.get_xticklabels()] == [str(t) for t in order]


def test_score_differences_for_the_long_format_with_shuffled_rows_and_string_labels():
    Xs, ys = regression_lists()
    names = np.array(["e", "d", "c", "b", "a"])  # tasks_ is sorted: task "a" is the last list entry
    X = np.vstack(Xs)
    y = np.concatenate(ys)
    tasks = np.repeat(names, [len(block) for block in Xs])
    shuffle = np.random.default_rng(2).permutation(len(y))
    X, y, tasks = X[shuffle], y[shuffle], tasks[shuffle]
    coupled, independent = fitted_pair(X, y, tasks=tasks)
    assert coupled.tasks_.tolist() == ["a", "b", "c", "d", "e"]
    per_task = [(X[tasks == name], y[tasks == name]) for name in coupled.tasks_]
    Xs_sorted, ys_sorted = [X_t for X_t, _ in per_task], [y_t for _, y_t in per_task]
    expected = by_hand_r2(coupled, Xs_sorted, ys_sorted) - by_hand_r2(independent, Xs_sorted, ys_sorted)
    np.testing.assert_allclose(mtp.task_score_differences(coupled, independent, X, y, tasks=tasks), expected,
                               rtol=1e-12)
    ax = mtp.plot_task_score_differences(coupled, independent, X, y, tasks=tasks)
    check_bars(ax, expected)
    assert [label.get_text() for label in ax.get_xticklabels()] == list(coupled.tasks_[np.argsort(expected)])
    # A task without test rows scores NaN (drawn last, not counted).
    keep = tasks != "c"
    scores = mtp.task_scores(coupled, X[keep], y[keep], tasks=tasks[keep])
    assert np.isnan(scores[2]) and np.all(np.isfinite(np.delete(scores, 2)))


def test_score_differences_for_a_shared_design():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 4))
    Y = X @ rng.normal(size=(4, 3)) + rng.normal(size=(60, 3))
    coupled, independent = fitted_pair(X[:30], Y[:30])
    X_test, Y_test = X[30:], Y[30:]
    expected = np.array([
        r2_score(Y_test[:, t], X_test @ coupled.coef_[t] + coupled.intercept_[t])
        - r2_score(Y_test[:, t], X_test @ independent.coef_[t] + independent.intercept_[t])
        for t in range(3)
    ])
    np.testing.assert_allclose(mtp.task_score_differences(coupled, independent, X_test, Y_test), expected,
                               rtol=1e-12)
    check_bars(mtp.plot_task_score_differences(coupled, independent, X_test, Y_test, labels=["u", "v", "w"]),
               expected)
    # A single task (1-D y): one score.
    single = mt.KernelCoupledRegressor(alpha=0.3).fit(X[:30], Y[:30, 0])
    np.testing.assert_allclose(mtp.task_scores(single, X_test, Y_test[:, 0]),
                               [r2_score(Y_test[:, 0], single.predict(X_test))], rtol=1e-12)


def test_other_scorings():
    Xs, ys = regression_lists()
    coupled, _ = fitted_pair(Xs, ys)
    predictions = coupled.predict(Xs)
    np.testing.assert_allclose(mtp.task_scores(coupled, Xs, ys, scoring="neg_mean_squared_error"),
                               [-mean_squared_error(y, p) for y, p in zip(ys, predictions)], rtol=1e-12)
    np.testing.assert_allclose(mtp.task_scores(coupled, Xs, ys, scoring=lambda y, p: np.max(np.abs(y - p))),
                               [np.max(np.abs(y - p)) for y, p in zip(ys, predictions)], rtol=1e-12)
    labels = [np.where(y > np.median(y), "yes", "no") for y in ys]
    classifier = mt.KernelCoupledClassifier(alpha=0.1).fit(Xs, labels)
    np.testing.assert_allclose(mtp.task_scores(classifier, Xs, labels, scoring="accuracy"),
                               [accuracy_score(y, p) for y, p in zip(labels, classifier.predict(Xs))])


def test_score_errors():
    Xs, ys = regression_lists()
    coupled, independent = fitted_pair(Xs, ys)
    with pytest.raises(ValueError, match=r"scoring must be one of"):
        mtp.task_scores(coupled, Xs, ys, scoring="roc")
    other = mt.KernelCoupledRegressor(alpha=0.3).fit(Xs[:4], ys[:4])
    with pytest.raises(ValueError, match=r"reference was fitted on other tasks than model"):
        mtp.task_score_differences(coupled, other, Xs, ys)
    with pytest.raises(ValueError, match=r"y must be a list of 5 per-task targets"):
        mtp.task_scores(coupled, Xs, ys[:4])
    with pytest.raises(ValueError, match=r"labels must hold one label per task \(5\)"):
        mtp.plot_task_score_differences(coupled, independent, Xs, ys, labels=["a"])
    with pytest.raises(NotFittedError):
        mtp.task_scores(mt.KernelCoupledRegressor(), Xs, ys)
    with pytest.raises(ValueError, match=r"y has shape \(10, 2\) but the model predicts \(10, 3\)"):
        shared = mt.KernelCoupledRegressor().fit(np.eye(10, 4), np.ones((10, 3)))
        mtp.task_scores(shared, np.eye(10, 4), np.ones((10, 2)))


# ------------------------------------------------------------------ cross-validation curve


def long_regression(seed=0):
    """Five tasks in the long format, for searches that split within every task."""
    return to_long_format(*regression_lists(seed=seed))


def task_search(grid, cv=3, **kwargs):
    X, y, tasks = long_regression()
    search = GridSearchCV(mt.KernelCoupledRegressor(coupling="chain"), grid, cv=TaskKFold(cv), **kwargs)
    return search.fit(X, y, tasks=tasks)


def fold_statistics(results, metric="score"):
    """Mean and (population) standard deviation of the split columns, computed here from the folds."""
    splits = sorted((key for key in results if re.fullmatch(rf"split\d+_test_{metric}", key)),
                    key=lambda key: int(re.search(r"\d+", key).group()))
    scores = np.column_stack([results[key] for key in splits])
    return scores.mean(axis=1), np.sqrt(((scores - scores.mean(axis=1, keepdims=True)) ** 2).mean(axis=1))


def curves(ax):
    """The mean lines (not the marks) of a CV curve."""
    return [line for line in ax.lines if line.get_gid() is None]


def mark(ax, gid):
    (line,) = [line for line in ax.lines if line.get_gid() == gid]
    return line.get_xdata(), line.get_ydata()


def band(collection, x):
    """Lower and upper edge of a fill_between band at every x (its polygon's vertices there)."""
    vertices = np.vstack([path.vertices for path in collection.get_paths()])
    lower = np.array([vertices[vertices[:, 0] == value, 1].min() for value in x])
    upper = np.array([vertices[vertices[:, 0] == value, 1].max() for value in x])
    return lower, upper


def candidates(results, **values):
    """Indices of the candidates with the given parameter values."""
    return np.array([i for i, params in enumerate(results["params"])
                     if all(params.get(name) == value for name, value in values.items())])


def test_cv_curve_draws_the_fold_mean_and_band_and_marks_the_chosen_alpha():
    grid = [1.0, 1e-4, 10.0, 1e-2, 1e-3, 0.1]  # not sorted: the curve is
    search = task_search({"alpha": grid})
    results = search.cv_results_
    mean, std = fold_statistics(results)
    order = np.argsort(results["param_alpha"].astype(float))
    ax = mtp.plot_cv_curve(search)

    (line,) = curves(ax)
    np.testing.assert_array_equal(line.get_xdata(), np.sort(grid))
    np.testing.assert_allclose(line.get_ydata(), mean[order], rtol=1e-12)
    lower, upper = band(ax.collections[0], np.sort(grid))
    np.testing.assert_allclose(lower, (mean - std)[order], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(upper, (mean + std)[order], rtol=1e-12, atol=1e-14)

    best = search.best_index_
    assert best == np.argmax(mean)  # the search chose the best fold mean
    np.testing.assert_array_equal(mark(ax, "best-value")[0], [grid[best]] * 2)
    np.testing.assert_allclose(np.column_stack(mark(ax, "best-point")), [[grid[best], mean[best]]], rtol=1e-12)
    assert ax.get_xscale() == "log"  # five decades
    assert ax.get_xlabel() == "alpha"
    assert "score" in ax.get_ylabel() and "3 folds" in ax.get_ylabel()


@pytest.mark.parametrize(
    ("grid", "log_scale", "expected"),
    [
        ({"alpha": [0.1, 0.5, 1.0, 5.0]}, None, "linear"),  # a factor 50: less than two decades
        ({"alpha": [0.01, 0.1, 2.0]}, None, "log"),         # a factor 200
        ({"l21": [0.0, 0.01, 10.0]}, None, "linear"),       # zero cannot go on a log axis
        ({"alpha": [0.1, 0.5, 1.0, 5.0]}, True, "log"),
        ({"alpha": [0.01, 0.1, 2.0]}, False, "linear"),
    ],
)
def test_cv_curve_log_scale_rules(grid, log_scale, expected):
    ax = mtp.plot_cv_curve(task_search(grid, cv=2), log_scale=log_scale)
    assert ax.get_xscale() == expected


def test_cv_curve_of_a_two_parameter_grid_draws_one_curve_per_other_value():
    alphas, l21s = [1e-3, 1e-1, 10.0], [0.0, 0.05]
    search = task_search({"alpha": alphas, "l21": l21s})
    results = search.cv_results_
    mean, _ = fold_statistics(results)
    best = results["params"][search.best_index_]

    ax = mtp.plot_cv_curve(search)  # alpha: the first parameter (alphabetically) that varies
    assert ax.get_xlabel() == "alpha"
    assert len(curves(ax)) == 2 and len(ax.collections) == 2
    for line, l21 in zip(curves(ax), l21s):
        rows = candidates(results, l21=l21)
        assert line.get_label() == f"l21={l21:.3g}"
        np.testing.assert_array_equal(line.get_xdata(), alphas)
        np.testing.assert_allclose(line.get_ydata(), mean[rows], rtol=1e-12)
    star = np.column_stack(mark(ax, "best-point"))
    np.testing.assert_allclose(star, [[best["alpha"], mean[search.best_index_]]], rtol=1e-12)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend[:2] == ["l21=0", "l21=0.05"] and legend[2].startswith("chosen: alpha=")

    ax = mtp.plot_cv_curve(search, "l21")  # the other way round: one curve per alpha, 0 on a linear axis
    assert len(curves(ax)) == 3 and ax.get_xscale() == "linear"
    for line, alpha in zip(curves(ax), alphas):
        np.testing.assert_allclose(line.get_ydata(), mean[candidates(results, alpha=alpha)], rtol=1e-12)

    other = l21s[1 - l21s.index(best["l21"])]
    for l21, marked in ((best["l21"], True), (other, False)):
        ax = mtp.plot_cv_curve(search, fixed={"l21": l21})
        (line,) = curves(ax)
        np.testing.assert_allclose(line.get_ydata(), mean[candidates(results, l21=l21)], rtol=1e-12)
        assert any(line.get_gid() == "best-point" for line in ax.lines) == marked  # marked only where drawn


def test_cv_curve_labels_curves_by_a_non_numeric_parameter_and_a_list_of_grids():
    search = task_search({"alpha": [1e-3, 1.0], "coupling": ["identity", "chain"]}, cv=2)
    ax = mtp.plot_cv_curve(search)
    assert ax.get_xlabel() == "alpha"
    assert [line.get_label() for line in curves(ax)] == ["coupling='identity'", "coupling='chain'"]  # grid order
    with pytest.raises(ValueError, match=r"param 'coupling' has non-numeric values \('identity'\)"):
        mtp.plot_cv_curve(search, "coupling")

    # A list of grids: the candidates of the second grid have no l21 of their own.
    search = task_search([{"alpha": [1e-3, 1.0], "l21": [0.05]}, {"alpha": [1e-2, 0.1, 10.0]}], cv=2)
    mean, _ = fold_statistics(search.cv_results_)
    ax = mtp.plot_cv_curve(search)
    first, second = curves(ax)
    assert (first.get_label(), second.get_label()) == ("l21=0.05", "l21=unset")
    np.testing.assert_allclose(second.get_ydata(), mean[2:], rtol=1e-12)


def test_cv_curve_of_a_multi_metric_scikit_learn_search_and_of_a_results_dict():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(60, 5))
    y = X @ rng.normal(size=5) + rng.normal(size=60)
    scoring = {"r2": "r2", "mse": "neg_mean_squared_error"}
    search = SkGridSearchCV(Ridge(), {"alpha": np.logspace(-2, 3, 6)}, scoring=scoring, refit="r2", cv=4)
    search.fit(X, y)
    results = search.cv_results_

    ax = mtp.plot_cv_curve(search)  # the refit metric
    np.testing.assert_allclose(curves(ax)[0].get_ydata(), fold_statistics(results, "r2")[0], rtol=1e-12)
    assert mark(ax, "best-value")[0][0] == results["param_alpha"][search.best_index_]
    assert "CV r2" in ax.get_ylabel() and "4 folds" in ax.get_ylabel()

    ax = mtp.plot_cv_curve(search, metric="mse")  # another metric: its own rank-1 candidate is marked
    mse_mean = fold_statistics(results, "mse")[0]
    np.testing.assert_allclose(curves(ax)[0].get_ydata(), mse_mean, rtol=1e-12)
    assert mark(ax, "best-value")[0][0] == results["param_alpha"][np.argmax(mse_mean)]

    ax = mtp.plot_cv_curve(task_search({"alpha": [1e-3, 1.0, 10.0]}, cv=2).cv_results_)  # the dict alone
    assert mark(ax, "best-value")[0][0] == [1e-3, 1.0, 10.0][int(np.argmax(curves(ax)[0].get_ydata()))]

    with pytest.raises(ValueError, match=r"metric must be one of \['r2', 'mse'\], got 'mae'"):
        mtp.plot_cv_curve(search, metric="mae")
    search.set_params(refit=False).fit(X, y)
    with pytest.raises(ValueError, match=r"metric: the search scored several metrics"):
        mtp.plot_cv_curve(search)


def test_cv_curve_errors():
    search = task_search({"alpha": [1e-3, 1.0], "l21": [0.0, 0.1]}, cv=2)
    with pytest.raises(NotFittedError):
        mtp.plot_cv_curve(GridSearchCV(mt.KernelCoupledRegressor(), {"alpha": [1.0]}))
    Xs, ys = regression_lists()
    with pytest.raises(ValueError, match=r"search: KernelCoupledRegressor has no cv_results_"):
        mtp.plot_cv_curve(mt.KernelCoupledRegressor().fit(Xs, ys))
    with pytest.raises(ValueError, match=r"search has no 'params'"):
        mtp.plot_cv_curve({"mean_test_score": [1.0]})
    with pytest.raises(ValueError, match=r"param 'mu' is not a parameter of the search \(parameters: \['alpha', 'l21'"):
        mtp.plot_cv_curve(search, "mu")
    with pytest.raises(ValueError, match=r"fixed: 'mu' is not a parameter of the search"):
        mtp.plot_cv_curve(search, fixed={"mu": 1.0})
    with pytest.raises(ValueError, match=r"fixed: no candidate has l21=0.5; its values are \['0', '0.1'\]"):
        mtp.plot_cv_curve(search, fixed={"l21": 0.5})
    with pytest.raises(ValueError, match=r"fixed must not hold param 'alpha'"):
        mtp.plot_cv_curve(search, "alpha", fixed={"alpha": 1.0})
    with pytest.raises(ValueError, match=r"log_scale=True needs positive values of 'l21'"):
        mtp.plot_cv_curve(search, "l21", log_scale=True)
    with pytest.raises(ValueError, match=r"fixed: the other parameters \['alpha'\] take 11 combinations"):
        mtp.plot_cv_curve(task_search({"alpha": np.logspace(-3, 1, 11), "l21": [0.0, 0.1]}, cv=2), "l21")
    strings = task_search({"coupling": ["identity", "chain"]}, cv=2)
    with pytest.raises(ValueError, match=r"param: the search has no numeric parameter .*\['coupling'\]"):
        mtp.plot_cv_curve(strings)


# ------------------------------------------------------------------ regularisation path


def l21_path(n_values=12):
    """An l21 path on a shared design where 2 of 6 features carry the signal."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(80, 6))
    Y = X[:, :2] @ rng.normal(size=(2, 3)) + 0.2 * rng.normal(size=(80, 3))
    return mt.regularization_path(mt.KernelCoupledRegressor(alpha=1e-3, tol=1e-10), X, Y, n_values=n_values)


def test_path_of_feature_norms_is_the_row_norm_of_coef_on_an_inverted_log_axis():
    path = l21_path()
    ax = mtp.plot_regularization_path(path)
    n_values, n_tasks, n_features = path.coef.shape
    assert len(ax.lines) == n_features
    for j, line in enumerate(ax.lines):
        by_hand = [np.sqrt(sum(path.coef[k, t, j] ** 2 for t in range(n_tasks))) for k in range(n_values)]
        np.testing.assert_allclose(line.get_ydata(), by_hand, rtol=1e-12, atol=1e-300)
        np.testing.assert_array_equal(line.get_xdata(), path.penalty_values)
    assert all(line.get_ydata()[0] == 0 for line in ax.lines)  # penalty_max: W = 0
    assert ax.get_xscale() == "log" and ax.xaxis_inverted()  # largest penalty on the left
    assert ax.get_legend() is None


def test_path_of_one_task_and_a_marked_value():
    path = l21_path()
    chosen = float(path.penalty_values[7])
    names = [f"x{j}" for j in range(6)]
    ax = mtp.plot_regularization_path(path, kind="coefficients", task=1, mark=chosen, feature_names=names)
    drawn = [line for line in ax.lines if line.get_gid() is None]
    np.testing.assert_array_equal(np.column_stack([line.get_ydata() for line in drawn]), path.coef[:, 1, :])
    np.testing.assert_array_equal(mark(ax, "zero")[1], [0.0, 0.0])
    np.testing.assert_array_equal(mark(ax, "mark")[0], [chosen, chosen])
    assert [text.get_text() for text in ax.get_legend().get_texts()] == names + [f"marked: {chosen:.3g}"]
    assert "task 1" in ax.get_ylabel()


def test_path_with_a_zero_penalty_needs_a_linear_axis():
    rng = np.random.default_rng(6)
    X, Y = rng.normal(size=(30, 3)), rng.normal(size=(30, 2))
    path = mt.regularization_path(mt.KernelCoupledRegressor(alpha=1e-2), X, Y, values=[0.1, 0.01, 0.0])
    with pytest.raises(ValueError, match=r"penalty_values has values <= 0.*log_scale=False"):
        mtp.plot_regularization_path(path)
    ax = mtp.plot_regularization_path(path, log_scale=False)
    assert ax.get_xscale() == "linear" and ax.xaxis_inverted()
    np.testing.assert_allclose(ax.lines[2].get_ydata(), np.linalg.norm(path.coef[:, :, 2], axis=1), rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "norms"}, r"kind must be one of \('features', 'coefficients'\)"),
        ({"task": 0}, r"task is used only with kind='coefficients'"),
        ({"kind": "coefficients"}, r"task must be an integer in 0..2 with kind='coefficients', got None"),
        ({"kind": "coefficients", "task": 3}, r"task must be an integer in 0..2"),
        ({"mark": -1.0}, r"mark must be a finite positive penalty value"),
        ({"mark": np.nan, "log_scale": False}, r"mark must be a finite penalty value"),
        ({"feature_names": ["a"]}, r"feature_names must hold one name per feature \(6\)"),
    ],
)
def test_path_argument_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mtp.plot_regularization_path(l21_path(n_values=3), **kwargs)


def test_path_shape_errors():
    path = l21_path(n_values=3)
    with pytest.raises(ValueError, match=r"path has no 'coef'"):
        mtp.plot_regularization_path({"penalty_values": path.penalty_values})
    with pytest.raises(ValueError, match=r"path.coef must have shape \(n_values=3, T, d\), got \(2, 3, 6\)"):
        mtp.plot_regularization_path({"penalty_values": path.penalty_values, "coef": path.coef[:2]})
    with pytest.raises(ValueError, match=r"path.coef contains NaN"):
        mtp.plot_regularization_path({"penalty_values": path.penalty_values, "coef": path.coef * np.nan})


def test_the_examples_in_the_docstrings_run():
    import doctest

    import multitask._selection_plots as module

    failures, attempted = doctest.testmod(module)[:2]
    assert attempted > 0 and failures == 0


# ------------------------------------------------------------------ README


def test_readme_plotting_section_runs_and_draws_what_it_says():
    blocks = readme_blocks("## Pictures: `multitask.plotting`")
    assert len(blocks) == 2
    namespace = {}
    exec(blocks[0], namespace)  # noqa: S102 - the README's own example
    coupled, axes, gains = namespace["coupled"], namespace["axes"], namespace["gains"]
    assert mtp.task_order(coupled).tolist() in (list(range(12)), list(range(11, -1, -1)))  # the chain
    np.testing.assert_array_equal(axes[1].lines[0].get_xdata(), np.arange(coupled.objective_history_.size))
    check_bars(axes[2], gains)


def test_readme_model_selection_example_draws_the_search_and_the_path():
    namespace = {}
    exec(readme_blocks("## Pictures: `multitask.plotting`")[1], namespace)  # noqa: S102 - the README's example
    search, path, l21_search, axes = (namespace[name] for name in ("search", "path", "l21_search", "axes"))
    results = search.cv_results_
    mean, _ = fold_statistics(results)
    assert len(curves(axes[0])) == 2 and axes[0].get_xscale() == "log"
    for line, l21 in zip(curves(axes[0]), [0.0, 0.05]):
        np.testing.assert_allclose(line.get_ydata(), mean[candidates(results, l21=l21)], rtol=1e-12)
    np.testing.assert_array_equal(mark(axes[0], "best-value")[0], [search.best_params_["alpha"]] * 2)
    norms = np.linalg.norm(path.coef, axis=1)
    drawn = [line for line in axes[1].lines if line.get_gid() is None]
    np.testing.assert_allclose(np.column_stack([line.get_ydata() for line in drawn]), norms, rtol=1e-12)
    np.testing.assert_array_equal(mark(axes[1], "mark")[0], [l21_search.best_params_["l21"]] * 2)
    # The 4 features with signal leave zero before the 6 without, as the penalty decreases.
    entry = [int(np.argmax(norms[:, j] > 0)) if np.any(norms[:, j] > 0) else norms.shape[0] for j in range(10)]
    assert max(entry[:4]) < min(entry[4:])
