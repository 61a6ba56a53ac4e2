"""Dask collections as input: the partitions of X, y and tasks, a tree reduction, partition-wise predictions.

Dask is optional (``pip install "multitask[dask]"``): nothing here imports it
unless the caller passed a Dask collection. Whatever scheduler is active runs
the graphs: a ``distributed.Client`` when one exists, else Dask's default.
"""

from __future__ import annotations

import functools
import operator
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["is_dask_collection", "map_partitionwise", "map_step", "partition_pieces", "partition_triples", "partitionwise",
           "tree_reduce",
           "uses_dask"]

SPLIT_EVERY = 8
"""Fan-in of the tree reduction: each combining task merges up to this many partial results."""


def is_dask_collection(value: Any) -> bool:
    """Whether ``value`` is a Dask array, DataFrame or Series (without importing Dask for anything else)."""
    if not type(value).__module__.startswith("dask"):
        return False
    import dask

    return dask.is_dask_collection(value)


def uses_dask(*values: Any) -> bool:
    """Whether any value is a Dask collection, or a list/tuple holding one (refused later with a clear error)."""
    return any(
        is_dask_collection(value)
        or (isinstance(value, (list, tuple)) and any(is_dask_collection(item) for item in value))
        for value in values
    )


def _require_dask() -> Any:
    try:
        import dask
    except ImportError as error:  # pragma: no cover - only without the extra
        raise ImportError('fitting from Dask collections needs Dask: pip install "multitask[dask]"') from error
    return dask


def _is_frame(value: Any) -> bool:
    """Whether a Dask collection is a DataFrame or Series (partitions with divisions), not an array."""
    return hasattr(value, "divisions")


def _n_columns(X: Any) -> int:
    shape = X.shape
    if len(shape) != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got a Dask collection with {len(shape)} dimensions")
    return int(shape[1])


def _partitions(value: Any, name: str, row_chunks: tuple | None) -> list:
    """The row partitions of a Dask array (rechunked to one column block) or DataFrame/Series, as Delayed."""
    if not is_dask_collection(value):
        raise ValueError(
            f"X is a Dask collection, so {name} must be one too, with the same partitions (got {type(value).__name__})"
        )
    if _is_frame(value):
        return list(value.to_delayed())
    if value.ndim == 2:
        value = value.rechunk({1: -1})
    _check_same_rows(row_chunks, value, name)
    if row_chunks is not None and value.chunks[0] != row_chunks and not any(np.isnan(row_chunks)):
        value = value.rechunk({0: row_chunks})
    # Unoptimised: X, y and tasks built from one delayed call per partition share that call's key; optimising
    # each array's graph alone would fuse the call into each of them, and a pass would run it three times.
    return list(value.to_delayed(optimize_graph=False).ravel())


def _check_same_rows(row_chunks: tuple | None, value: Any, name: str) -> None:
    """ValueError when X's row count and that of the Dask array ``value`` are both known and differ.

    (Rechunking ``value`` to X's rows would otherwise fail with Dask's "Chunks
    do not add up to shape", which names neither.)
    """
    if row_chunks is None or any(np.isnan(row_chunks)) or any(np.isnan(value.chunks[0])):
        return
    n_rows, n_value = int(sum(row_chunks)), int(value.shape[0])
    if n_rows != n_value:
        raise ValueError(f"X has {n_rows} rows but {name} has {n_value}: they must hold one entry per row of X")


def partition_triples(X: Any, y: Any, tasks: Any) -> tuple[list, list, list]:
    """The aligned partitions of X, y and tasks (None where tasks is None).

    Dask arrays y and tasks are rechunked to X's row chunks when those are
    known; otherwise (and for DataFrames) the collections must have the same
    number of partitions, and each map step checks that its pieces have the
    same number of rows.
    """
    _require_dask()
    if not is_dask_collection(X):
        raise ValueError(
            f"y or tasks is a Dask collection, so X must be one too, with the same partitions (got {type(X).__name__})"
        )
    _n_columns(X)
    row_chunks = None if _is_frame(X) else X.chunks[0]
    X_parts = _partitions(X, "X", row_chunks)
    y_parts = _partitions(y, "y", row_chunks)
    task_parts = [None] * len(X_parts) if tasks is None else _partitions(tasks, "tasks", row_chunks)
    if not len(X_parts) == len(y_parts) == len(task_parts):
        raise ValueError(
            f"X, y and tasks must have the same partitions: X has {len(X_parts)}, y {len(y_parts)}"
            + ("" if tasks is None else f", tasks {len(task_parts)}")
            + " (rechunk or repartition them alike)"
        )
    return X_parts, y_parts, task_parts


def _merge_all(*parts: Any) -> Any:
    return functools.reduce(operator.add, parts)


def tree_reduce(parts: Sequence[Any], split_every: int = SPLIT_EVERY) -> Any:
    """The sum (``+``) of Delayed partial results, merged in a tree of fan-in ``split_every``, computed."""
    dask = _require_dask()
    level = list(parts)
    while len(level) > 1:
        level = [dask.delayed(_merge_all, pure=True)(*level[i : i + split_every])
                 for i in range(0, len(level), split_every)]
    return dask.compute(level[0])[0]


def map_step(function: Callable[..., Any], X: Any, y: Any, tasks: Any, *args: Any) -> list:
    """``function(X_part, y_part, tasks_part, *args)`` for every partition, as Delayed objects."""
    dask = _require_dask()
    X_parts, y_parts, task_parts = partition_triples(X, y, tasks)
    step = dask.delayed(function, pure=True)
    return [step(X_part, y_part, task_part, *args) for X_part, y_part, task_part in zip(X_parts, y_parts, task_parts)]


def _as_numpy(part: Any) -> Any:
    return part.to_numpy() if hasattr(part, "to_numpy") else part


def partition_pieces(X: Any, y: Any, tasks: Any) -> tuple[Any, Any, Any]:
    """One partition's X, y and tasks as NumPy (pandas pieces converted); ValueError unless their rows match."""
    X, y = _as_numpy(X), _as_numpy(y)
    tasks = None if tasks is None else _as_numpy(tasks)
    for name, piece in (("y", y), ("tasks", tasks)):
        if piece is not None and piece.shape[0] != X.shape[0]:
            raise ValueError(
                f"a partition of X has {X.shape[0]} rows but the matching partition of {name} has {piece.shape[0]}: "
                "X, y and tasks must be partitioned alike"
            )
    return X, y, tasks


def _predict_partition(X: Any, method: Callable[..., Any], tasks: Any, keep_index: bool, empty: np.ndarray) -> Any:
    """The method on one partition X; ``empty`` (no rows, the output's trailing shape) for an empty one.

    ``keep_index``: a pandas partition's output keeps its index.
    """
    if X.shape[0] == 0:
        output = empty
    else:
        output = method(X, tasks=None if tasks is None else _as_numpy(tasks))
    if not keep_index:
        return output
    import pandas as pd

    if output.ndim == 1:
        return pd.Series(output, index=X.index)
    return pd.DataFrame(output.reshape(output.shape[0], -1), index=X.index)


def map_partitionwise(method: Callable[..., Any], X: Any, tasks: Any, sample_output: np.ndarray) -> Any:
    """``method(X_part, tasks=tasks_part)`` on every partition, as a lazy Dask collection.

    ``sample_output`` is the method's output on one row, for the output's
    trailing shape and dtype. Dask arrays give a Dask array; DataFrames a Dask
    Series (1-D output) or DataFrame with X's index.
    """
    _require_dask()
    _n_columns(X)
    empty = np.empty((0, *sample_output.shape[1:]), dtype=sample_output.dtype)
    if tasks is not None and not is_dask_collection(tasks):
        raise ValueError("X is a Dask collection, so tasks must be one too, with the same partitions")
    if _is_frame(X):
        import pandas as pd

        meta_index = pd.RangeIndex(0)
        if sample_output.ndim == 1:
            meta = pd.Series(np.empty(0, dtype=sample_output.dtype), index=meta_index)
        else:
            meta = pd.DataFrame(np.empty((0, int(np.prod(sample_output.shape[1:]))), dtype=sample_output.dtype))
        if tasks is None:
            return X.map_partitions(_predict_partition, method, None, True, empty, meta=meta)
        if getattr(tasks, "npartitions", None) != X.npartitions:
            raise ValueError("X and tasks must have the same partitions: tasks must be a Dask Series partitioned as X")
        return X.map_partitions(_predict_partition, method, tasks, True, empty, meta=meta,
                                align_dataframes=False)
    import dask.array as da

    X = X.rechunk({1: -1})
    chunks = (X.chunks[0], *((size,) for size in sample_output.shape[1:]))
    drop_axis = [] if sample_output.ndim == 2 else [1]
    new_axis = list(range(2, sample_output.ndim)) if sample_output.ndim > 2 else None
    if tasks is None:
        return X.map_blocks(_predict_partition, method, None, False, empty, chunks=chunks, dtype=sample_output.dtype,
                            drop_axis=drop_axis, new_axis=new_axis, meta=np.empty((0,) * sample_output.ndim,
                                                                                  dtype=sample_output.dtype))
    if tasks.ndim != 1:
        raise ValueError(f"tasks must be 1-D with one label per row, got a Dask array with {tasks.ndim} dimensions")
    _check_same_rows(X.chunks[0], tasks, "tasks")
    if not any(np.isnan(X.chunks[0])):
        tasks = tasks.rechunk({0: X.chunks[0]})
    return da.map_blocks(lambda X_block, task_block: _predict_partition(X_block, method, task_block[:, 0], False, empty),
                         X, tasks[:, None], chunks=chunks, dtype=sample_output.dtype, drop_axis=drop_axis,
                         new_axis=new_axis, meta=np.empty((0,) * sample_output.ndim, dtype=sample_output.dtype))


def _call_method(estimator: Any, name: str, X: Any, tasks: Any = None) -> Any:
    """``estimator.name(X, tasks=tasks)`` on a worker (by name: the decorated method pickles by reference)."""
    return getattr(estimator, name)(X, tasks=tasks)


def partitionwise(method: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator of ``predict``-like methods ``(self, X, tasks=None)``: for Dask input, a lazy Dask collection.

    The method runs on every partition (on the workers, with the fitted
    estimator shipped to them); its checks that need only metadata (fitted,
    feature count, task labels required) run at once, on the caller's side.
    """

    @functools.wraps(method)
    def wrapper(self: Any, X: Any, tasks: Any = None) -> Any:
        if not uses_dask(X, tasks):
            return method(self, X, tasks)
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        if not is_dask_collection(X):
            raise ValueError("tasks is a Dask collection, so X must be one too, with the same partitions")
        n_features = _n_columns(X)
        self._check_n_features(n_features, "X")
        if tasks is None and getattr(self, "_input_form", None) == "long":
            from ._cv_guard import long_format_needs_tasks

            raise long_format_needs_tasks(self)
        sample = np.zeros((1, n_features))
        if hasattr(X, "columns"):
            import pandas as pd

            sample = pd.DataFrame(sample, columns=X.columns)
        sample_output = np.asarray(method(self, sample, None if tasks is None else self.tasks_[:1]))
        call = functools.partial(_call_method, self, method.__name__)
        return map_partitionwise(call, X, tasks, sample_output)

    return wrapper
