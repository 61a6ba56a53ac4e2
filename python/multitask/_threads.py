"""Thread-count resolution for the OpenMP core, in the manner of scikit-learn."""

from __future__ import annotations

import os

__all__ = ["effective_n_threads"]


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def effective_n_threads(n_jobs: int | None) -> int:
    """Threads the core may use for ``n_jobs``.

    ``None`` means ``OMP_NUM_THREADS`` when it is set, otherwise every available
    core; ``-1`` means every core, ``-2`` all but one, and so on; a positive
    value is used as given (capped at the available cores).
    """
    cores = _available_cores()
    if n_jobs is None:
        from_env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
        return max(1, min(int(from_env), cores)) if from_env.isdigit() and int(from_env) > 0 else cores
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 is not meaningful: use None, a positive count or -1")
    if n_jobs < 0:
        return max(1, cores + 1 + n_jobs)
    return min(n_jobs, cores)
