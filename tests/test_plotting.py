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
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score  # noqa: E402

import multitask as mt  # noqa: E402
import multitask.plotting as mtp  # noqa: E402
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


# ------------------------------------------------------------------ README


def test_readme_plotting_section_runs_and_draws_what_it_says():
    blocks = readme_blocks("## Pictures: `multitask.plotting`")
    assert len(blocks) == 1
    namespace = {}
    exec(blocks[0], namespace)  # noqa: S102 - the README's own example
    coupled, axes, gains = namespace["coupled"], namespace["axes"], namespace["gains"]
    assert mtp.task_order(coupled).tolist() in (list(range(12)), list(range(11, -1, -1)))  # the chain
    np.testing.assert_array_equal(axes[1].lines[0].get_xdata(), np.arange(coupled.objective_history_.size))
    check_bars(axes[2], gains)
