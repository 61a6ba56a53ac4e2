"""The shipped School data and the synthetic multi-task generator."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse

import multitask.coupling as coupling
import multitask.datasets as datasets

# sha256 of the MALSAR School arrays (X_all, y_all of the shared school.npz, float64 little-endian,
# row-major), so the packaged copy is checked to be bit-exact without the original file.
SCHOOL_X_SHA256 = "8d01c8c2eb835e25472ab33d89c326cd48d2d3c582b88419394e1c59db477661"
SCHOOL_Y_SHA256 = "df6d0c1c517fd55c9bcd21cc77d6307b77019cd6e0c01263dd4c6aa41b56c9d2"
SHARED_SCHOOL = Path(__file__).resolve().parents[2] / "shared" / "data" / "malsar" / "school.npz"


def sha256(array):
    return hashlib.sha256(np.ascontiguousarray(array, dtype="<f8").tobytes()).hexdigest()


@pytest.fixture(scope="module")
def school_long():
    return datasets.load_school(form="long")


@pytest.fixture(scope="module")
def school_lists():
    return datasets.load_school()


# --------------------------------------------------------------------------------------------
# load_school
# --------------------------------------------------------------------------------------------


def test_school_long_form_sizes(school_long):
    X, y, tasks = school_long
    assert X.shape == (15362, 28) and y.shape == (15362,) and tasks.shape == (15362,)
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert np.issubdtype(tasks.dtype, np.integer)
    assert X.flags.c_contiguous
    np.testing.assert_array_equal(np.unique(tasks), np.arange(139))
    assert np.all(np.diff(tasks) >= 0)  # rows grouped by school in order


def test_school_lists_sizes(school_lists):
    Xs, ys = school_lists
    assert len(Xs) == len(ys) == 139
    sizes = np.array([len(y_t) for y_t in ys])
    assert sizes.sum() == 15362
    assert sizes.min() == 22 and sizes.max() == 251 and np.median(sizes) == 103
    for X_t, y_t in zip(Xs, ys):
        assert X_t.shape == (len(y_t), 28)
        assert X_t.dtype == np.float64 and y_t.dtype == np.float64 and y_t.ndim == 1
        assert X_t.flags.c_contiguous


def test_school_lists_equal_long_form(school_lists, school_long):
    Xs, ys = school_lists
    X, y, tasks = school_long
    for t in range(139):
        np.testing.assert_array_equal(Xs[t], X[tasks == t])
        np.testing.assert_array_equal(ys[t], y[tasks == t])


def test_school_is_the_malsar_data_bit_for_bit(school_long):
    X, y, _ = school_long
    assert sha256(X) == SCHOOL_X_SHA256
    assert sha256(y) == SCHOOL_Y_SHA256


@pytest.mark.skipif(not SHARED_SCHOOL.exists(), reason="the shared MALSAR data is not beside this checkout")
def test_school_matches_the_shared_copy(school_lists, school_long):
    original = np.load(SHARED_SCHOOL)
    Xs, ys = school_lists
    for t in range(139):
        np.testing.assert_array_equal(Xs[t], original[f"X_{t:03d}"])
        np.testing.assert_array_equal(ys[t], original[f"y_{t:03d}"].ravel())
    np.testing.assert_array_equal(school_long[2], original["task"])


def test_school_column_layout(school_lists, school_long):
    X, y, _ = school_long
    np.testing.assert_array_equal(X[:, 27], 1.0)  # column 28: bias
    # One-hot groups (1-based columns 1-3, 6-7, 22-24, 25-27) sum to the bias column.
    for first, last in [(1, 3), (6, 7), (22, 24), (25, 27)]:
        np.testing.assert_array_equal(X[:, first - 1 : last].sum(axis=1), 1.0)
    assert set(np.unique(X[:, 7:10].sum(axis=1))) == {0.0, 1.0}  # VR band: a few missing rows
    assert X[:, 3].min() == 8 and X[:, 3].max() == 91  # % free school meals
    assert X[:, 4].min() == 3 and X[:, 4].max() == 43  # % VR band 1
    # Columns 22-28 are constant within every school.
    for X_t in school_lists[0]:
        np.testing.assert_array_equal(X_t[:, 21:], np.broadcast_to(X_t[0, 21:], X_t[:, 21:].shape))
    # Targets: integer exam scores 1..70, mean 20.60, sd 12.72.
    np.testing.assert_array_equal(y, np.round(y))
    assert y.min() == 1 and y.max() == 70
    assert y.mean() == pytest.approx(20.60, abs=0.005)
    assert y.std() == pytest.approx(12.72, abs=0.005)


def test_school_design_is_rank_deficient(school_long):
    assert np.linalg.matrix_rank(school_long[0]) == 23


def test_school_returns_fresh_arrays():
    Xs, ys = datasets.load_school()
    Xs[0][:] = -1.0
    ys[0][:] = -1.0
    Xs_again, ys_again = datasets.load_school()
    assert Xs_again[0].min() >= 0 and ys_again[0].min() >= 1


@pytest.mark.parametrize("form", ["wide", "LISTS", None, 1])
def test_load_school_rejects_unknown_form(form):
    with pytest.raises(ValueError, match=r"The 'form' parameter of load_school must be a str among \{(?=.*'lists')(?=.*'long')"):
        datasets.load_school(form=form)


def test_load_school_form_is_keyword_only():
    with pytest.raises(TypeError):
        datasets.load_school("long")


# --------------------------------------------------------------------------------------------
# make_multitask_regression
# --------------------------------------------------------------------------------------------


def test_make_multitask_regression_default_shapes():
    Xs, ys, coef = datasets.make_multitask_regression(random_state=0)
    assert len(Xs) == len(ys) == 10 and coef.shape == (10, 20)
    assert all(X.shape == (100, 20) and y.shape == (100,) for X, y in zip(Xs, ys))
    assert all(X.dtype == np.float64 for X in Xs)


def test_make_multitask_regression_unequal_sizes():
    sizes = [5, 10, 1, 20]
    Xs, ys, coef = datasets.make_multitask_regression(4, sizes, 3, random_state=0)
    assert [X.shape for X in Xs] == [(n, 3) for n in sizes]
    assert [y.shape for y in ys] == [(n,) for n in sizes]
    assert coef.shape == (4, 3)
    Xs_array, _, _ = datasets.make_multitask_regression(4, np.array(sizes), 3, random_state=0)
    for X, X_array in zip(Xs, Xs_array):
        np.testing.assert_array_equal(X, X_array)


def test_make_multitask_regression_long_form_matches_lists():
    sizes = [3, 7, 4]
    Xs, ys, coef = datasets.make_multitask_regression(3, sizes, 2, random_state=5)
    X, y, tasks, coef_long = datasets.make_multitask_regression(3, sizes, 2, random_state=5, form="long")
    assert X.shape == (14, 2) and y.shape == (14,) and tasks.shape == (14,)
    np.testing.assert_array_equal(np.bincount(tasks), sizes)
    np.testing.assert_array_equal(coef_long, coef)
    for t in range(3):
        np.testing.assert_array_equal(X[tasks == t], Xs[t])
        np.testing.assert_array_equal(y[tasks == t], ys[t])


def test_make_multitask_regression_is_reproducible():
    first = datasets.make_multitask_regression(3, [4, 5, 6], 2, random_state=42)
    second = datasets.make_multitask_regression(3, [4, 5, 6], 2, random_state=42)
    other = datasets.make_multitask_regression(3, [4, 5, 6], 2, random_state=43)
    np.testing.assert_array_equal(first[2], second[2])
    for a, b in zip(first[0] + first[1], second[0] + second[1]):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[2], other[2])


def test_make_multitask_regression_accepts_generators():
    seeded = datasets.make_multitask_regression(2, 3, 2, random_state=7)
    generator = datasets.make_multitask_regression(2, 3, 2, random_state=np.random.default_rng(7))
    np.testing.assert_array_equal(seeded[2], generator[2])
    legacy = datasets.make_multitask_regression(2, 3, 2, random_state=np.random.RandomState(7))
    legacy_again = datasets.make_multitask_regression(2, 3, 2, random_state=np.random.RandomState(7))
    np.testing.assert_array_equal(legacy[2], legacy_again[2])
    unseeded = datasets.make_multitask_regression(2, 3, 2, random_state=None)
    assert unseeded[2].shape == (2, 2)


def test_make_multitask_regression_advances_a_passed_generator():
    rng = np.random.default_rng(0)
    first = datasets.make_multitask_regression(2, 3, 2, random_state=rng)
    second = datasets.make_multitask_regression(2, 3, 2, random_state=rng)
    assert not np.array_equal(first[2], second[2])


def test_make_multitask_regression_noise_free_targets_are_linear():
    Xs, ys, coef = datasets.make_multitask_regression(3, [8, 9, 10], 4, noise=0.0, random_state=2)
    for X, y, w in zip(Xs, ys, coef):
        np.testing.assert_allclose(y, X @ w, rtol=1e-13, atol=1e-13)


def test_make_multitask_regression_noise_level():
    Xs, ys, coef = datasets.make_multitask_regression(2, 20000, 3, noise=0.5, random_state=3)
    residuals = np.concatenate([y - X @ w for X, y, w in zip(Xs, ys, coef)])
    assert residuals.std() == pytest.approx(0.5, rel=0.02)


def test_uncoupled_prior_is_shared_mean_plus_deviations():
    # w_t = w_0 + 0.5 v_t: deviations from the task mean have variance 0.25 (T - 1) / T,
    # and every entry has variance 1 + 0.25.
    T, d = 4, 40000
    _, _, coef = datasets.make_multitask_regression(T, 1, d, random_state=4)
    deviations = coef - coef.mean(axis=0)
    assert deviations.var() == pytest.approx(0.25 * (T - 1) / T, rel=0.03)
    assert coef.var() == pytest.approx(1.25, rel=0.03)
    # Tasks are positively correlated through the shared model: cov(w_s, w_t) = 1 for s != t.
    covariance = coef @ coef.T / d
    np.testing.assert_allclose(covariance, np.eye(T) * 0.25 + 1.0, atol=0.05)


@pytest.mark.parametrize(
    "K",
    [
        coupling.chain(3, ridge=0.5),
        coupling.mean_regularized(3, mu=0.5),
        np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 3.0]]),
    ],
)
def test_coupled_prior_has_task_covariance_inverse_of_coupling(K):
    # Every feature's column of task weights is drawn from N(0, B), B = K^{-1}.
    d = 40000
    _, _, coef = datasets.make_multitask_regression(3, 1, d, coupling=K, random_state=3)
    empirical = coef @ coef.T / d
    B = np.linalg.inv(K)
    np.testing.assert_allclose(empirical, B, atol=0.03 * np.abs(B).max())


def test_coupling_by_name():
    by_name = datasets.make_multitask_regression(3, 2, 2, coupling="chain", random_state=0)
    by_matrix = datasets.make_multitask_regression(3, 2, 2, coupling=coupling.chain(3), random_state=0)
    np.testing.assert_array_equal(by_name[2], by_matrix[2])


@pytest.mark.parametrize(
    "K, message",
    [
        (np.zeros((2, 2)), "coupling must be positive definite.*smallest eigenvalue is 0"),
        (coupling.mean_regularized(2, mu=0.0), "coupling must be positive definite"),
        (np.array([[1.0, 2.0], [2.0, 1.0]]), "coupling must be positive semidefinite"),
        (np.array([[1.0, 0.5], [0.0, 1.0]]), "coupling must be symmetric"),
        (np.eye(3), r"coupling has shape \(3, 3\) but the data has 2 tasks"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), "coupling contains NaN"),
        ("ridge", r"The 'coupling' parameter of make_multitask_regression must be a str among"),
    ],
)
def test_make_multitask_regression_rejects_coupling(K, message):
    with pytest.raises(ValueError, match=message):
        datasets.make_multitask_regression(2, 5, 2, coupling=K)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_tasks": 0}, r"The 'n_tasks' parameter of make_multitask_regression must be an int in the range \[1, inf\)"),
        ({"n_tasks": 2.0}, r"'n_tasks' parameter .* must be an int in the range \[1, inf\)"),
        ({"n_tasks": True}, r"'n_tasks' parameter .* must be an int in the range \[1, inf\)"),
        ({"n_samples": 0}, r"'n_samples' parameter .* must be an int in the range \[1, inf\) or an array-like"),
        ({"n_samples": 10.0}, r"'n_samples' parameter .* must be an int in the range \[1, inf\) or an array-like"),
        ({"n_samples": "10"}, r"'n_samples' parameter .* must be an int in the range \[1, inf\) or an array-like"),
        ({"n_samples": None}, r"'n_samples' parameter .* must be an int in the range \[1, inf\) or an array-like"),
        ({"n_tasks": 3, "n_samples": [5, 5]}, "n_samples has 2 entries but n_tasks is 3"),
        ({"n_tasks": 2, "n_samples": [5, 0]}, "n_samples must be a positive integer"),
        ({"n_tasks": 2, "n_samples": [5, 2.5]}, "n_samples must be a positive integer"),
        ({"n_features": 0}, r"'n_features' parameter .* must be an int in the range \[1, inf\)"),
        ({"n_features": 1.5}, r"'n_features' parameter .* must be an int in the range \[1, inf\)"),
        ({"noise": -1.0}, r"'noise' parameter .* must be a float in the range \[0.0, inf\)"),
        ({"noise": np.nan}, "noise"),
        ({"noise": np.inf}, "noise"),
        ({"noise": "0.1"}, "noise"),
        ({"random_state": -1}, "random_state"),
        ({"random_state": 1.5}, "random_state"),
        ({"random_state": "seed"}, "random_state"),
        ({"form": "wide"}, r"The 'form' parameter of make_multitask_regression must be a str among"),
    ],
)
def test_make_multitask_regression_rejects_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        datasets.make_multitask_regression(**kwargs)


def test_make_multitask_regression_single_task_single_feature():
    Xs, ys, coef = datasets.make_multitask_regression(1, 5, 1, coupling=coupling.chain(1), random_state=0)
    assert len(Xs) == 1 and Xs[0].shape == (5, 1) and coef.shape == (1, 1)


# --------------------------------------------------------------------------------------------
# load_newsgroups
# --------------------------------------------------------------------------------------------

SHARED_NEWSGROUP = SHARED_SCHOOL.parent / "Newsgroup"
# The table of the shared data README: per task (rows, nnz, count of label 1, count of label 2).
NEWSGROUPS_TABLE = {
    "comp_vs_sci": [(1875, 100922, 967, 908), (1827, 90209, 871, 956)],
    "rec_vs_talk": [(1844, 110726, 975, 869), (1545, 78608, 860, 685)],
}


@pytest.fixture(scope="module", params=sorted(NEWSGROUPS_TABLE))
def newsgroups(request):
    return request.param, datasets.load_newsgroups(request.param)


def test_newsgroups_sizes_match_the_readme_table(newsgroups):
    name, data = newsgroups
    assert len(data.X) == len(data.y) == 2
    for X_t, y_t, (n, nnz, ones, twos) in zip(data.X, data.y, NEWSGROUPS_TABLE[name]):
        assert X_t.shape == (n, 2000) and X_t.nnz == nnz
        assert y_t.shape == (n,)
        assert np.sum(y_t == 1) == ones and np.sum(y_t == 2) == twos


def test_newsgroups_types_and_values(newsgroups):
    _, data = newsgroups
    for X_t, y_t in zip(data.X, data.y):
        assert isinstance(X_t, scipy.sparse.csr_array) and X_t.dtype == np.float64
        assert X_t.has_canonical_format
        assert y_t.dtype == np.int8 and set(np.unique(y_t)) == {1, 2}
        # Term counts: positive integers stored, at most 43 (the README's range 0-43).
        np.testing.assert_array_equal(X_t.data, np.round(X_t.data))
        assert X_t.data.min() >= 1 and X_t.data.max() <= 43
    assert data.task_names == ["task1", "task2"]


def test_newsgroups_long_format_stacks_the_tasks(newsgroups):
    name, data = newsgroups
    sizes = [row[0] for row in NEWSGROUPS_TABLE[name]]
    assert isinstance(data.X_all, scipy.sparse.csr_array) and data.X_all.dtype == np.float64
    assert data.X_all.shape == (sum(sizes), 2000) and data.y_all.dtype == np.int8
    np.testing.assert_array_equal(data.tasks, np.repeat([0, 1], sizes))
    assert data.tasks.dtype == np.int64
    for t in range(2):
        assert (data.X_all[data.tasks == t] != data.X[t]).nnz == 0
        np.testing.assert_array_equal(data.y_all[data.tasks == t], data.y[t])


def test_newsgroups_descr_cites_the_sources(newsgroups):
    name, data = newsgroups
    assert data.name == name
    for source in ("MALSAR", "Gu", "ICDM 2009", "20 Newsgroups", name.replace("_", ".")):
        assert source in data.DESCR


@pytest.mark.skipif(not SHARED_NEWSGROUP.exists(), reason="the shared MALSAR data is not beside this checkout")
def test_newsgroups_matches_the_shared_copy(newsgroups):
    name, data = newsgroups
    original = np.load(SHARED_NEWSGROUP / f"{name}.npz")
    assert int(original["num_tasks"]) == len(data.X)
    for t, (X_t, y_t) in enumerate(zip(data.X, data.y), start=1):
        assert X_t.shape == tuple(original[f"task{t}_shape"])
        np.testing.assert_array_equal(X_t.indptr, original[f"task{t}_indptr"])
        np.testing.assert_array_equal(X_t.indices, original[f"task{t}_indices"])
        np.testing.assert_array_equal(X_t.data, original[f"task{t}_data"])
        assert X_t.data.dtype == original[f"task{t}_data"].dtype
        np.testing.assert_array_equal(y_t, original[f"task{t}_y"])
        assert y_t.dtype == original[f"task{t}_y"].dtype


@pytest.mark.parametrize("malsar, name", [("comp.vs.sci", "comp_vs_sci"), ("rec.vs.talk", "rec_vs_talk")])
def test_newsgroups_accepts_the_malsar_spellings(malsar, name):
    by_malsar, by_name = datasets.load_newsgroups(malsar), datasets.load_newsgroups(name)
    assert by_malsar.name == name
    assert (by_malsar.X_all != by_name.X_all).nnz == 0
    np.testing.assert_array_equal(by_malsar.y_all, by_name.y_all)


def test_newsgroups_default_is_comp_vs_sci():
    assert datasets.load_newsgroups().name == "comp_vs_sci"


def test_newsgroups_returns_fresh_arrays():
    data = datasets.load_newsgroups()
    data.X[0].data[:] = -1.0
    data.y[0][:] = -1
    again = datasets.load_newsgroups()
    assert again.X[0].data.min() >= 1 and again.y[0].min() == 1


@pytest.mark.parametrize("name", ["comp_vs_rec", "COMP_VS_SCI", "comp-vs-sci", "", None, 1, ["comp_vs_sci"]])
def test_load_newsgroups_rejects_unknown_name(name):
    # Every valid spelling is listed: the canonical names and MALSAR's folder names.
    valid = "".join(f"(?=.*{re.escape(repr(name))})" for name in ("comp_vs_sci", "rec_vs_talk", "comp.vs.sci", "rec.vs.talk"))
    with pytest.raises(ValueError, match=rf"The 'name' parameter of load_newsgroups must be a str among \{{{valid}") as error:
        datasets.load_newsgroups(name)
    assert repr(name) in str(error.value)
