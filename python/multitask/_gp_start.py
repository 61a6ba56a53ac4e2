"""Starting points and bounds of the multi-task GP's marginal-likelihood maximisation.

Start 0 is deterministic and scaled to the data:

* length-scales: the median distance between inputs (per dimension with ARD), on
  up to 500 rows; for a linear kernel, l_j² = d · mean(x_j²) so that k(x, x) ≈ 1;
* noise variances: 10 % of each task's target variance;
* task kernels: 90 % of the target covariance S (the sample covariance of Y's
  columns for a shared design; the per-task variances otherwise), split equally
  across the Q terms, each split into κ = ½ diag(S_q) and L from the leading
  eigenvectors of S_q − diag(κ). L is never 0 there: L = 0 is a stationary point
  of the likelihood (its gradient (H + Hᵀ) L vanishes), which an optimiser
  started at it would never leave;
* means: each task's target mean (or 0 for a zero-mean model).

Further starts (``n_restarts``) perturb start 0 at random: length-scales by a
factor in [1/10, 10], noise and κ log-uniformly below the task's variance, L
Gaussian at the task's scale.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._gp_data import GPData
from ._gp_params import GPParams, GPSpec

__all__ = ["start_params", "random_params", "log_bounds", "task_variances"]

_SUBSAMPLE = 500


def task_variances(data: GPData) -> np.ndarray:
    """Each task's target variance (the pooled variance for tasks with fewer than 2 samples or none)."""
    pooled = float(np.var(data.y)) if data.y.size > 1 else 1.0
    pooled = pooled if pooled > 0 else 1.0
    variances = np.empty(data.n_tasks)
    for t in range(data.n_tasks):
        y_t = data.task_targets(t)
        variances[t] = np.var(y_t) if y_t.size > 1 and np.var(y_t) > 0 else pooled
    return variances


def _median_distances(X: np.ndarray, ard: bool, rng: np.random.Generator) -> np.ndarray:
    """Median |x_j - x'_j| per dimension (ARD) or median ‖x - x'‖ (one entry), over distinct rows."""
    rows = X if X.shape[0] <= _SUBSAMPLE else X[rng.choice(X.shape[0], _SUBSAMPLE, replace=False)]
    i, j = np.triu_indices(rows.shape[0], k=1)
    if i.size == 0:
        return np.ones(X.shape[1] if ard else 1)
    differences = np.abs(rows[i] - rows[j])
    if ard:
        medians = np.array([np.median(column[column > 0]) if np.any(column > 0) else 1.0
                            for column in differences.T])
    else:
        distances = np.sqrt((differences**2).sum(axis=1))
        medians = np.array([np.median(distances[distances > 0]) if np.any(distances > 0) else 1.0])
    return medians


def _start_theta(kernel: str, n_theta: int, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if n_theta == 0:
        return np.zeros(0)
    ard = n_theta > 1 or X.shape[1] == 1
    if kernel == "linear":
        squares = np.mean(X**2, axis=0)
        scale = np.sqrt(X.shape[1] * squares) if ard else np.sqrt(np.array([np.sum(squares)]))
        return np.log(np.where(scale > 0, scale, 1.0))
    return np.log(_median_distances(X, ard, rng))


def _target_covariance(data: GPData, variances: np.ndarray) -> np.ndarray:
    if data.shared and data.Y.shape[0] > 1:
        S = np.atleast_2d(np.cov(data.Y, rowvar=False))
        S[np.diag_indices_from(S)] = np.maximum(np.diag(S), 1e-12 * variances.max())
        return S
    return np.diag(variances)


def _split_task_kernel(S: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """L (T, rank) and log κ with L Lᵀ + diag(κ) ≈ S, κ = ½ diag(S), L from the leading eigenpairs."""
    kappa = 0.5 * np.diag(S)
    values, vectors = np.linalg.eigh(S - np.diag(kappa))
    order = np.argsort(values)[::-1][:rank]
    floor = 0.1 * kappa.mean()  # a positive scale for every column: L = 0 is a stationary point
    return vectors[:, order] * np.sqrt(np.maximum(values[order], floor)), np.log(kappa)


def start_params(spec: GPSpec, data: GPData, *, learn_mean: bool, random_state: int = 0) -> GPParams:
    """Start 0 (module docstring)."""
    rng = np.random.default_rng(random_state)
    variances = task_variances(data)
    S = 0.9 * _target_covariance(data, variances) / len(spec.terms)
    L, log_kappa, theta = [], [], []
    for term in spec.terms:
        L_q, log_kappa_q = _split_task_kernel(S, term.rank)
        L.append(L_q)
        log_kappa.append(log_kappa_q)
        theta.append(_start_theta(term.kernel, term.n_theta, data.X, rng))
    means = np.array([data.task_targets(t).mean() if data.task_targets(t).size else 0.0
                      for t in range(spec.n_tasks)]) if learn_mean else np.zeros(spec.n_tasks)
    return GPParams(spec, tuple(L), tuple(log_kappa), tuple(theta), np.log(0.1 * variances), means)


def random_params(start: GPParams, data: GPData, rng: np.random.Generator) -> GPParams:
    """A random perturbation of start 0 (module docstring)."""
    variances = task_variances(data)
    Q = len(start.spec.terms)
    L = tuple(rng.normal(size=L_q.shape) * np.sqrt(variances / (Q * max(L_q.shape[1], 1)))[:, None] for L_q in start.L)
    log_kappa = tuple(np.log(variances / (2 * Q)) + rng.uniform(np.log(1e-2), 0.0, size=variances.size)
                      for _ in start.log_kappa)
    theta = tuple(theta_q + rng.uniform(-np.log(10.0), np.log(10.0), size=theta_q.size) for theta_q in start.theta)
    log_noise = np.log(variances) + rng.uniform(np.log(1e-3), np.log(0.5), size=variances.size)
    return GPParams(start.spec, L, log_kappa, theta, log_noise, start.mean.copy())


def log_bounds(spec: GPSpec, length_scale_bounds: Any, kappa_bounds: Any, noise_bounds: Any,
               variances: np.ndarray) -> list[tuple[float | None, float | None]]:
    """Bounds of the full vector for L-BFGS-B: logs of the positive quantities' bounds, none on L and m.

    ``"auto"`` bounds scale with each task's target variance v_t: κ in [1e-8, 1e3] v_t and
    σ² in [1e-8, 10] v_t (a noise variance above 10 v_t explains nothing)."""
    T = spec.n_tasks

    def per_task(bounds: Any, low: float, high: float) -> list[tuple[float, float]]:
        if isinstance(bounds, str):
            return [(float(np.log(low * v)), float(np.log(high * v))) for v in variances]
        return [(float(np.log(bounds[0])), float(np.log(bounds[1])))] * T

    out: list[tuple[float | None, float | None]] = []
    length = (float(np.log(length_scale_bounds[0])), float(np.log(length_scale_bounds[1])))
    for term in spec.terms:
        out += [(None, None)] * (T * term.rank)
        out += per_task(kappa_bounds, 1e-8, 1e3)
        out += [length] * term.n_theta
    out += per_task(noise_bounds, 1e-8, 10.0)
    out += [(None, None)] * T
    return out
