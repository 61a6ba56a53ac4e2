"""Our cross-validated estimators (issue 16), their searches spread over processes, and where their time goes.

``fold_scores`` runs the search of ``KernelCoupledRegressorCV`` on one fold (its private ``_scores``
with a one-fold ``cv``), so that ``search_over_processes`` can spread the folds over joblib worker
processes and choose and refit as the estimator does: the alternative to the core's threads.
``search_profile`` runs one fit with timers around the package's functions: the C++ core's fits
(per fold and in the refit), the scoring of the held-out rows, the refit, and the rest (validation,
model objects, bookkeeping in Python). A name that the package no longer has drops its category.
"""

from __future__ import annotations

import importlib
import time
from contextlib import ExitStack, contextmanager
from typing import Any, Callable, Iterator

import numpy as np

import multitask as mt

from .optional import quiet


def fit(model, X, y, tasks=None):
    """``model.fit`` (long format with ``tasks``) with warnings silenced (the workloads check the results)."""
    with quiet():
        return model.fit(X, y) if tasks is None else model.fit(X, y, tasks=tasks)


def fold_scores(parameters: dict, X, y, tasks, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """The test scores of the grid of ``KernelCoupledRegressorCV(**parameters)`` on one fold (train, test)."""
    from multitask._cv_search import cv_data
    from multitask._linear_cv import grid_parameter

    search = mt.KernelCoupledRegressorCV(**{**parameters, "cv": [(train, test)]})
    values = np.asarray(parameters["alphas"], dtype=np.float64)
    with quiet():
        grid, _ = search._scores(search._plain_estimator(), cv_data(X, y, tasks), grid_parameter(search.penalty),
                                 values)
    return grid.scores[0]


def search_over_processes(parameters: dict, X, y, tasks, folds: list, n_jobs: int) -> tuple[float, np.ndarray, Any]:
    """The folds of ``KernelCoupledRegressorCV(**parameters)`` in ``n_jobs`` joblib (loky) processes.

    Returns the chosen value, the (n_folds, n_values) scores and the refit plain estimator, chosen and
    refitted in this process as the estimator does (the first best mean score).
    """
    from joblib import Parallel, delayed

    scores = np.array(Parallel(n_jobs=n_jobs)(delayed(fold_scores)(parameters, X, y, tasks, train, test)
                                              for train, test in folds))
    best = int(np.nanargmax(scores.mean(axis=0)))
    value = float(np.asarray(parameters["alphas"])[best])
    search = mt.KernelCoupledRegressorCV(**parameters)
    from multitask._linear_cv import grid_parameter

    plain = search._plain_estimator().set_params(**{grid_parameter(search.penalty): value})
    return value, scores, fit(plain, X, y, tasks)


@contextmanager
def _timed(owner: Any, name: str, totals: dict, label: str,
           wrap_result: Callable[[Any], Any] | None = None) -> Iterator[None]:
    """Replace ``owner.name`` by a wrapper adding its wall time to ``totals[label]`` (restored on exit)."""
    original = getattr(owner, name, None)
    if original is None:
        yield
        return
    totals.setdefault(label, 0.0)

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            result = original(*args, **kwargs)
        finally:
            totals[label] += time.perf_counter() - started
        return wrap_result(result) if wrap_result is not None else result

    setattr(owner, name, wrapper)
    try:
        yield
    finally:
        setattr(owner, name, original)


def search_profile(model, X, y, tasks=None) -> dict:
    """Seconds of one fit of a *CV estimator by category: total, core, scoring, refit, refit_core, rest.

    ``core_calls``: how often each core function was called (e.g. ``fit_least_squares_path``).

    ``core``: every call of the C++ core (the folds' fits and paths and the refit); ``refit``: the
    choice and refit on all the data (``store_search``), of which ``refit_core`` in the core;
    ``scoring``: the scores of the held-out rows; ``rest``: total - core - scoring - (refit - refit_core).
    """
    totals: dict = {"core": 0.0, "scoring": 0.0, "refit": 0.0}

    def timed_function(label: str) -> Callable[[Callable], Callable]:
        def wrap(function: Callable) -> Callable:
            def call(*args, **kwargs):
                started = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    totals[label] += time.perf_counter() - started
            return call
        return wrap

    refit_core: list[float] = []
    calls: dict[str, int] = {}

    def store_search_wrapper(original: Callable) -> Callable:
        def call(*args, **kwargs):
            core_before, started = totals["core"], time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                totals["refit"] += time.perf_counter() - started
                refit_core.append(totals["core"] - core_before)
        return call

    with ExitStack() as stack:
        for module in ("multitask._regressor", "multitask._fit_result"):
            owner = importlib.import_module(module)
            if hasattr(owner, "core_function"):
                original_lookup = owner.core_function

                def lookup(name, *args, original_lookup=original_lookup, **kwargs):
                    calls[name] = calls.get(name, 0) + 1
                    return timed_function("core")(original_lookup(name, *args, **kwargs))

                owner.core_function = lookup
                stack.callback(setattr, owner, "core_function", original_lookup)
        for module in ("multitask._linear_cv",):
            owner = importlib.import_module(module)
            if hasattr(owner, "fold_scorer"):
                stack.enter_context(_timed(owner, "fold_scorer", {}, "lookup", wrap_result=timed_function("scoring")))
            if hasattr(owner, "grid_scores_at_once"):  # the whole grid's scores from one pass, where it applies
                stack.enter_context(_timed(owner, "grid_scores_at_once", totals, "scoring"))
            if hasattr(owner, "store_search"):
                original = owner.store_search
                owner.store_search = store_search_wrapper(original)
                stack.callback(setattr, owner, "store_search", original)
        started = time.perf_counter()
        fit(model, X, y, tasks)
        totals["total"] = time.perf_counter() - started
    totals["refit_core"] = sum(refit_core)
    totals["core_calls"] = calls
    totals["rest"] = totals["total"] - totals["core"] - totals["scoring"] - (totals["refit"] - totals["refit_core"])
    return totals
