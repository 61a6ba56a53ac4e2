"""Workload 4: School (139 tasks, d=28 raw features), mean coupling mu=0.1, alpha=0.01.

Ours (auto) against a dense numpy/scipy Cholesky solve of the (dT, dT) system
(Grams, system, cho_factor/cho_solve all timed), reaching the same optimum:
each of our iterative solvers runs at the loosest tol of 1e-4 ... 1e-14 that
reaches a relative objective gap <= 1e-10 (F evaluated on the data in numpy).
Target: ours (auto) <= 0.02x the dense solve.
"""

from __future__ import annotations

from common import (GAP_TARGET, Problem, blas_threads, core_fit, fit_ours, interleaved_times, loosest_tolerance, main,
                    markdown_table, median_time, ms, mt, verdict)

TARGET = 0.02
ALPHA = 1e-2
SOLVERS = ("auto", "cg", "bcd", "gradient", "exact")


def load_problem(quick: bool) -> Problem:
    Xs, ys = mt.datasets.load_school()
    if quick:
        Xs, ys = Xs[:10], ys[:10]
    return Problem(list(Xs), list(ys), mt.coupling.mean_regularized(len(Xs), mu=0.1), alpha=ALPHA)


def run(repeats: int = 5, threads: int = 1, quick: bool = False) -> dict:
    problem = load_problem(quick)
    T, d = problem.shape
    with blas_threads(threads):
        reference = problem.dense_cholesky_solution()
        optimum = problem.objective(reference, problem.optimal_intercepts(reference))
        results = {}
        for solver in SOLVERS:  # tolerances first (untimed)
            def gap_at(tol):
                model = fit_ours(problem, solver, tol, threads)
                return problem.gap(model.coef_, model.intercept_, optimum)

            tol, _ = loosest_tolerance(gap_at)
            model = fit_ours(problem, solver, tol, threads)
            results[solver] = dict(gap=problem.gap(model.coef_, model.intercept_, optimum), tol=tol,
                                   iterations=model.n_iter_, ran=model.solver_)
        auto = results["auto"]
        # The fast ones round-robin; the slow ones (> 100 ms) on their own.
        runs = {solver: (lambda solver=solver: fit_ours(problem, solver, results[solver]["tol"], threads))
                for solver in ("auto", "cg", "bcd")}
        runs["floor"] = problem.centred_statistics
        runs["first_iteration"] = lambda: fit_ours(problem, auto["ran"], 1e-30, threads, max_iter=1)
        core_only = core_fit(problem, auto["ran"], auto["tol"], threads)
        if core_only is not None:
            runs["core"] = core_only
        times = interleaved_times(runs, repeats)
        for solver in ("gradient", "exact"):
            times[solver] = median_time(lambda: fit_ours(problem, solver, results[solver]["tol"], threads), repeats)
        dense = median_time(problem.dense_cholesky_solution, repeats)
        for solver in SOLVERS:
            results[solver]["seconds"] = times[solver]
        floor, first_iteration = times["floor"], times["first_iteration"]
    rows = [["numpy/scipy dense Cholesky of the dT system", ms(dense, 2), "0 (reference)", "", "", "1.000", ""]]
    for solver, r in results.items():
        ratio = r["seconds"] / dense
        status = verdict(ratio, TARGET) if r["gap"] <= GAP_TARGET else "MISS (gap)"
        name = f"**multitask `auto`** (chose `{r['ran']}`)" if solver == "auto" else f"multitask `{solver}`"
        rows.append([name, ms(r["seconds"], 2), f"{r['gap']:.1e}", f"tol={r['tol']:.0e}", r["iterations"],
                     f"{ratio:.4f}", status if solver == "auto" else f"({status})"])
    table = markdown_table(["method", "time (ms)", "relative gap", "setting", "iterations", "× dense",
                            f"target ≤ {TARGET}"], rows)
    ratio = auto["seconds"] / dense
    status = verdict(ratio, TARGET) if auto["gap"] <= GAP_TARGET else "MISS"
    limits = (f"numpy forms the centred statistics of all {T} schools in {ms(floor, 2)} ms; our `{auto['ran']}` "
              f"stopped after one iteration takes {ms(first_iteration, 2)} ms (statistics + set-up) and "
              f"{ms(auto['seconds'], 2)} ms to converge ({auto['iterations']} iterations), so "
              f"{max(0.0, 1 - first_iteration / auto['seconds']):.0%} of the fit is iterations."
              + (f" The same fit as a direct call of the C++ core takes {ms(times['core'], 2)} ms: the Python layer "
                 f"(input checks of {2 * T} arrays, coupling validation) costs "
                 f"{ms(auto['seconds'] - times['core'], 2)} ms." if "core" in times else "")
              + f" The dense solve is "
              f"dominated by the ({d * T}, {d * T}) Cholesky. `gradient` works on the data (O(N d) per step) and "
              f"needs {results['gradient']['iterations']} steps on these unscaled features; `exact` forms and "
              f"factors the dense system itself ({results['exact']['seconds'] / dense:.2f} × numpy's dense solve).")
    section = (
        f"## 4. School: {T} tasks, d={d} (raw features), mean coupling (μ=0.1), α={ALPHA}\n\n"
        f"Target: ours (`auto`) ≤ {TARGET} × a dense numpy/scipy solve of the (dT, dT) = ({d * T}, {d * T}) "
        f"system (Grams included), same optimum (relative objective gap ≤ 1e-10; tolerances chosen as in "
        f"workload 1). Threads: {threads}.\n\n{table}\n\n"
        f"**Result: {status}** — {ratio:.4f} × the dense solve.\n\nWhat limits it: {limits}"
    )
    return {"section": section, "ratio": ratio, "status": status}


if __name__ == "__main__":
    main(run, __doc__)
