"""Bad input gets a ValueError that names the argument; never a crash."""

import numpy as np
import pytest

import multitask as mt

rng = np.random.default_rng(0)
Xs = [rng.normal(size=(n, 3)) for n in (10, 12)]
ys = [rng.normal(size=n) for n in (10, 12)]
X_long = np.vstack(Xs)
y_long = np.concatenate(ys)
tasks = np.repeat([0, 1], [10, 12])


# A message naming the argument y (as a word: "array" or "Found" do not count).
NAMES_Y = r"(^|[^\w])y([^\w]|$)"


def with_value(array, value, index=(0, 0)):
    array = np.array(array, dtype=float)
    array[index] = value
    return array


@pytest.mark.parametrize("value, word", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_non_finite_values(value, word):
    model = mt.KernelCoupledRegressor()
    with pytest.raises(ValueError, match=rf"X\[1\].*{word}"):
        model.fit([Xs[0], with_value(Xs[1], value)], ys)
    with pytest.raises(ValueError, match=rf"y\[0\].*{word}"):
        model.fit(Xs, [with_value(ys[0], value, 3), ys[1]])
    with pytest.raises(ValueError, match=rf"X.*{word}"):
        model.fit(with_value(X_long, value), y_long, tasks=tasks)
    with pytest.raises(ValueError, match=rf"y.*{word}"):
        model.fit(X_long, with_value(y_long, value, 5), tasks=tasks)
    with pytest.raises(ValueError, match=r"y"):
        model.fit(Xs[0], np.c_[with_value(ys[0], value, 2), ys[0]])


def test_mismatched_lengths():
    model = mt.KernelCoupledRegressor()
    with pytest.raises(ValueError, match=r"X\[1\] has 12 rows but y\[1\] has 11"):
        model.fit(Xs, [ys[0], ys[1][:-1]])
    with pytest.raises(ValueError, match="X holds 2 tasks but y holds 1"):
        model.fit(Xs, ys[:1])
    with pytest.raises(ValueError, match="tasks has 21 labels but X has 22 rows"):
        model.fit(X_long, y_long, tasks=tasks[:-1])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        model.fit(X_long, y_long[:-1], tasks=tasks)
    with pytest.raises(ValueError, match=r"X\[1\] has 2 features but X\[0\] has 3"):
        model.fit([Xs[0], Xs[1][:, :2]], ys)


def test_bad_coupling():
    with pytest.raises(ValueError, match=r"coupling has shape \(3, 3\) but the data has 2 tasks"):
        mt.KernelCoupledRegressor(coupling=np.eye(3)).fit(Xs, ys)
    with pytest.raises(ValueError, match="coupling must be symmetric"):
        mt.KernelCoupledRegressor(coupling=[[1.0, 0.5], [0.0, 1.0]]).fit(Xs, ys)
    with pytest.raises(ValueError, match="coupling must be positive semidefinite; its smallest eigenvalue is -1"):
        mt.KernelCoupledRegressor(coupling=[[1.0, 2.0], [2.0, 1.0]]).fit(Xs, ys)
    with pytest.raises(ValueError, match="coupling contains NaN"):
        mt.KernelCoupledRegressor(coupling=[[1.0, np.nan], [np.nan, 1.0]]).fit(Xs, ys)
    with pytest.raises(ValueError, match="coupling must be a square 2-D matrix"):
        mt.KernelCoupledRegressor(coupling=np.ones((2, 2, 2))).fit(Xs, ys)
    with pytest.raises(ValueError, match="coupling"):
        mt.KernelCoupledRegressor(coupling="no_such_builder").fit(Xs, ys)


def test_unseen_task_labels_in_predict():
    model = mt.KernelCoupledRegressor().fit(X_long, y_long, tasks=tasks)
    with pytest.raises(ValueError, match=r"tasks contains labels not seen in fit, e.g. \[.*7"):
        model.predict(X_long[:3], tasks=[0, 7, 1])
    unseen = r"tasks (has labels of another type|contains labels not seen in fit, e.g. \['a', 'b'\])"
    with pytest.raises(ValueError, match=unseen):
        model.predict(X_long[:2], tasks=["a", "b"])


def test_empty_task():
    with pytest.raises(ValueError, match=r"X\[1\].*0 sample"):
        mt.KernelCoupledRegressor().fit([Xs[0], np.empty((0, 3))], [ys[0], np.empty(0)])


def test_complex_and_object_dtypes():
    model = mt.KernelCoupledRegressor()
    with pytest.raises(ValueError, match="Complex data not supported: X"):
        model.fit(X_long.astype(complex), y_long, tasks=tasks)
    with pytest.raises(ValueError, match="Complex data not supported: y"):
        model.fit(Xs[0], ys[0].astype(complex))
    with pytest.raises(ValueError, match="could not convert|dtype"):
        model.fit(np.array([["a", "b"], ["c", "d"]], dtype=object), np.ones(2))
    with pytest.raises(ValueError, match="tasks must hold real or string labels"):
        model.fit(X_long, y_long, tasks=tasks.astype(complex))


def test_three_dimensional_arrays():
    model = mt.KernelCoupledRegressor()
    with pytest.raises(ValueError, match="dim 3"):
        model.fit(np.ones((4, 3, 2)), np.ones(4))
    with pytest.raises(ValueError, match=NAMES_Y):
        model.fit(np.ones((4, 3)), np.ones((4, 2, 2)))
    with pytest.raises(ValueError, match=r"X.*dim 3"):
        model.fit(np.ones((22, 3, 1)), y_long, tasks=tasks)
    with pytest.raises(ValueError, match=r"y\[0\] must be 1-D"):
        model.fit(Xs, [np.c_[ys[0], ys[0]], ys[1]])  # (n_t, 1) is accepted, (n_t, 2) is not


def test_wrong_feature_count_at_predict():
    model = mt.KernelCoupledRegressor().fit(Xs, ys)
    with pytest.raises(ValueError, match="X has 2 features, but KernelCoupledRegressor is expecting 3"):
        model.predict(X_long[:, :2])
    with pytest.raises(ValueError, match=r"X\[0\] has 4 features"):
        model.predict([np.ones((2, 4)), np.ones((2, 3))])
    with pytest.raises(ValueError, match="X holds 1 tasks but the model was fitted on 2"):
        model.predict(Xs[:1])


def test_bad_task_weights_and_parameters():
    with pytest.raises(ValueError, match="task_weights must be finite and positive"):
        mt.KernelCoupledRegressor(task_weights=[1.0, -1.0]).fit(Xs, ys)
    with pytest.raises(ValueError, match=r"task_weights has shape \(3,\) but the data has 2 tasks"):
        mt.KernelCoupledRegressor(task_weights=[1.0, 1.0, 1.0]).fit(Xs, ys)
    with pytest.raises(ValueError, match="alpha"):
        mt.KernelCoupledRegressor(alpha=-1.0).fit(Xs, ys)
    with pytest.raises(ValueError, match="solver"):
        mt.KernelCoupledRegressor(solver="lbfgs").fit(Xs, ys)
    with pytest.raises(ValueError, match="max_iter"):
        mt.KernelCoupledRegressor(max_iter=0).fit(Xs, ys)
    with pytest.raises(ValueError, match="n_jobs == 0"):
        mt.KernelCoupledRegressor(n_jobs=0).fit(Xs, ys)


def test_y_missing():
    with pytest.raises(ValueError, match="requires y to be passed"):
        mt.KernelCoupledRegressor().fit(X_long)
    with pytest.raises(ValueError, match="y must be a list of per-task targets"):
        mt.KernelCoupledRegressor().fit(Xs, y_long)


def test_core_rejects_inconsistent_arrays_without_crashing():
    """The binding checks what it is given even if Python validation were bypassed."""
    from multitask._core import core

    s = np.full(2, 0.05)
    with pytest.raises(ValueError, match="C-contiguous"):
        core.fit_least_squares_f64(X=[Xs[0].astype(np.float32), Xs[1]], y=ys, sample_weight=s, coupling=np.eye(2), alpha=1.0, fit_intercept=True, shared_design=False, solver="cg",
                                   tol=1e-8, max_iter=10, n_threads=1, warm_start=None)
    with pytest.raises(ValueError, match="same number of rows"):
        core.fit_least_squares_f64(X=[Xs[0], Xs[1]], y=[ys[0], ys[0]], sample_weight=s, coupling=np.eye(2), alpha=1.0, fit_intercept=True, shared_design=False, solver="cg",
                                   tol=1e-8, max_iter=10, n_threads=1, warm_start=None)
    with pytest.raises(ValueError, match="coupling"):
        core.fit_least_squares_f64(X=Xs, y=ys, sample_weight=s, coupling=np.eye(3), alpha=1.0, fit_intercept=True, shared_design=False, solver="cg", tol=1e-8, max_iter=10, n_threads=1, warm_start=None)
    with pytest.raises(ValueError, match="solver"):
        core.fit_least_squares_f64(X=Xs, y=ys, sample_weight=s, coupling=np.eye(2), alpha=1.0, fit_intercept=True, shared_design=False, solver="lbfgs", tol=1e-8, max_iter=10, n_threads=1, warm_start=None)


def fitted_models():
    lists = mt.KernelCoupledRegressor().fit(Xs, ys)
    long = mt.KernelCoupledRegressor().fit(X_long, y_long, tasks=tasks)
    shared = mt.KernelCoupledRegressor().fit(X_long, np.c_[y_long, 2 * y_long])
    return lists, long, shared


@pytest.mark.parametrize("value, word", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_non_finite_values_shared_design_and_predict(value, word):
    model = mt.KernelCoupledRegressor()
    with pytest.raises(ValueError, match=rf"X.*{word}"):
        model.fit(with_value(X_long, value, (3, 1)), np.c_[y_long, y_long])
    with pytest.raises(ValueError, match=rf"y.*{word}"):
        model.fit(X_long, with_value(np.c_[y_long, y_long], value, (4, 1)))
    with pytest.raises(ValueError, match=rf"X\[0\].*{word}"):
        model.fit([with_value(Xs[0], -value), Xs[1]], ys)
    lists, long, shared = fitted_models()
    with pytest.raises(ValueError, match=rf"X\[1\].*{word}"):
        lists.predict([Xs[0], with_value(Xs[1], value)])
    with pytest.raises(ValueError, match=rf"X.*{word}"):
        long.predict(with_value(X_long, value), tasks=tasks)
    with pytest.raises(ValueError, match=rf"X.*{word}"):
        shared.predict(with_value(X_long, value))


def test_bad_task_labels():
    model = mt.KernelCoupledRegressor()
    with pytest.raises(ValueError, match="tasks contains NaN"):
        model.fit(X_long, y_long, tasks=np.where(tasks == 0, np.nan, 1.0))
    with pytest.raises(ValueError, match="tasks contains None"):
        model.fit(X_long, y_long, tasks=np.array([None] * 11 + [1] * 11, dtype=object))
    with pytest.raises(ValueError, match="tasks must be 1-D"):
        model.fit(X_long, y_long, tasks=tasks[:, None])
    _, long, _ = fitted_models()
    with pytest.raises(ValueError, match="tasks has 21 labels but X has 22 rows"):
        long.predict(X_long, tasks=tasks[:-1])
    with pytest.raises(ValueError, match="X has 2 features, but KernelCoupledRegressor is expecting 3"):
        long.predict(X_long[:, :2], tasks=tasks)


@pytest.mark.parametrize(
    "task_weights, message",
    [
        ([1.0, np.nan], "task_weights must be finite and positive"),
        ([1.0, np.inf], "task_weights must be finite and positive"),
        ([1.0, 0.0], "task_weights must be finite and positive"),
        ([[1.0, 1.0]], r"task_weights has shape \(1, 2\)"),
        ([1.0], r"task_weights has shape \(1,\) but the data has 2 tasks"),
        (["a", "b"], "task_weights must be numeric"),
        (np.array([1 + 1j, 1.0]), "task_weights must be numeric"),
        ("equal", "task_weights"),
    ],
)
def test_more_bad_task_weights(task_weights, message):
    with pytest.raises(ValueError, match=message):
        mt.KernelCoupledRegressor(task_weights=task_weights).fit(Xs, ys)


@pytest.mark.parametrize(
    "params, name",
    [
        ({"alpha": np.nan}, "alpha"),
        ({"alpha": np.inf}, "alpha"),
        ({"alpha": "1"}, "alpha"),
        ({"tol": -1e-3}, "tol"),
        ({"tol": np.nan}, "tol"),
        ({"max_iter": 1.5}, "max_iter"),
        ({"max_iter": -3}, "max_iter"),
        ({"fit_intercept": "yes"}, "fit_intercept"),
        ({"warm_start": 2}, "warm_start"),
        ({"n_jobs": 1.5}, "n_jobs"),
        ({"solver": "lbfgs"}, "solver"),
        ({"loss": "hinge"}, "loss"),
        ({"epsilon": 0.0}, "epsilon"),
        ({"epsilon": -1.0}, "epsilon"),
        ({"solver": "EXACT"}, "solver"),
        ({"coupling": 1.0}, "coupling"),
        ({"coupling": [1.0, 1.0]}, "coupling"),
        ({"coupling": [[1.0, np.inf], [np.inf, 1.0]]}, "coupling"),
        ({"coupling": np.eye(2) * (1 + 0j)}, "coupling"),
        ({"coupling": np.array([["a", "b"], ["c", "d"]], dtype=object)}, "coupling"),
    ],
)
def test_bad_parameters_name_themselves(params, name):
    from sklearn.utils._param_validation import InvalidParameterError

    assert issubclass(InvalidParameterError, ValueError)
    with pytest.raises(ValueError, match=name):
        mt.KernelCoupledRegressor(**params).fit(Xs, ys)


def test_errors_about_y_name_y():
    """scikit-learn's own messages ("Found array with ...") are prefixed with the argument."""
    model = mt.KernelCoupledRegressor()
    with pytest.raises(ValueError, match=NAMES_Y):
        model.fit(X_long, np.empty((22, 0)))
    with pytest.raises(ValueError, match=NAMES_Y):
        model.fit(X_long, np.ones((22, 2, 2)))
    with pytest.raises(ValueError, match=NAMES_Y):
        model.fit(X_long, np.array(["a"] * 22, dtype=object), tasks=tasks)


def test_empty_inputs():
    model = mt.KernelCoupledRegressor()
    with pytest.raises(ValueError, match=r"X\[0\].*0 feature"):
        model.fit([np.empty((5, 0)), np.empty((4, 0))], [np.ones(5), np.ones(4)])
    with pytest.raises(ValueError, match=r"X.*0 feature"):
        model.fit(np.empty((5, 0)), np.ones(5), tasks=np.zeros(5))
    with pytest.raises(ValueError, match=r"X.*0 sample"):
        model.fit(np.empty((0, 3)), np.empty((0, 2)))
    with pytest.raises(ValueError, match="X"):
        model.fit([], [])


def test_unfitted_model_raises_not_fitted_error():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        mt.KernelCoupledRegressor().predict(X_long)
    assert issubclass(NotFittedError, ValueError)


def _canonical_fit():
    return mt.KernelCoupledRegressor(solver="exact").fit(Xs, ys)


@pytest.mark.parametrize(
    "layout",
    ["fortran_blocks", "strided_targets", "python_lists", "integer_X", "object_numbers", "float32_targets",
     "reversed_rows_long"],
)
def test_unusual_valid_layouts_give_the_canonical_answer(layout):
    expected = _canonical_fit()
    model = mt.KernelCoupledRegressor(solver="exact")
    if layout == "fortran_blocks":
        model.fit([np.asfortranarray(X) for X in Xs], ys)
    elif layout == "strided_targets":
        model.fit(Xs, [np.c_[y, -y][:, 0] for y in ys])
    elif layout == "python_lists":
        model.fit([X.tolist() for X in Xs], [y.tolist() for y in ys])
    elif layout == "integer_X":
        ints = [np.round(10 * X).astype(np.int64) for X in Xs]
        expected = mt.KernelCoupledRegressor(solver="exact").fit([X.astype(float) for X in ints], ys)
        model.fit(ints, ys)
    elif layout == "object_numbers":
        model.fit(X_long.astype(object), y_long.astype(object), tasks=tasks)
    elif layout == "float32_targets":
        model.fit(Xs, [y.astype(np.float32).astype(np.float64) for y in ys])
        expected = mt.KernelCoupledRegressor(solver="exact").fit(Xs, [y.astype(np.float32) for y in ys])
    elif layout == "reversed_rows_long":
        model.fit(X_long[::-1], y_long[::-1], tasks=tasks[::-1])
    assert model.coef_.dtype == np.float64
    np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(model.intercept_, expected.intercept_, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("view", ["reversed_rows", "reversed_columns", "every_other_row", "fortran", "broadcast_rows"])
def test_shared_design_accepts_any_target_layout(view):
    """Views of Y (negative, zero or non-unit strides, Fortran order) are valid targets.
    (broadcast_rows: every row the same, so W = 0 and b = that row.)"""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 3))
    Y = rng.normal(size=(60, 4))
    Y_view = {"reversed_rows": Y[:30][::-1], "reversed_columns": Y[:30, ::-1], "every_other_row": Y[::2],
              "fortran": np.asfortranarray(Y[:30]), "broadcast_rows": np.broadcast_to(Y[0], (30, 4))}[view]
    model = mt.KernelCoupledRegressor(solver="exact").fit(X, Y_view)
    expected = mt.KernelCoupledRegressor(solver="exact").fit(X, np.ascontiguousarray(Y_view))
    np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(model.intercept_, expected.intercept_, rtol=1e-12, atol=1e-14)
