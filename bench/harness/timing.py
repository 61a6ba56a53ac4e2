"""Wall-clock timing: medians of repeats, methods interleaved round-robin.

Every figure of the suite is a median of timed repeats (``time.perf_counter``) after one untimed
warm-up. Methods compared with each other are timed round-robin so that slow drifts of a shared
virtual machine (frequency, other load, the state of the heap) hit them alike.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

Run = Callable[[], object]

# Round-robin rounds: fast methods get more rounds, up to this many (or the time budget).
MAX_ROUNDS = 51
# A run whose warm-up takes longer than SLOW_SECONDS gets at most SLOW_REPEATS timed rounds.
SLOW_SECONDS = 30.0
SLOW_REPEATS = 3


def _timed(run: Run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def timings(run: Run, repeats: int) -> np.ndarray:
    """Wall times of repeated calls.

    Parameters
    ----------
    run : callable
        The work to time; called once untimed first (warm-up).
    repeats : int
        Number of timed calls.

    Returns
    -------
    ndarray of shape (repeats,)
        Seconds per call.
    """
    run()
    return np.array([_timed(run) for _ in range(repeats)])


def median_time(run: Run, repeats: int) -> float:
    """Median wall time (s) of ``run()`` over ``repeats`` calls after one warm-up."""
    return float(np.median(timings(run, repeats)))


def interleaved_times(runs: dict[str, Run], repeats: int, budget: float = 3.0) -> dict[str, float]:
    """Median wall time (s) of each run, timed round-robin, fast runs for more rounds.

    Parameters
    ----------
    runs : dict of str to callable
        The methods compared; each gets one untimed warm-up.
    repeats : int
        Minimum number of rounds.
    budget : float, default=3.0
        Seconds of timing to aim for: ``max(repeats, min(MAX_ROUNDS, budget / round time))`` rounds.

    Returns
    -------
    dict of str to float
        Median seconds per method.
    """
    warm = {name: _timed(run) for name, run in runs.items()}
    round_time = max(sum(warm.values()), 1e-6)
    rounds = max(repeats, min(MAX_ROUNDS, int(budget / round_time)))
    return round_robin(runs, rounds, warm_up=False)


def round_robin(runs: dict[str, Run], repeats: int, warm_up: bool = True) -> dict[str, float]:
    """Median wall time (s) of each run over exactly ``repeats`` round-robin rounds.

    Parameters
    ----------
    runs : dict of str to callable
        The methods compared.
    repeats : int
        Number of rounds.
    warm_up : bool, default=True
        Run each method once untimed first; False when the caller has just run them.

    Returns
    -------
    dict of str to float
        Median seconds per method.
    """
    if warm_up:
        for run in runs.values():
            run()
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            samples[name].append(_timed(run))
    return {name: float(np.median(values)) for name, values in samples.items()}


def capped_round_robin(runs: dict[str, Run], repeats: int) -> tuple[dict[str, float], dict[str, int]]:
    """Round-robin timing in which very slow runs sit out the later rounds.

    Every run gets ``repeats`` rounds after one untimed warm-up, except runs whose warm-up took
    over SLOW_SECONDS: they are timed in the first ``min(repeats, SLOW_REPEATS)`` rounds only.

    Returns
    -------
    times : dict of str to float
        Median seconds per run.
    rounds : dict of str to int
        Timed rounds per run.
    """
    warm = {name: _timed(run) for name, run in runs.items()}
    rounds = {name: repeats if warm[name] <= SLOW_SECONDS else min(repeats, SLOW_REPEATS) for name in runs}
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for index in range(repeats):
        for name, run in runs.items():
            if index < rounds[name]:
                samples[name].append(_timed(run))
    return {name: float(np.median(values)) for name, values in samples.items()}, rounds


def timed_once(run: Callable[[], object]) -> tuple[object, float]:
    """``run()``'s value and its wall time (s), for work too slow to repeat."""
    start = time.perf_counter()
    value = run()
    return value, time.perf_counter() - start
