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
    with pytest.raises(ValueError, match=r"tasks (has labels of another type|contains labels not seen in fit, e.g. \['a', 'b'\])"):
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
    with pytest.raises(ValueError, match=r"y must be 1-D or 2-D|dim 3"):
        model.fit(np.ones((4, 3)), np.ones((4, 2, 2)))
    with pytest.raises(ValueError, match=r"y\[0\] must be 1-D"):
        model.fit(Xs, [ys[0][:, None], ys[1]])


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
        mt.KernelCoupledRegressor(solver="newton").fit(Xs, ys)
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
        core.fit_least_squares_f64([Xs[0].astype(np.float32), Xs[1]], ys, s, np.eye(2), 1.0, True, False, "cg",
                                   1e-8, 10, 1, None)
    with pytest.raises(ValueError, match="same number of rows"):
        core.fit_least_squares_f64([Xs[0], Xs[1]], [ys[0], ys[0]], s, np.eye(2), 1.0, True, False, "cg",
                                   1e-8, 10, 1, None)
    with pytest.raises(ValueError, match="coupling"):
        core.fit_least_squares_f64(Xs, ys, s, np.eye(3), 1.0, True, False, "cg", 1e-8, 10, 1, None)
    with pytest.raises(ValueError, match="solver"):
        core.fit_least_squares_f64(Xs, ys, s, np.eye(2), 1.0, True, False, "lbfgs", 1e-8, 10, 1, None)
