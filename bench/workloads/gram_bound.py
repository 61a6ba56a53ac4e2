"""Workloads 2 and 5: the Gram-bound case, T=50, n_t=4000, d=100 (chain coupling, alpha=1).

2. Our whole fit (``auto``) against the time numpy takes just to form the 50 Gram matrices with as
   many BLAS threads: reading the data once is the floor of any exact method. Target <= 1.5x.
5. Our fit with 2 threads against the same fit with 1 thread (numpy's 1- and 2-thread Gram times for
   comparison). Target >= 1.6x faster.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import multitask as mt

from ..adapters import ours
from ..harness.threads import limited
from ..harness.timing import interleaved_times
from ..harness.workload import Context, Outcome, Part, ms, table, verdict
from ..problems.least_squares import Problem, gaussian_tasks

NAME, IDS, GROUP = "gram_bound", ("2", "5", "W2", "W5"), "core"
GRAM_TARGET = 1.5
SPEEDUP_TARGET = 1.6
TOL = 1e-8  # the estimator's default


def make_problem(quick: bool) -> Problem:
    T, n, d = (8, 500, 20) if quick else (50, 4000, 100)
    return gaussian_tasks(T, n, d, mt.coupling.chain(T, ridge=0.1), alpha=1.0)


def numpy_grams(problem: Problem) -> list:
    """The plain Grams X_t^T X_t (syrk)."""
    return [X.T @ X for X in problem.Xs]


def run(context: Context, output_folder: Path) -> Outcome:
    """Measure workloads 2 and 5."""
    problem, threads, repeats = make_problem(context.quick), context.threads, context.repeats
    T, d = problem.shape
    model = ours.fit_regressor(problem, "auto", TOL, threads)
    outputs = np.empty((T, d, d))
    core_only = ours.core_regressor_run(problem, model.solver_, TOL, threads)
    runs = {
        "grams": lambda: numpy_grams(problem),
        "preallocated": lambda: [np.matmul(X.T, X, out=out) for X, out in zip(problem.Xs, outputs)],
        "centred": problem.centred_statistics,
        "fit": lambda: ours.fit_regressor(problem, "auto", TOL, threads),
        "first_iteration": lambda: ours.fit_regressor(problem, model.solver_, 1e-30, threads, max_iter=1),
    }
    if core_only is not None:
        runs = {"core": core_only, **runs}
    times = interleaved_times({key: limited(threads, run, blas_only=True) for key, run in runs.items()}, repeats)
    grams, centred, fit, first = (times[k] for k in ("grams", "centred", "fit", "first_iteration"))
    preallocated, core_time = times["preallocated"], times.get("core")
    # Workload 5: 1 and 2 threads, ours and numpy's Grams, round-robin.
    scaling_runs = {(who, count): limited(count, run, blas_only=True)
                    for count in (1, 2)
                    for who, run in (("ours", lambda count=count: ours.fit_regressor(problem, "auto", TOL, count)),
                                     ("numpy", lambda: numpy_grams(problem)))}
    scaling = interleaved_times(scaling_runs, repeats)
    speedup = scaling[("ours", 1)] / scaling[("ours", 2)]
    numpy_speedup = scaling[("numpy", 1)] / scaling[("numpy", 2)]
    gram_ratio = fit / grams
    gram_status = verdict(gram_ratio, GRAM_TARGET)
    speedup_status = verdict(speedup, SPEEDUP_TARGET, at_most=False)
    outcome = Outcome()
    rows = [
        [f"numpy: the {T} Grams X_t.T @ X_t only", ms(grams), "1.00", ""],
        ["numpy: the same into preallocated arrays (`out=`)", ms(preallocated), f"{preallocated / grams:.2f}", ""],
        ["numpy: centred Grams and right-hand sides (what the fit needs)", ms(centred), f"{centred / grams:.2f}", ""],
        ["ours stopped after 1 iteration (statistics + set-up)", ms(first), f"{first / grams:.2f}", ""],
        [f"**multitask whole fit** (`auto` chose `{model.solver_}`, {model.n_iter_} iterations, tol={TOL:.0e})",
         ms(fit), f"{gram_ratio:.2f}", f"**{gram_status}**"],
    ]
    if core_time:
        rows.append(["the same fit as a direct call of the C++ core (no Python input checks)", ms(core_time),
                     f"{core_time / grams:.2f}", ""])
        outcome.blocks.append("opt_python_layer")
    outcome.tables["gram"] = table(["what", "time (ms)", "× numpy Grams", f"target ≤ {GRAM_TARGET}"], rows)
    outcome.tables["scaling"] = table(["threads", "ours (ms)", "numpy Grams (ms)", "ours / numpy Grams"], [
        [count, ms(scaling[("ours", count)]), ms(scaling[("numpy", count)]),
         f"{scaling[('ours', count)] / scaling[('numpy', count)]:.2f}"] for count in (1, 2)
    ] + [["speed-up 1 → 2", f"**{speedup:.2f}×** (target ≥ {SPEEDUP_TARGET}: **{speedup_status}**)",
          f"{numpy_speedup:.2f}×", ""]])
    if core_only is not None:
        core_runs = {count: ours.core_regressor_run(problem, model.solver_, TOL, count) for count in (1, 2)}
        core_times = interleaved_times(core_runs, repeats)
        core_speedup = core_times[1] / core_times[2]
        outcome.blocks.append("opt_core_scaling")
        outcome.blocks.append("opt_serial_python" if core_speedup > speedup + 0.05 else "opt_full_stop")
        outcome.figures.update(core_speedup=core_speedup, core_1_ms=core_times[1] * 1e3,
                               core_2_ms=core_times[2] * 1e3)
    outcome.figures.update(
        T=T, n_t=problem.Xs[0].shape[0], d=d, alpha=problem.alpha, threads=threads, gram_target=GRAM_TARGET,
        speedup_target=SPEEDUP_TARGET, gram_ratio=gram_ratio, gram_status=gram_status, speedup=speedup,
        speedup_status=speedup_status, numpy_speedup=numpy_speedup, first_vs_grams=first / grams,
        centred_vs_grams=centred / grams, n_iter=model.n_iter_, iterations_vs_grams=max(0.0, fit - first) / grams,
        python_ms=(fit - (core_time or 0.0)) * 1e3, python_vs_grams=(fit - (core_time or 0.0)) / grams)
    outcome.verdicts.update({"2": gram_status, "5": speedup_status})
    outcome.summary += [Part("summary_2"), Part("summary_5")]
    return outcome
