"""Our estimators that learn the task relations (``TaskRelationRegressor``), and where their fit time goes.

``fit_profile`` runs one fit with timers wrapped around the package's own functions (untimed as a
whole: the wrappers cost a few microseconds per call). Categories: the model steps (``_solve``, of
which the C++ core call), the relation steps (``cluster_step`` / ``covariance_step``), the k-means that
reads ``clusters_`` off M at the end (``spectral_clusters``), and the rest (input checks, penalties,
bookkeeping in Python). A name that the package no longer has drops its category instead of failing.
"""

from __future__ import annotations

import importlib
import time
from contextlib import ExitStack, contextmanager
from typing import Any, Callable, Iterator

import numpy as np

import multitask as mt

from .optional import quiet

MAX_ITER = 10_000


def relation_regressor(relation: str, threads: int, **parameters: Any):
    """``TaskRelationRegressor(relation=..., n_jobs=threads, **parameters)``, max_iter ``MAX_ITER`` by default."""
    parameters.setdefault("max_iter", MAX_ITER)
    return mt.TaskRelationRegressor(relation=relation, n_jobs=threads, **parameters)


def fit(model, X, y=None, tasks=None):
    """``model.fit`` with warnings silenced (every figure is checked in numpy)."""
    with quiet():
        return model.fit(X, y) if tasks is None else model.fit(X, y, tasks=tasks)


@contextmanager
def _timed(owner: Any, name: str, totals: dict, label: str,
           wrap_result: Callable[[Any], Any] | None = None) -> Iterator[None]:
    """Replace ``owner.name`` by a wrapper adding its wall time to ``totals[label]`` (restored on exit)."""
    original = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name, None)
    if original is None:
        yield
        return
    totals.setdefault(label, 0.0)
    totals.setdefault(label + "_calls", 0)

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            result = original(*args, **kwargs)
        finally:
            totals[label] += time.perf_counter() - started
            totals[label + "_calls"] += 1
        return wrap_result(result) if wrap_result is not None else result

    setattr(owner, name, wrapper)
    try:
        yield
    finally:
        setattr(owner, name, original)


def fit_profile(model, X, y=None, tasks=None) -> dict:
    """Seconds of one fit by category (module docstring): total, model_steps, core, relation_steps, clusters, rest."""
    regressor = importlib.import_module("multitask._regressor")
    steps = importlib.import_module("multitask._relation_steps")
    totals: dict = {}

    def timed_core(function):
        def call(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                totals["core"] += time.perf_counter() - started
                totals["core_calls"] += 1
        return call

    with ExitStack() as stack:
        if hasattr(regressor, "core_function"):
            stack.enter_context(_timed(regressor, "core_function", {}, "lookup", wrap_result=timed_core))
            totals.update(core=0.0, core_calls=0)
        stack.enter_context(_timed(mt.KernelCoupledRegressor, "_solve", totals, "model_steps"))
        stack.enter_context(_timed(steps, "cluster_step", totals, "relation_steps"))
        stack.enter_context(_timed(steps, "covariance_step", totals, "relation_steps"))
        stack.enter_context(_timed(steps, "spectral_clusters", totals, "clusters"))
        started = time.perf_counter()
        fit(model, X, y, tasks)
        totals["total"] = time.perf_counter() - started
    totals["rest"] = totals["total"] - sum(totals.get(key, 0.0) for key in ("model_steps", "relation_steps",
                                                                             "clusters"))
    return totals


def core_step_run(model, Xs: list, ys: list, threads: int, max_iter: int = 1) -> Callable[[], object] | None:
    """One model step of a fitted (no-intercept, uniform-weight) model as a direct core call with its learned
    coupling, stopped after ``max_iter`` iterations: the fixed cost of a step (the per-task Grams, set-up).
    None when the core's private signature has changed (the figure is then dropped)."""
    from multitask._core import core

    N = sum(len(y) for y in ys)
    arrays = [np.ascontiguousarray(X, dtype=np.float64) for X in Xs]
    targets = [np.ascontiguousarray(y, dtype=np.float64) for y in ys]
    weights, coupling = np.full(len(Xs), 1.0 / N), np.ascontiguousarray(model.coupling_)

    def run():
        return core.fit_least_squares_f64(X=arrays, y=targets, sample_weight=weights, coupling=coupling, alpha=1.0,
                                          fit_intercept=False, shared_design=False, solver=str(model.solver_),
                                          tol=1e-30, max_iter=max_iter, n_threads=threads, warm_start=None)

    try:
        int(run()["n_iter"])
    except Exception:  # noqa: BLE001 - a changed private API only drops a profiling figure
        return None
    return run


def relation_step_runs(model, relation: str) -> dict[str, Callable[[], object]]:
    """The relation step at a fitted model's coef_ ("step"), and for "clusters" its bisection for theta alone
    ("weights") and the eigendecomposition of the T x T W^T W ("eigh"); {} when the names have changed."""
    try:
        steps = importlib.import_module("multitask._relation_steps")
        coef = np.asarray(model.coef_, dtype=np.float64)
        alpha, beta = float(model.alpha), float(model.beta)
        runs: dict[str, Callable[[], object]] = {"eigh": lambda: np.linalg.eigh(coef @ coef.T)}
        if relation == "covariance":
            runs["step"] = lambda: steps.covariance_step(coef, alpha=alpha, beta=beta, eps=float(model.eps))
        else:
            k = int(model.n_clusters)
            roots = np.sqrt(np.maximum(np.linalg.eigvalsh(coef @ coef.T), 0.0))
            runs["step"] = lambda: steps.cluster_step(coef, alpha=alpha, beta=beta, n_clusters=k)
            runs["weights"] = lambda: steps.cluster_weights(roots, beta / alpha, k)
        for run in runs.values():
            run()
    except Exception:  # noqa: BLE001
        return {}
    return runs
