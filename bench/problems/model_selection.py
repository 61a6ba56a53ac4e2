"""Data of the model-selection workloads M1-M3 (issue 16).

* School in the long format as ``multitask demo --dataset school`` prepares it: column 27 (a
  constant 1, replaced by the per-task intercepts) dropped, the other 27 standardised (here on all
  rows: the search itself is the experiment, there is no held-out test part).
* T tasks at their own inputs in [-2, 2]^d (d >= 2) with the smooth targets of K1-K5
  (``kernels.smooth_target`` of the first two coordinates; the others are nuisance inputs).
"""

from __future__ import annotations

import numpy as np

import multitask as mt

from .kernels import smooth_target


def school_long(n_schools: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """School as (X (N, 27) standardised, y, tasks); the first ``n_schools`` schools when given."""
    X, y, tasks = mt.datasets.load_school(form="long")
    if n_schools is not None:
        keep = tasks < n_schools
        X, y, tasks = X[keep], y[keep], tasks[keep]
    X = np.asarray(X, dtype=np.float64)[:, :27]
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    return (X - X.mean(axis=0)) / scale, np.asarray(y, dtype=np.float64), np.asarray(tasks)


def own_inputs_long(T: int, n_t: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """T tasks of n_t samples each at their own uniform inputs in [-2, 2]^d, in the long format."""
    rng = np.random.default_rng(seed)
    Xs = [rng.uniform(-2, 2, size=(n_t, d)) for _ in range(T)]
    ys = [smooth_target(X, t, rng) for t, X in enumerate(Xs)]
    return np.vstack(Xs), np.concatenate(ys), np.repeat(np.arange(T), n_t)
