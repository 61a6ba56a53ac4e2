"""Thread-count resolution for the OpenMP core, in the manner of scikit-learn.

``n_jobs`` follows joblib's convention: ``None`` means 1 unless a
``joblib.parallel_config(n_jobs=...)`` context says otherwise, ``-1`` means every
available core, ``-2`` all but one, and a positive value is used as given. The
result is then capped by OpenMP's own thread limit as the compiled core sees it
(``omp_get_max_threads``), so that ``OMP_NUM_THREADS`` and a limit set at run time
with ``threadpoolctl.threadpool_limits(n, user_api="openmp")`` are honoured.
"""

from __future__ import annotations

import os

import joblib

__all__ = ["effective_n_threads"]


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _openmp_limit() -> int:
    """OpenMP's thread limit for the calling thread, as the compiled core sees it."""
    from ._core import core  # late import: the core imports the package's Python modules

    return max(1, int(core.openmp_max_threads()))


def effective_n_threads(n_jobs: int | None) -> int:
    """Threads the core may use for ``n_jobs``.

    Parameters
    ----------
    n_jobs : int or None
        ``None``: 1, or the ``n_jobs`` of an enclosing ``joblib.parallel_config``
        context; ``-1``: every available core; ``-k``: all but ``k - 1`` cores;
        a positive count is used as given.

    Returns
    -------
    int
        At least 1, at most the available cores and OpenMP's current limit
        (``OMP_NUM_THREADS``, ``threadpoolctl.threadpool_limits``).

    Raises
    ------
    ValueError
        For ``n_jobs == 0``.
    """
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 is not meaningful: use None (one thread), a positive count or -1 (every core)")
    cores = _available_cores()
    if n_jobs is None:
        requested = joblib.effective_n_jobs(None)  # 1 outside a parallel_config(n_jobs=...) context
        if requested < 0:
            requested = cores + 1 + requested
    elif n_jobs < 0:
        requested = cores + 1 + n_jobs
    else:
        requested = n_jobs
    return max(1, min(requested, cores, _openmp_limit()))
