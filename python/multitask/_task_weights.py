"""Task weights omega_t and the per-sample weights s_t = omega_t / N the core uses."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["per_sample_weights"]


def per_sample_weights(task_weights: Any, n_per_task: np.ndarray) -> np.ndarray:
    """s_t = omega_t / N for ``task_weights`` in {"uniform", "balanced"} or an array.

    "uniform": omega_t = 1, every sample counts the same;
    "balanced": omega_t = N / (T n_t), every task counts the same;
    an array of T positive finite values: omega_t as given.
    """
    n_per_task = np.asarray(n_per_task, dtype=np.float64)
    n_total, n_tasks = n_per_task.sum(), n_per_task.size
    if isinstance(task_weights, str):
        if task_weights == "uniform":
            return np.full(n_tasks, 1.0 / n_total)
        if task_weights == "balanced":
            return 1.0 / (n_tasks * n_per_task)
        raise ValueError(f"task_weights must be 'uniform', 'balanced' or an array, got {task_weights!r}")
    omega = np.asarray(task_weights)
    if omega.dtype.kind not in "iuf":
        raise ValueError(f"task_weights must be numeric, got dtype {omega.dtype}")
    omega = omega.astype(np.float64)
    if omega.shape != (n_tasks,):
        raise ValueError(f"task_weights has shape {omega.shape} but the data has {n_tasks} tasks")
    if not np.all(np.isfinite(omega)) or np.any(omega <= 0):
        raise ValueError("task_weights must be finite and positive")
    return omega / n_total
