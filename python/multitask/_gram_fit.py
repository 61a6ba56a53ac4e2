"""The squared-loss fit from Gram statistics: ``partial_fit``, and ``fit`` on Dask collections.

Either way the data are summarised per task by :class:`GramStatistics` (a
chunk, or a Dask partition, at a time; merged exactly) and the core solves the
kernel-coupled problem from them on the caller's machine.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.utils.validation import validate_data

from ._dask_support import map_step, partition_pieces, tree_reduce, uses_dask
from ._gram_statistics import GramStatistics
from ._input import is_list_form, to_task_blocks

LOGGER = logging.getLogger("multitask")

__all__ = ["chunk_statistics", "dask_statistics", "partition_statistics", "set_dask_feature_names"]


def partition_statistics(X: Any, y: Any, tasks: Any) -> GramStatistics:
    """The map step: the statistics of one partition (NumPy or pandas pieces), validated like ``fit``'s input."""
    X, y, tasks = partition_pieces(X, y, tasks)
    if X.shape[0] == 0:
        form = "long" if tasks is not None else ("shared" if y.ndim == 2 else "single")
        labels = np.arange(y.shape[1] if y.ndim == 2 else 1) if form != "long" else None
        return GramStatistics.empty(form, X.shape[1], labels)
    return _in_memory_statistics(X, y, tasks)


def dask_statistics(X: Any, y: Any, tasks: Any) -> GramStatistics:
    """The statistics of Dask collections: the map step on every partition, merged by a tree reduction."""
    statistics = tree_reduce(map_step(partition_statistics, X, y, tasks))
    LOGGER.info("Dask statistics: %d rows, %d tasks, %d features", statistics.n_samples, statistics.n_tasks,
                statistics.n_features)
    return statistics


def chunk_statistics(X: Any, y: Any, tasks: Any) -> GramStatistics:
    """The statistics of one chunk in any input form, in memory or as Dask collections (dense only: ValueError)."""
    if uses_dask(X, y, tasks):
        return dask_statistics(X, y, tasks)
    return _in_memory_statistics(X, y, tasks)


def _in_memory_statistics(X: Any, y: Any, tasks: Any) -> GramStatistics:
    """The long format by the core's per-task sums; lists and a shared design block by block.

    Sparse blocks pass validation so that :meth:`GramStatistics.from_blocks`
    refuses them with its ValueError (the statistics are dense).
    """
    if tasks is not None and not is_list_form(X):
        return GramStatistics.from_rows(X, y, tasks)
    return GramStatistics.from_blocks(to_task_blocks(X, y, tasks, accept_sparse=True))


def set_dask_feature_names(estimator: Any, X: Any, reset: bool) -> None:
    """scikit-learn's ``n_features_in_``/``feature_names_in_`` bookkeeping for a Dask array or DataFrame X.

    Reads only the metadata (shape, columns), never the data.
    """
    if isinstance(X, (list, tuple)) or not hasattr(X, "shape"):
        raise ValueError(
            "with Dask collections give the long format (X, y, tasks) or a shared design (X, Y), each one Dask "
            "array or DataFrame; a list of per-task Dask arrays is not supported"
        )
    if len(X.shape) != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got a Dask collection with {len(X.shape)} dimensions")
    # A Dask DataFrame's _meta is an empty pandas DataFrame with its columns.
    validate_data(estimator, X._meta if hasattr(X, "divisions") else X, skip_check_array=True, reset=reset)


def check_partial_fit_input(estimator: Any, X: Any, tasks: Any) -> None:
    """Feature names and counts of a later ``partial_fit`` chunk against those of the first."""
    if uses_dask(X, tasks):
        set_dask_feature_names(estimator, X, reset=False)
    elif is_list_form(X):
        for t, block in enumerate(X):
            estimator._check_feature_names(block, f"X[{t}]")
            estimator._check_n_features(np.shape(block)[1], f"X[{t}]")
    else:
        validate_data(estimator, X, skip_check_array=True, reset=False)
