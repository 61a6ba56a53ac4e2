"""The multi-task GP's estimator parameters turned into hyperparameter shapes and starting values.

``term_specs`` reads ``kernel``, ``rank`` and ``ard``; ``checked_init`` overrides
start 0 with the user's ``init`` values, with a ValueError naming the entry
whose shape or value is wrong; ``free_mask`` says which coordinates the
optimiser moves.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from ._gp_params import GPParams, GPSpec, TermSpec

__all__ = ["term_specs", "free_mask", "checked_init"]

INIT_KEYS = ("length_scale", "L", "kappa", "noise_variance", "mean")


def term_specs(kernel: Any, rank: Any, ard: bool, n_features: int) -> tuple[TermSpec, ...]:
    """One TermSpec per kernel name; ``rank`` an int for every term or one per term."""
    kernels = [kernel] if isinstance(kernel, str) else list(kernel)
    if not kernels:
        raise ValueError("kernel must name at least one kernel")
    for name in kernels:
        if name not in ("rbf", "matern32", "matern52", "linear"):
            raise ValueError(f"kernel must be 'rbf', 'matern32', 'matern52' or 'linear' (or a list of them), "
                             f"got {name!r}")
    ranks = [rank] * len(kernels) if isinstance(rank, Integral) else list(rank)
    if len(ranks) != len(kernels):
        raise ValueError(f"rank has {len(ranks)} entries but kernel has {len(kernels)} terms")
    for r in ranks:
        if not isinstance(r, Integral) or isinstance(r, bool) or r < 0:
            raise ValueError(f"rank must be a non-negative integer (or a list of them), got {r!r}")
    specs = []
    for name, r in zip(kernels, ranks):
        n_theta = n_features if ard else (0 if name == "linear" else 1)
        specs.append(TermSpec(name, int(r), n_theta))
    return tuple(specs)


def free_mask(spec: GPSpec, *, optimise_mean: bool) -> np.ndarray:
    """True for the coordinates the optimiser moves: all but the means, unless they are optimised
    with the others (the sparse route; the exact routes profile them out, a zero-mean model fixes them)."""
    free = np.ones(spec.size, dtype=bool)
    if not optimise_mean:
        free[spec.mean_slice()] = False
    return free


def _per_term(value: Any, n_terms: int, key: str) -> list[Any]:
    if n_terms > 1:
        if not isinstance(value, (list, tuple)) or len(value) != n_terms:
            raise ValueError(f"init[{key!r}] must be a list with one entry per kernel term ({n_terms})")
        return list(value)
    return [value]


def _positive(value: Any, shape: tuple[int, ...], key: str) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    try:
        array = np.broadcast_to(array, shape).copy()
    except ValueError:
        raise ValueError(f"init[{key!r}] must be a scalar or have shape {shape}, got shape {array.shape}") from None
    if not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(f"init[{key!r}] must be positive and finite")
    return array


def checked_init(init: dict | None, start: GPParams) -> GPParams:
    """Start 0 with the entries of ``init`` put in (module docstring)."""
    if not init:
        return start
    unknown = set(init) - set(INIT_KEYS)
    if unknown:
        raise ValueError(f"init has unknown keys {sorted(unknown)}; allowed: {list(INIT_KEYS)}")
    spec, T = start.spec, start.spec.n_tasks
    Q = len(spec.terms)
    L, log_kappa, theta = list(start.L), list(start.log_kappa), list(start.theta)
    if "length_scale" in init:
        for q, value in enumerate(_per_term(init["length_scale"], Q, "length_scale")):
            n_theta = spec.terms[q].n_theta
            if n_theta == 0:
                raise ValueError("init['length_scale'] was given for a linear kernel without length-scales")
            theta[q] = np.log(_positive(value, (n_theta,), "length_scale"))
    if "L" in init:
        for q, value in enumerate(_per_term(init["L"], Q, "L")):
            array = np.asarray(value, dtype=np.float64)
            if array.shape != (T, spec.terms[q].rank) or not np.all(np.isfinite(array)):
                raise ValueError(f"init['L'] must be finite with shape ({T}, {spec.terms[q].rank}) (n_tasks, rank), "
                                 f"got shape {array.shape}")
            L[q] = array.copy()
    if "kappa" in init:
        for q, value in enumerate(_per_term(init["kappa"], Q, "kappa")):
            log_kappa[q] = np.log(_positive(value, (T,), "kappa"))
    log_noise = (np.log(_positive(init["noise_variance"], (T,), "noise_variance"))
                 if "noise_variance" in init else start.log_noise)
    mean = start.mean
    if "mean" in init:
        mean = np.asarray(init["mean"], dtype=np.float64)
        if mean.shape != (T,) or not np.all(np.isfinite(mean)):
            raise ValueError(f"init['mean'] must be finite with shape ({T},), got shape {mean.shape}")
    return GPParams(spec, tuple(L), tuple(log_kappa), tuple(theta), log_noise, mean)
