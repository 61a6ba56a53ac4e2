"""scipy.sparse designs through to_task_blocks(accept_sparse=True), and labels=True.

Every sparse form must give the dense path's blocks (as ``.toarray()``), as
canonical int32 CSR, without densifying and without copying where the layout allows.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from multitask._input import to_task_blocks
from multitask._sparse_input import as_canonical_csr, core_block, is_sparse

rng = np.random.default_rng(0)
SIZES = (10, 12, 7)
Xs = [sp.random(n, 5, density=0.4, format="csr", random_state=seed) for seed, n in enumerate(SIZES)]
ys = [rng.normal(size=n) for n in SIZES]
X_long = sp.vstack(Xs, format="csr")
y_long = np.concatenate(ys)
tasks_contiguous = np.repeat(["a", "b", "c"], SIZES)
tasks_interleaved = rng.permutation(tasks_contiguous)

SPARSE_KINDS = [sp.csr_matrix, sp.csr_array, sp.csc_matrix, sp.csc_array]


def sparse_blocks(X, y, tasks=None, **kwargs):
    return to_task_blocks(X, y, tasks, accept_sparse=True, **kwargs)


def dense(X):
    return X.toarray() if is_sparse(X) else np.asarray(X)


def assert_canonical_csr(block, dtype=np.float64):
    """What the core maps: canonical CSR, int32 indices/indptr from 0, float data, finite."""
    assert isinstance(block, (sp.csr_array, sp.csr_matrix))
    assert block.indices.dtype == np.int32 and block.indptr.dtype == np.int32
    assert block.indptr[0] == 0 and block.indptr.size == block.shape[0] + 1
    assert block.data.dtype == dtype and block.data.size == block.indices.size == block.indptr[-1]
    assert np.all(np.isfinite(block.data))
    block.check_format(full_check=True)
    indices = block.indices
    for row in range(block.shape[0]):  # recomputed, not the cached flag
        assert np.all(np.diff(indices[block.indptr[row] : block.indptr[row + 1]]) > 0)


def assert_same_blocks(sparse_result, dense_result):
    assert sparse_result.form == dense_result.form
    np.testing.assert_array_equal(sparse_result.labels, dense_result.labels)
    assert len(sparse_result.X) == len(dense_result.X)
    for block, expected in zip(sparse_result.X, dense_result.X):
        if is_sparse(block):
            assert_canonical_csr(block, expected.dtype)
        np.testing.assert_array_equal(dense(block), expected)
    for target, expected in zip(sparse_result.y, dense_result.y):
        np.testing.assert_array_equal(target, expected)


@pytest.mark.parametrize("kind", SPARSE_KINDS)
def test_lists_of_sparse_blocks_equal_the_dense_path(kind):
    blocks = sparse_blocks([kind(X) for X in Xs], ys)
    assert_same_blocks(blocks, to_task_blocks([X.toarray() for X in Xs], ys, None))
    assert all(is_sparse(block) for block in blocks.X)


def test_csr_blocks_that_are_ready_are_used_as_they_are():
    blocks = sparse_blocks(Xs, ys)
    assert all(block is X for block, X in zip(blocks.X, Xs))


@pytest.mark.parametrize("kind", [sp.csc_matrix, sp.csc_array])
def test_csc_is_converted_to_csr_of_the_same_kind(kind):
    X = kind(Xs[0])
    (block,) = sparse_blocks([X], ys[:1]).X
    assert block.format == "csr"
    assert isinstance(block, sp.csr_array) == isinstance(X, sp.csc_array)
    np.testing.assert_array_equal(block.toarray(), X.toarray())


def test_mixed_dense_and_sparse_list_keeps_each_block_as_it_is():
    mixed = [Xs[0], Xs[1].toarray(), sp.csc_array(Xs[2])]
    blocks = sparse_blocks(mixed, ys)
    assert is_sparse(blocks.X[0]) and isinstance(blocks.X[1], np.ndarray) and is_sparse(blocks.X[2])
    assert blocks.X[1].flags.c_contiguous
    assert_same_blocks(blocks, to_task_blocks([X.toarray() for X in Xs], ys, None))


@pytest.mark.parametrize("tasks", [tasks_contiguous, tasks_interleaved], ids=["contiguous", "interleaved"])
@pytest.mark.parametrize("kind", SPARSE_KINDS)
def test_long_format_equals_the_dense_path(kind, tasks):
    blocks = sparse_blocks(kind(X_long), y_long, tasks)
    expected = to_task_blocks(X_long.toarray(), y_long, tasks)
    assert_same_blocks(blocks, expected)
    for rows, got in zip(blocks.rows, expected.rows):
        np.testing.assert_array_equal(rows, got)


def test_contiguous_long_format_blocks_share_the_callers_arrays():
    blocks = sparse_blocks(X_long, y_long, tasks_contiguous)
    for block in blocks.X:
        assert np.shares_memory(block.data, X_long.data)
        assert np.shares_memory(block.indices, X_long.indices)
        assert not np.shares_memory(block.indptr, X_long.indptr)  # shifted to start at 0
    # Interleaved tasks copy only their own rows.
    for block in sparse_blocks(X_long, y_long, tasks_interleaved).X:
        assert not np.shares_memory(block.data, X_long.data)


@pytest.mark.parametrize("kind", SPARSE_KINDS)
def test_shared_design_gives_the_same_block_to_every_task(kind):
    Y = np.column_stack([y_long, -y_long, 2 * y_long])
    blocks = sparse_blocks(kind(X_long), Y)
    assert_same_blocks(blocks, to_task_blocks(X_long.toarray(), Y, None))
    assert all(block is blocks.X[0] for block in blocks.X)
    single = sparse_blocks(kind(X_long), y_long)
    assert single.form == "single" and single.n_tasks == 1


def test_int64_indices_become_int32():
    X = sp.csr_array(Xs[0])
    X.indices, X.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
    (block,) = sparse_blocks([X], ys[:1]).X
    assert_canonical_csr(block)
    assert np.shares_memory(block.data, X.data)  # only the index arrays are converted
    np.testing.assert_array_equal(block.toarray(), X.toarray())


def test_too_many_columns_for_int32_is_an_error():
    X = sp.csr_array((np.ones(1), (np.zeros(1, np.int64), np.array([2**31 + 4]))), shape=(1, 2**31 + 5))
    assert X.indices.dtype == np.int64
    with pytest.raises(ValueError, match=r"X\[0\] is too large for 32-bit sparse indices"):
        sparse_blocks([X], [np.ones(1)])


def test_float_dtype_follows_the_dense_rule():
    f32 = [X.astype(np.float32) for X in Xs]
    assert all(block.dtype == np.float32 for block in sparse_blocks(f32, ys).X)
    # float32 only if every block is float32: one float64 block makes them all float64.
    blocks = sparse_blocks([f32[0], Xs[1], f32[2].toarray()], ys)
    assert all(block.dtype == np.float64 for block in blocks.X)
    assert_canonical_csr(blocks.X[0])
    ints = sp.csr_array(np.array([[0, 2], [3, 0]]))
    (block,) = sparse_blocks([ints], [np.ones(2)]).X
    assert block.dtype == np.float64


def test_other_sparse_formats_are_converted():
    for fmt in ("coo", "lil", "dok", "bsr", "dia"):
        blocks = sparse_blocks([Xs[0].asformat(fmt)], ys[:1])
        assert_canonical_csr(blocks.X[0])
        np.testing.assert_array_equal(blocks.X[0].toarray(), Xs[0].toarray())


def test_core_block():
    (block,) = sparse_blocks([Xs[0]], ys[:1]).X
    data, indices, indptr, n_features = core_block(block)
    assert data is block.data and indices is block.indices and indptr is block.indptr
    assert n_features == 5 and isinstance(n_features, int)
    dense_block = np.ones((2, 3))
    assert core_block(dense_block) is dense_block


def with_stored_value(X, value, k=3):
    X = X.copy()
    X.data[k] = value
    return X


@pytest.mark.parametrize("value, word", [(np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "infinity")])
def test_non_finite_sparse_values(value, word):
    with pytest.raises(ValueError, match=rf"X\[1\] contains {word}"):
        sparse_blocks([Xs[0], with_stored_value(Xs[1], value)], ys[:2])
    with pytest.raises(ValueError, match=rf"X contains {word}"):
        sparse_blocks(with_stored_value(X_long, value), y_long, tasks_interleaved)
    with pytest.raises(ValueError, match=rf"X contains {word}"):
        sparse_blocks(sp.csc_array(with_stored_value(X_long, value)), np.c_[y_long, y_long])


def unsorted(X):
    """X with the first two entries of its first row (with two) swapped, behind scipy's back."""
    X = X.copy()
    assert X.has_canonical_format  # cached: must not be trusted after the edit below
    row = np.flatnonzero(np.diff(X.indptr) >= 2)[0]
    k = X.indptr[row]
    X.indices[k : k + 2] = X.indices[k : k + 2][::-1].copy()
    X.data[k : k + 2] = X.data[k : k + 2][::-1].copy()
    return X


def duplicated(X):
    """X with the second entry of its first row (with two) moved onto the first's column."""
    X = X.copy()
    assert X.has_canonical_format
    row = np.flatnonzero(np.diff(X.indptr) >= 2)[0]
    k = X.indptr[row]
    X.indices[k + 1] = X.indices[k]
    return X


@pytest.mark.parametrize("kind", SPARSE_KINDS)
def test_unsorted_indices_and_duplicates_are_errors_that_say_how_to_fix_them(kind):
    X = kind(Xs[1])
    with pytest.raises(ValueError, match=r"X\[1\] has unsorted indices.*X\[1\]\.sort_indices\(\)"):
        sparse_blocks([Xs[0], unsorted(X)], ys[:2])
    with pytest.raises(ValueError, match=r"X\[1\] has duplicate entries.*X\[1\]\.sum_duplicates\(\)"):
        sparse_blocks([Xs[0], duplicated(X)], ys[:2])
    X = kind(X_long)
    with pytest.raises(ValueError, match=r"X has unsorted indices"):
        sparse_blocks(unsorted(X), y_long, tasks_contiguous)
    with pytest.raises(ValueError, match=r"X has duplicate entries"):
        sparse_blocks(duplicated(X), np.c_[y_long, y_long])



@pytest.mark.parametrize("kind", SPARSE_KINDS)
@pytest.mark.parametrize("break_it", [unsorted, duplicated])
@pytest.mark.parametrize("flags", ["stale", "unknown"])
def test_the_suggested_fix_works(kind, break_it, flags):
    """Whether or not scipy had cached (now stale) canonical-format flags before the edit."""
    X = break_it(kind(X_long))
    if flags == "unknown":
        X = kind((X.data, X.indices, X.indptr), shape=X.shape)
    with pytest.raises(ValueError) as error:
        sparse_blocks(X, y_long)
    fix = str(error.value).split("; ", 1)[1]
    assert ("has_sorted_indices = False" in fix) == (flags == "stale")
    if "has_sorted_indices = False" in fix:
        X.has_sorted_indices = False
    getattr(X, "sort_indices" if "sort_indices" in fix else "sum_duplicates")()
    assert_canonical_csr(sparse_blocks(X, y_long).X[0])


def test_malformed_structure_is_an_error():
    X = Xs[0].copy()
    X.indices[0] = 5
    with pytest.raises(ValueError, match=r"X\[0\] has column indices out of range \[0, 5\)"):
        sparse_blocks([X], ys[:1])
    X = sp.csc_array(Xs[0])
    X.indices[0] = -1
    with pytest.raises(ValueError, match=r"X has row indices out of range"):
        sparse_blocks(X, ys[0])
    X = Xs[0].copy()
    X.indptr = X.indptr[:-1]
    with pytest.raises(ValueError, match=r"X\.indptr"):
        sparse_blocks(X, ys[0][:-1])


def test_wrong_shapes_name_the_argument():
    with pytest.raises(ValueError, match=r"X\[1\] has 12 rows but y\[1\] has 11"):
        sparse_blocks(Xs[:2], [ys[0], ys[1][:-1]])
    with pytest.raises(ValueError, match=r"X\[1\] has 3 features but X\[0\] has 5"):
        sparse_blocks([Xs[0], Xs[1][:, :3]], ys[:2])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        sparse_blocks(X_long, y_long[:-1], tasks_contiguous)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        sparse_blocks(X_long[:-1], np.c_[y_long, y_long])
    with pytest.raises(ValueError, match="tasks has 28 labels but X has 29 rows"):
        sparse_blocks(X_long, y_long, tasks_contiguous[:-1])
    with pytest.raises(ValueError, match=r"X\[1\].*0 sample"):
        sparse_blocks([Xs[0], sp.csr_array((0, 5))], [ys[0], np.empty(0)])
    with pytest.raises(ValueError, match=r"X.*0 feature"):
        sparse_blocks(sp.csr_array((4, 0)), np.ones(4))
    with pytest.raises(ValueError, match=r"X must be a 2-D sparse matrix"):
        sparse_blocks(sp.csr_array(np.ones(4)), np.ones(4))
    with pytest.raises(ValueError, match="Complex data not supported: X"):
        sparse_blocks(Xs[0].astype(complex), ys[0])


def test_sparse_is_rejected_by_default_as_scikit_learn_expects():
    for X, y, tasks in [(Xs[0], ys[0], None), (Xs, ys, None), (X_long, y_long, tasks_contiguous)]:
        with pytest.raises(TypeError, match="Sparse data was passed"):
            to_task_blocks(X, y, tasks)


def test_as_canonical_csr_does_not_modify_the_callers_matrix():
    X = sp.csc_matrix(Xs[0])
    X.indices = X.indices.astype(np.int64)
    before = (X.data.copy(), X.indices.copy(), X.indptr.copy())
    block = as_canonical_csr(X, "X", np.float32)
    assert block.dtype == np.float32 and X.format == "csc" and X.indices.dtype == np.int64
    for array, saved in zip((X.data, X.indices, X.indptr), before):
        np.testing.assert_array_equal(array, saved)


# labels=True: class labels kept as they are.

words = [np.where(y > 0, "spam", "ham") for y in ys]


def test_labels_keep_strings_in_every_form():
    blocks = sparse_blocks(Xs, words, labels=True)
    assert all(target.dtype.kind == "U" for target in blocks.y)
    for target, expected in zip(blocks.y, words):
        np.testing.assert_array_equal(target, expected)
    long = sparse_blocks(X_long, np.concatenate(words), tasks_interleaved, labels=True)
    for rows, target in zip(long.rows, long.y):
        np.testing.assert_array_equal(target, np.concatenate(words)[rows])
    Y = np.column_stack([np.concatenate(words), np.concatenate(words)[::-1]])
    shared = sparse_blocks(X_long, Y, labels=True)
    assert shared.form == "shared" and shared.n_tasks == 2
    np.testing.assert_array_equal(shared.y[1], Y[:, 1])
    single = sparse_blocks(X_long.toarray(), np.concatenate(words).tolist(), labels=True)
    assert single.form == "single" and single.y[0].dtype.kind == "U"


@pytest.mark.parametrize("labels", [[True, False] * 5, [3, 7] * 5, np.array(["a", 1] * 5, dtype=object)])
def test_labels_keep_their_dtype(labels):
    (target,) = to_task_blocks([Xs[0].toarray()], [labels], None, labels=True).y
    assert target.dtype == np.asarray(labels).dtype
    np.testing.assert_array_equal(target, labels)


def test_labels_are_checked():
    X = Xs[0].toarray()
    with pytest.raises(ValueError, match=r"y\[0\] contains None"):
        to_task_blocks([X], [np.array(["a", None] * 5, dtype=object)], None, labels=True)
    with pytest.raises(ValueError, match=r"y\[0\] contains NaN"):
        to_task_blocks([X], [np.r_[np.nan, np.ones(9)]], None, labels=True)
    with pytest.raises(ValueError, match=r"y contains NaN"):
        to_task_blocks(X, np.c_[np.r_[np.nan, np.ones(9)], np.ones(10)], None, labels=True)
    with pytest.raises(ValueError, match=r"y\[0\] must be 1-D"):
        to_task_blocks([X], [np.ones((10, 2))], None, labels=True)  # (n_t, 1) is accepted
    with pytest.raises(ValueError, match=r"X\[0\] has 10 rows but y\[0\] has 9"):
        to_task_blocks([X], [["a"] * 9], None, labels=True)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        to_task_blocks(X_long, np.concatenate(words)[:-1], tasks_contiguous, accept_sparse=True, labels=True)
    with pytest.raises(ValueError, match=r"y must be 1-D or 2-D"):
        to_task_blocks(X, np.ones((10, 2, 2)), None, labels=True)
    with pytest.raises(ValueError, match="Complex data not supported: y"):
        to_task_blocks(X, np.ones(10, dtype=complex), None, labels=True)


def test_labels_false_still_converts_targets_to_float():
    blocks = to_task_blocks([Xs[0].toarray()], [[1, 2] * 5], None)
    assert blocks.y[0].dtype == np.float64
    with pytest.raises(ValueError):
        to_task_blocks([Xs[0].toarray()], [["a", "b"] * 5], None)
