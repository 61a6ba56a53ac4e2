"""Tolerance searches: run each method at the loosest tolerance that reaches a common accuracy.

Solvers stop on different criteria, so a tolerance means different things to each; the suite
compares them at the same accuracy, measured independently of the solvers (a gap evaluated in
numpy), each at the loosest tolerance of a list that reaches it. The searches are untimed.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .threads import limit, limited
from .timing import capped_round_robin


def decades(first: int, last: int) -> tuple[float, ...]:
    """Tolerances 10^-first ... 10^-last, loosest first."""
    return tuple(10.0 ** -k for k in range(first, last + 1))


def loosest_tolerance(gap_at: Callable[[float], float], tolerances: tuple[float, ...],
                      target: float) -> tuple[float, float]:
    """The loosest tolerance whose run has a gap at most ``target``.

    Parameters
    ----------
    gap_at : callable
        ``gap_at(tol)`` runs the method (untimed) and returns its gap.
    tolerances : tuple of float
        Tried in order, loosest first.
    target : float
        The accuracy to reach.

    Returns
    -------
    tol, gap : float
        The tolerance and its gap; the tightest tried when none reaches the target.
    """
    for tol in tolerances:
        gap = gap_at(tol)
        if gap <= target:
            return tol, gap
    return tol, gap


@dataclass
class Method:
    """One method of a certified comparison.

    Parameters
    ----------
    key : str
        Short key (also the report's name for a fastest peer).
    name : str
        The row label.
    solve : callable
        ``solve(tol) -> (solution, iterations)``.
    ours : bool, default=False
        Our estimator (the row that gets the verdict).
    """

    key: str
    name: str
    solve: Callable[[float], tuple[object, object]]
    ours: bool = False


SEARCH_BUDGET = 900.0  # seconds of untimed tolerance search per method before it gives up


def certified_search(methods: list[Method], evaluate: Callable[[object], dict], target: float, reference: dict,
                     repeats: int, threads: int, tolerances: tuple[float, ...],
                     extra_runs: Callable[[dict], dict[str, Callable[[], object]]] | None = None) -> dict:
    """The tolerance search (untimed) and the round-robin timing of a gap-certified comparison.

    For every method, fits at each tolerance (loosest first) until the returned solution's gap is at
    most ``target`` at every point (the certified setting; the tightest tried when none is). P* per
    point is the smallest primal value seen (``reference``, an ``evaluate`` of a very tight fit, and
    every fit of the search); the uncertified setting is the loosest tolerance whose P - P* is at most
    the target at every point (P - P* <= gap, so it is never tighter). Both settings and the runs of
    ``extra_runs(certified tolerances)`` are then timed round-robin after one untimed warm-up each.

    Parameters
    ----------
    methods : list of Method
        The methods compared.
    evaluate : callable
        ``evaluate(solution)`` -> dict with arrays (or floats) "gap", "primal", "dual".
    target : float
        The gap every method must reach.
    reference : dict
        ``evaluate`` of a reference solution (P* and the dual bracket start from it).
    repeats, threads : int
        Round-robin rounds; threads for the limits.
    tolerances : tuple of float
        The tolerances tried, loosest first.
    extra_runs : callable, optional
        ``extra_runs({key: certified tol}) -> {name: run}``: a breakdown timed in the same rounds.

    Returns
    -------
    dict
        ``entries`` (one per method: certified / uncertified records, times, rounds), ``times`` (all
        runs), ``primal_best`` and ``bracket`` (P* - max D, >= 0 when every gap is a valid bound).
    """
    records: dict[str, list[dict]] = {}
    primal_best = np.array(reference["primal"], dtype=float, ndmin=1)
    dual_best = np.array(reference["dual"], dtype=float, ndmin=1)
    with limit(threads):
        for method in methods:
            records[method.key] = []
            started = time.perf_counter()
            for tol in tolerances:
                if time.perf_counter() - started > SEARCH_BUDGET:
                    print(f"  {method.key}: tolerance search stopped after {SEARCH_BUDGET:.0f} s", file=sys.stderr)
                    break
                solution, iterations = method.solve(tol)
                values = evaluate(solution)
                gap, primal, dual = (np.atleast_1d(np.asarray(values[key], dtype=float))
                                     for key in ("gap", "primal", "dual"))
                records[method.key].append(dict(tol=tol, gap=gap, primal=primal, iterations=iterations))
                primal_best = np.minimum(primal_best, primal)
                dual_best = np.maximum(dual_best, dual)
                if np.max(gap) <= target:
                    break
    entries, runs = [], {}
    for method in methods:
        history = records[method.key]
        for record in history:
            record["subopt"] = float(np.max(record["primal"] - primal_best))
            record["max_gap"] = float(np.max(record["gap"]))
        certified = next((r for r in history if r["max_gap"] <= target), history[-1])
        uncertified = next((r for r in history if r["subopt"] <= target), certified)
        entry = dict(key=method.key, name=method.name, ours=method.ours, target=target, certified=certified,
                     uncertified=uncertified, reached=certified["max_gap"] <= target)
        entries.append(entry)
        for label, record in (("certified", certified), ("uncertified", uncertified)):
            run_key = f"{method.key}@{record['tol']:.0e}"
            entry[f"{label}_run"] = run_key
            runs.setdefault(run_key, limited(threads, lambda solve=method.solve, tol=record["tol"]: solve(tol)))
    breakdown = extra_runs({e["key"]: e["certified"]["tol"] for e in entries}) if extra_runs else {}
    times, rounds = capped_round_robin({**runs, **breakdown}, repeats)
    for entry in entries:
        entry["time"] = times[entry["certified_run"]]
        entry["uncertified_time"] = times[entry["uncertified_run"]]
        entry["rounds"] = rounds[entry["certified_run"]]
        entry["uncertified_rounds"] = rounds[entry["uncertified_run"]]
        entry["repeats"] = repeats
    bracket = float(np.max(primal_best - dual_best))
    return dict(entries=entries, times=times, primal_best=primal_best, bracket=bracket)
