"""The three input forms of multi-task data, normalised once for the core.

1. lists: ``X = [X_1, ..., X_T]``, ``y = [y_1, ..., y_T]`` (tasks in list order);
2. long format: ``X`` (N, d), ``y`` (N,), ``tasks`` (N,) with any labels (sorted
   into ``tasks_``);
3. shared design (multi-output): ``X`` (n, d) and ``Y`` (n, T), or a 1-D ``y``
   for a single task.

Every form becomes a list of per-task C-contiguous blocks of one floating dtype;
no copy is made where the caller's layout already allows it.

With ``accept_sparse=True``, X (or any element of the list) may also be a
scipy.sparse matrix or array: it becomes a canonical int32 CSR block (see
:mod:`multitask._sparse_input`; CSC is converted to CSR, never densified), and
dense and sparse blocks may be mixed in the list form. With ``labels=True`` the
targets are class labels kept in the caller's dtype instead of floats.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence, Union

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import check_consistent_length

from ._sparse_input import CSRBlock, as_canonical_csr, csr_row_range, is_sparse

__all__ = [
    "TaskBlocks",
    "as_task_list",
    "check_design",
    "check_labels",
    "common_float_dtype",
    "is_cell_array",
    "is_list_form",
    "paired_targets",
    "reject_malformed_task_list",
    "to_task_blocks",
]

FLOAT_DTYPES = (np.float64, np.float32)

Design = Union[np.ndarray, CSRBlock]


@dataclass
class TaskBlocks:
    """Per-task blocks ready for the core.

    Attributes
    ----------
    X : list of ndarray or csr_array or csr_matrix
        One (n_t, d) block per task: a C-contiguous ndarray, or (sparse input
        with ``accept_sparse=True``) a canonical CSR block with int32
        ``indices``/``indptr`` and data of the same float dtype as the other blocks.
    y : list of ndarray
        One (n_t,) target vector per task (empty list at predict time): C-contiguous
        floats, or with ``labels=True`` the caller's labels in their own dtype
        (possibly a strided column view for the shared form).
    form : {"lists", "long", "shared", "single"}
        The input form the data came in.
    labels : ndarray
        The task label of each block (sorted for the long format).
    rows : list of ndarray or None
        Long format only: the original row indices of each task's block.
    """

    X: list[Design]
    y: list[np.ndarray] = field(default_factory=list)
    form: str = "lists"
    labels: np.ndarray = field(default_factory=lambda: np.empty(0))
    rows: list[np.ndarray] | None = None

    @property
    def n_tasks(self) -> int:
        return len(self.X)

    @property
    def n_samples(self) -> int:
        return int(sum(block.shape[0] for block in self.X))


def is_list_form(X: Any) -> bool:
    """Whether ``X`` is a list/tuple of per-task 2-D arrays (not a list of rows).

    A MATLAB cell array of tasks (an object ndarray of per-task arrays, see
    :func:`as_task_list`) counts as a list.
    """
    X = as_task_list(X)
    if not isinstance(X, (list, tuple)) or len(X) == 0:
        return False
    return all(hasattr(block, "shape") or isinstance(block, (list, tuple)) for block in X) and all(
        _ndim(block) == 2 for block in X
    )


def _ndim(block: Any) -> int:
    """The number of dimensions of an array-like; -1 for a ragged nested list."""
    ndim = getattr(block, "ndim", None)
    if isinstance(ndim, int):
        return ndim
    try:
        return int(np.ndim(block))
    except ValueError:  # numpy: "setting an array element with a sequence" (ragged nested lists)
        return -1


def is_cell_array(X: Any) -> bool:
    """Whether ``X`` is a cell array of tasks as ``scipy.io.loadmat`` returns it.

    An object ndarray of shape (T,), (T, 1) or (1, T) whose elements are arrays
    (one per task); an object array of numbers is an ordinary design.
    """
    return (
        isinstance(X, np.ndarray)
        and X.dtype == object
        and X.size > 0
        and (X.ndim == 1 or (X.ndim == 2 and 1 in X.shape))
        and all(hasattr(element, "shape") or isinstance(element, (list, tuple)) for element in X.flat)
    )


def as_task_list(X: Any) -> Any:
    """A cell array of tasks (see :func:`is_cell_array`) as a list of its elements; anything else unchanged."""
    return list(X.flat) if is_cell_array(X) else X


def paired_targets(y: Any, predictions: Any) -> tuple[Any, Any]:
    """``(y, predictions)`` made comparable for ``score``.

    List predictions (list input): both concatenated over the tasks, ``y``
    being a list or cell array of per-task targets, (n_t,) or (n_t, 1) each.
    1-D predictions: a column ``y`` of shape (n, 1) becomes (n,). Anything
    else is returned as it is.
    """
    if isinstance(predictions, list):
        y = as_task_list(y)
        if not isinstance(y, (list, tuple)) or len(y) != len(predictions):
            raise ValueError(
                f"X is a list of {len(predictions)} tasks, so y must be a list of {len(predictions)} per-task targets"
            )
        return np.concatenate([np.asarray(target).ravel() for target in y]), np.concatenate(predictions)
    if np.ndim(predictions) == 1 and np.ndim(y) == 2 and np.shape(y)[1] == 1:
        return np.asarray(y)[:, 0], predictions
    return y, predictions


def reject_malformed_task_list(X: Any, y: Any = None) -> None:
    """ValueError naming ``X[t]`` for a list of per-task arrays that are not all 2-D.

    A list mixing 2-D and other blocks, or a list of 1-D arrays that cannot be
    rows of one design (their lengths differ, or ``y`` is a list of per-task
    target arrays), is a list of tasks with a wrong block: numpy would otherwise
    fail with "setting an array element with a sequence" or, worse, read the
    tasks as rows. A list of equally long 1-D rows with a flat ``y`` stays a
    design (scikit-learn's list-of-rows convention).
    """
    X = as_task_list(X)
    if not isinstance(X, (list, tuple)) or len(X) == 0:
        return
    ndims = [_ndim(block) for block in X]
    if any(ndim == 2 for ndim in ndims):
        t = next(t for t, ndim in enumerate(ndims) if ndim != 2)
        raise ValueError(
            f"X[{t}] has {_shape(X[t])} but X[0] has {_shape(X[0])}: X is a list of per-task matrices, so every "
            f"X[t] must be 2-D (n_t, n_features){_one_feature_hint(ndims[t])}"
        )
    if not (all(hasattr(block, "shape") for block in X) and all(ndim == 1 for ndim in ndims)):
        return
    ragged = len({block.shape[0] for block in X}) > 1
    per_task_y = isinstance(as_task_list(y), (list, tuple)) and len(y) > 0 and all(
        _ndim(target) >= 1 for target in as_task_list(y)
    )
    if ragged or per_task_y:
        raise ValueError(
            f"X[0] has {_shape(X[0])}: X is a list of per-task 1-D arrays, but every task's X must be 2-D "
            f"(n_t, n_features){_one_feature_hint(1)}"
        )


def _shape(block: Any) -> str:
    """``"shape (n, d)"`` of an array-like, for messages."""
    shape = getattr(block, "shape", None)
    if shape is not None:
        return f"shape {tuple(shape)}"
    try:
        return f"shape {np.shape(block)}"
    except ValueError:  # numpy: "setting an array element with a sequence"
        return "rows of different lengths (a ragged nested list)"


def _one_feature_hint(ndim: int) -> str:
    return "; for one feature per task pass [x.reshape(-1, 1) for x in X]" if ndim == 1 else ""


def common_float_dtype(arrays: Sequence[Any]) -> type:
    """float32 when every input is float32, float64 otherwise."""
    dtypes = [getattr(array, "dtype", None) for array in arrays]
    return np.float32 if dtypes and all(dtype == np.float32 for dtype in dtypes) else np.float64


def _is_ready(array: Any, dtype: type, ndim: int) -> bool:
    """Whether ``array`` already is a non-empty C-contiguous ndarray of ``dtype`` and ``ndim``."""
    return (
        type(array) is np.ndarray
        and array.dtype == dtype
        and array.ndim == ndim
        and array.flags.c_contiguous
        and array.size > 0
    )


@contextmanager
def _named_errors(name: str) -> Iterator[None]:
    """Prefixes scikit-learn's ValueErrors with the argument name when they lack it."""
    try:
        yield
    except ValueError as error:
        if re.search(rf"(?<![\w\[]){re.escape(name)}(?![\w\]])", str(error)):
            raise
        raise ValueError(f"{name}: {error}") from None


def _check_finite(array: np.ndarray, name: str) -> np.ndarray:
    # The sum is finite iff every entry is, unless finite entries overflow it:
    # only then is the elementwise check (3x slower, a temporary mask) needed.
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(array.sum()):
            return array
    if not np.isfinite(array).all():
        problem = "NaN" if np.isnan(array).any() else "infinity"
        raise ValueError(f"Input {name} contains {problem}.")
    return array


def check_task_matrix(X: Any, name: str, dtype: type) -> np.ndarray:
    """A finite 2-D C-contiguous floating array; ValueError naming ``name`` otherwise."""
    # Fast path: scikit-learn's check_array costs ~0.5 ms a call, too much per task.
    if _is_ready(X, dtype, 2):
        return _check_finite(X, name)
    _reject_complex(X, name)
    with _named_errors(name):
        return check_array(X, dtype=dtype, order="C", ensure_2d=True, allow_nd=False, input_name=name)


def check_design(X: Any, name: str, dtype: type, *, accept_sparse: bool = False) -> Design:
    """One task's design: :func:`check_task_matrix`, or for sparse input a canonical CSR block.

    Parameters
    ----------
    X : array-like or scipy.sparse matrix/array
    name : str
        The argument name for messages, e.g. ``"X[1]"``.
    dtype : {numpy.float64, numpy.float32}
    accept_sparse : bool, default=False
        Without it sparse input raises scikit-learn's TypeError (what
        ``check_estimator`` expects of an estimator that does not take sparse data).

    Returns
    -------
    ndarray or csr_array or csr_matrix
        See :func:`multitask._sparse_input.as_canonical_csr` for sparse input.
    """
    if not (accept_sparse and is_sparse(X)):
        return check_task_matrix(X, name, dtype)
    _reject_complex(X, name)
    X = as_canonical_csr(X, name, dtype)
    _check_finite(X.data, name)  # the stored values; implicit zeros are finite
    return X


def check_target(y: Any, name: str, dtype: type) -> np.ndarray:
    """A finite 1-D C-contiguous floating target vector."""
    if _is_ready(y, dtype, 1):
        return _check_finite(y, name)
    _reject_complex(y, name)
    with _named_errors(name):
        y = check_array(y, dtype=dtype, order="C", ensure_2d=False, allow_nd=False, input_name=name)
    if y.ndim == 2 and y.shape[1] == 1:  # a column vector (MATLAB, GPy): one value per row
        return y.reshape(-1)
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D (n_samples,) or a column (n_samples, 1), got an array of shape {y.shape}")
    return y


def check_tasks(tasks: Any, n_samples: int) -> np.ndarray:
    """The task label of every row: 1-D, one per row, no missing values."""
    tasks = np.asarray(tasks)
    if tasks.ndim != 1:
        raise ValueError(f"tasks must be 1-D with one label per row, got shape {tasks.shape}")
    if tasks.shape[0] != n_samples:
        raise ValueError(f"tasks has {tasks.shape[0]} labels but X has {n_samples} rows")
    if tasks.dtype.kind == "c":
        raise ValueError("tasks must hold real or string labels, not complex numbers")
    _reject_missing_labels(tasks, "tasks")
    if tasks.dtype.kind == "O":
        _check_comparable_labels(tasks, "tasks")
    return tasks


def label_kinds(labels: np.ndarray) -> set[str]:
    """The kinds of the labels: "number" for ints and floats (not bools), else the type's name ("str"...)."""
    return {"number" if isinstance(label, (int, float, np.number)) and not isinstance(label, (bool, np.bool_)) else
            type(label).__name__ for label in labels.astype(object).flat}


def _check_comparable_labels(labels: np.ndarray, name: str) -> None:
    """Object labels must be of one sortable kind (all numbers or all strings): ValueError otherwise."""
    kinds = label_kinds(labels)
    if len(kinds) > 1:
        raise ValueError(
            f"{name} mixes labels of different types ({', '.join(sorted(kinds))}); use one type for every "
            f"label, e.g. {name}.astype(str)"
        )


def _reject_missing_labels(labels: np.ndarray, name: str) -> None:
    """Every label present: no NaN or infinity (float labels), no None (object labels)."""
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        raise ValueError(f"{name} contains NaN or infinity")
    if labels.dtype.kind == "O" and any(
        label is None or (isinstance(label, (float, np.floating)) and not np.isfinite(label)) for label in labels.flat
    ):
        raise ValueError(f"{name} contains None, NaN or infinity (a missing label)")


def _label_array(y: Any, name: str) -> np.ndarray:
    """Class labels as an ndarray of their own dtype (any shape), every label present."""
    with _named_errors(name):  # e.g. numpy's error for ragged nested lists
        y = np.asarray(y)
    _reject_complex(y, name)
    _reject_missing_labels(y, name)
    return y


def check_labels(y: Any, name: str) -> np.ndarray:
    """One task's class labels: 1-D, in the caller's dtype (ints, strings, bools, objects).

    Unlike :func:`check_target`, nothing is converted to float: the classifier
    maps the labels to its classes itself. ValueError for complex, NaN,
    infinite or None labels.
    """
    y = _label_array(y, name)
    if y.ndim == 2 and y.shape[1] == 1:  # a column vector: one label per row
        return y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D (n_samples,) or a column (n_samples, 1), got an array of shape {y.shape}")
    return y


def _reject_complex(array: Any, name: str) -> None:
    dtype = getattr(array, "dtype", None)
    if dtype is not None and np.dtype(dtype).kind == "c":
        raise ValueError(f"Complex data not supported: {name} must be real-valued")


def group_rows(task_index: np.ndarray, n_tasks: int) -> list[np.ndarray]:
    """Row indices of each task, in their original order (stable)."""
    order = np.argsort(task_index, kind="stable")
    stops = np.cumsum(np.bincount(task_index, minlength=n_tasks)).tolist()
    # Slices of order, as np.split gives them (it costs ~10 us a piece: many small tasks add up).
    return [order[start:stop] for start, stop in zip([0] + stops[:-1], stops)]


def take_rows(X: Design, rows: np.ndarray) -> Design:
    """X[rows]; without copying when ``rows`` is a contiguous range.

    For a range, a dense X gives a view and a CSR X a block over views of its
    data and indices (see :func:`multitask._sparse_input.csr_row_range`).
    Otherwise the rows are copied (for CSR, only those rows' entries).
    """
    if rows.size and rows[-1] - rows[0] + 1 == rows.size and np.all(np.diff(rows) == 1):
        start, stop = int(rows[0]), int(rows[-1]) + 1
        return csr_row_range(X, start, stop) if is_sparse(X) else X[start:stop]
    return X[rows]


def task_slices(A: np.ndarray, rows: list[np.ndarray]) -> list[np.ndarray]:
    """[A[r] for r in rows] for a dense A, as views of one copy of A sorted by task (none if already sorted).

    One gather of all the rows instead of one per task: a cross-validation fit
    of School (139 tasks) spent more time in the per-task copies and their
    contiguity checks than in some solvers.
    """
    order = np.concatenate(rows) if rows else np.empty(0, dtype=np.intp)
    if order.size and not np.array_equal(order, np.arange(order.size)):
        A = A[order]
    bounds = np.cumsum([0] + [r.size for r in rows])
    return [A[start:stop] for start, stop in zip(bounds[:-1], bounds[1:])]


def reject_empty_task_list(X: Any) -> None:
    """An empty list or tuple for X holds neither tasks nor samples: ValueError."""
    if isinstance(X, (list, tuple)) and len(X) == 0:
        raise ValueError("X is an empty list: pass one (n_t, d) matrix per task, or a 2-D array")


def to_task_blocks(
    X: Any, y: Any, tasks: Any, *, require_y: bool = True, accept_sparse: bool = False, labels: bool = False
) -> TaskBlocks:
    """Normalises training data in any of the three forms (see the module docstring).

    Parameters
    ----------
    X : list of array-like (n_t, d), or array-like of shape (n_samples, d)
        Dense, or with ``accept_sparse`` also scipy.sparse (any element of the list).
    y : list of array-like (n_t,), or array-like of shape (n_samples,) or (n_samples, T)
        Targets in the form matching ``X``.
    tasks : array-like of shape (n_samples,) or None
        Task label of every row (long format).
    require_y : bool, default=True
        Raise the "requires y" error when ``y`` is None.
    accept_sparse : bool, default=False
        Accept scipy.sparse X and make it canonical int32 CSR blocks (see
        :mod:`multitask._sparse_input`); without it sparse X raises
        scikit-learn's TypeError.
    labels : bool, default=False
        ``y`` holds class labels: kept in the caller's dtype (see
        :func:`check_labels`) instead of converted to the float dtype of X.

    Returns
    -------
    TaskBlocks

    Raises
    ------
    ValueError
        Naming the argument (``X``, ``X[1]``, ``y[0]``, ``tasks``...) for
        invalid values, shapes or inconsistent lengths.
    """
    if y is None and require_y:
        raise ValueError("requires y to be passed, but the target y is None")
    X, y = as_task_list(X), as_task_list(y)
    reject_empty_task_list(X)
    if tasks is not None:
        return _long_blocks(X, y, tasks, accept_sparse, labels)
    if is_list_form(X):
        return _list_blocks(X, y, accept_sparse, labels)
    reject_malformed_task_list(X, y)
    return _shared_blocks(X, y, accept_sparse, labels)


def _check_y(y: Any, name: str, dtype: type, labels: bool) -> np.ndarray:
    """One task's targets: class labels as they are, or finite floats of the design's dtype."""
    return check_labels(y, name) if labels else check_target(y, name, dtype)


def _list_blocks(X: Sequence[Any], y: Any, accept_sparse: bool, labels: bool) -> TaskBlocks:
    if not isinstance(y, (list, tuple)):
        raise ValueError("X is a list of per-task matrices, so y must be a list of per-task targets")
    if len(y) != len(X):
        raise ValueError(f"X holds {len(X)} tasks but y holds {len(y)}")
    dtype = common_float_dtype(X)
    X_blocks = [check_design(block, f"X[{t}]", dtype, accept_sparse=accept_sparse) for t, block in enumerate(X)]
    y_blocks = [_check_y(target, f"y[{t}]", dtype, labels) for t, target in enumerate(y)]
    n_features = X_blocks[0].shape[1]
    for t, (X_t, y_t) in enumerate(zip(X_blocks, y_blocks)):
        if X_t.shape[1] != n_features:
            raise ValueError(f"X[{t}] has {X_t.shape[1]} features but X[0] has {n_features}")
        if X_t.shape[0] != y_t.shape[0]:
            raise ValueError(f"X[{t}] has {X_t.shape[0]} rows but y[{t}] has {y_t.shape[0]} values")
    return TaskBlocks(X_blocks, y_blocks, "lists", np.arange(len(X_blocks)))


def _long_blocks(X: Any, y: Any, tasks: Any, accept_sparse: bool, labels: bool) -> TaskBlocks:
    dtype = common_float_dtype([X])
    X = check_design(X, "X", dtype, accept_sparse=accept_sparse)
    y = _check_y(y, "y", dtype, labels)
    check_consistent_length(X, y)
    tasks = check_tasks(tasks, X.shape[0])
    task_labels, task_index = np.unique(tasks, return_inverse=True)
    rows = group_rows(task_index, task_labels.size)
    X_blocks = [take_rows(X, r) for r in rows] if is_sparse(X) else task_slices(X, rows)
    y_blocks = [np.ascontiguousarray(block) for block in task_slices(y, rows)]
    return TaskBlocks(X_blocks, y_blocks, "long", task_labels, rows)


def _shared_blocks(X: Any, y: Any, accept_sparse: bool, labels: bool) -> TaskBlocks:
    dtype = common_float_dtype([X])
    X = check_design(X, "X", dtype, accept_sparse=accept_sparse)
    if labels:
        Y = _label_array(y, "y")
    elif _is_ready(y, dtype, 2):
        Y = _check_finite(y, "y")
    else:
        _reject_complex(y, "y")
        with _named_errors("y"):
            Y = check_array(y, dtype=dtype, ensure_2d=False, allow_nd=False, input_name="y")
    if Y.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D or 2-D (n_samples, n_tasks), got shape {Y.shape}")
    check_consistent_length(X, Y)
    if Y.ndim == 1:
        return TaskBlocks([X], [np.ascontiguousarray(Y)], "single", np.arange(1))
    if Y.shape[1] == 0:
        raise ValueError("y has no columns: a 2-D y needs one column per task")
    if any(stride <= 0 for stride in Y.strides):  # reversed or broadcast views: the core needs positive strides
        Y = np.ascontiguousarray(Y)
    # No copies: X is shared by every task, and each task's targets are a
    # (strided) column view of Y, which the core reads with its stride.
    return TaskBlocks([X] * Y.shape[1], [Y[:, t] for t in range(Y.shape[1])], "shared", np.arange(Y.shape[1]))
