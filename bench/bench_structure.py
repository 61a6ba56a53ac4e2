"""Structure-penalty benchmarks (L2,1 / group lasso over tasks): helpers shared by the structure
scripts, and the driver that writes the "## Structure penalties: L2,1" section of bench/RESULTS.md.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 \\
        python bench/bench_structure.py --repeats 5
    ... python bench/bench_structure.py --append bench/RESULTS.md     # append the section

runs, in turn (each also runs alone with the same options, see its docstring):

* ``bench_structure_shared.py``   -- S1: shared design X (n=2000, d=500, T=20), AR(1) features
  (correlation 0.9), SNR 1, rho_21 = rho_max/100: ours against scikit-learn ``MultiTaskLasso``,
  celer ``mtl_path`` and skglm ``MultiTaskLasso``;
* ``bench_structure_per_task.py`` -- S2: per-task designs X_t (T=20, n_t=200, d=500), same features
  and penalty level: ours against mutar ``GroupLasso`` (per-task designs) and celer / skglm group
  lasso on the block-diagonal design;
* ``bench_structure_path.py``     -- S3: a warm-started path of 50 values rho_max ... rho_max/100 on
  S1's data: ours ``regularization_path`` against scikit-learn ``MultiTaskLasso.path`` (the path
  function that ``MultiTaskLassoCV`` runs on every fold), celer ``mtl_path`` as a further row.

The problem (ours): F(W, b) = (1/N) sum_t 1/2 ||y_t - X_t w_t - b_t||^2 + rho_21 sum_j ||W[:, j]||_2
(``KernelCoupledRegressor(coupling="identity", alpha=0, l21=rho_21)``: with alpha = 0 the coupling
term vanishes), N = sum_t n_t. Every gap is evaluated in numpy with ONE formula
(``l21_duality_gap``) on the scale of scikit-learn's MultiTaskLasso and mutar's GroupLasso,
P = T F with a = T rho_21 (n = N / T samples per task):

    P(W)     = 1/(2n) sum_t ||r_t||^2 + a sum_j ||W[:, j]||_2,   r_t = y~_t - X~_t w_t
    theta_t  = r_t / max(n, max_j ||(x~_tj^T r_t)_t||_2 / a)      (dual feasible: ||X~^T theta||_2,inf <= a)
    D(theta) = 1/(2n) sum_t ||y~_t||^2 - n/2 sum_t ||theta_t - y~_t / n||^2
    gap      = P(W) - D(theta) >= P(W) - P*

(X~_t, y~_t centred per task: the intercepts are at their optimum for W, which is what every method
returns or implies). Target for every method: gap <= 1e-6 ||Y~||_F^2 / n (the scale of
scikit-learn's and celer's ``tol``; equivalently gap / P(0) <= 2e-6).

Threads: our core gets ``n_jobs``; numpy/scipy/scikit-learn (BLAS and OpenMP) are limited with
threadpoolctl; numba (skglm, mutar) is pinned to 1 thread by ``NUMBA_NUM_THREADS=1``, which this
module sets before numba is first imported.
"""

from __future__ import annotations

import os
import sys

if "numba" not in sys.modules:  # numba reads it once, at import
    os.environ["NUMBA_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Callable, Iterator  # noqa: E402

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from common import (  # noqa: E402,F401
    machine_lines, markdown_table, ms, mt, section_driver_main, verdict, wait_for_quiet_machine,
)
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from threadpoolctl import ThreadpoolController  # noqa: E402

GAP_FACTOR = 1e-6  # gap target: GAP_FACTOR * ||Y~||_F^2 / n on the scale of P
TOLERANCES = tuple(10.0 ** -k for k in range(2, 13))  # 1e-2 ... 1e-12, loosest first
RATIO_TARGET = 0.5
AR_CORRELATION = 0.9


_controller: ThreadpoolController | None = None


@contextmanager
def all_threads(threads: int) -> Iterator[None]:
    """numpy/scipy BLAS and every OpenMP runtime (scikit-learn's) limited to ``threads``; one
    controller for all calls, so entering the limit is cheap enough to sit inside a timed call."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    with _controller.limit(limits=threads):
        yield


def limited(threads: int, run: Callable[[], object]) -> Callable[[], object]:
    def call():
        with all_threads(threads):
            return run()

    return call


def fmt_tol(tol: float) -> str:
    return f"{tol:.0e}"


@contextmanager
def quiet() -> Iterator[None]:
    """ConvergenceWarning and the peers' own warnings silenced: every gap is checked in numpy."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield


def numba_threads() -> str:
    try:
        import numba

        return str(numba.config.NUMBA_NUM_THREADS)
    except ImportError:  # pragma: no cover
        return "numba not installed"


# --------------------------------------------------------------------------- data


def ar1_features(rng: np.random.Generator, n: int, d: int, rho: float = AR_CORRELATION) -> np.ndarray:
    """(n, d) C-contiguous: X_0 = e_0, X_j = rho X_{j-1} + sqrt(1 - rho^2) e_j, e iid N(0, 1)."""
    noise = rng.standard_normal((n, d))
    X = np.empty((n, d))
    X[:, 0] = noise[:, 0]
    scale = np.sqrt(1.0 - rho * rho)
    for j in range(1, d):
        X[:, j] = rho * X[:, j - 1] + scale * noise[:, j]
    return X


def planted_coef(rng: np.random.Generator, n_tasks: int, n_features: int, n_rows: int) -> np.ndarray:
    """(T, d) row-sparse W^T: ``n_rows`` features (evenly spread) active in every task, N(0, 1) entries."""
    coef = np.zeros((n_tasks, n_features))
    support = np.linspace(0, n_features - 1, n_rows).round().astype(int)
    coef[:, support] = rng.standard_normal((n_tasks, n_rows))
    return coef


def make_shared(n: int, d: int, T: int, seed: int = 0):
    """Shared design X (n, d) and Y (n, T): Y = X W + 1 b^T + E with ||X W||_F = ||E||_F (SNR 1)."""
    rng = np.random.default_rng(seed)
    X = ar1_features(rng, n, d)
    coef = planted_coef(rng, T, d, max(2, d // 10))
    signal = X @ coef.T
    noise = rng.standard_normal((n, T))
    noise *= np.linalg.norm(signal) / np.linalg.norm(noise)
    Y = signal + noise + rng.standard_normal(T)  # task intercepts: fitting them matters
    return X, Y


def make_per_task(T: int, n_t: int, d: int, seed: int = 0):
    """Per-task X_t (n_t, d), independent AR(1) draws, y_t = X_t w_t + b_t + e_t with
    sum_t ||X_t w_t||^2 = sum_t ||e_t||^2 (SNR 1 over all tasks)."""
    rng = np.random.default_rng(seed)
    Xs = [ar1_features(rng, n_t, d) for _ in range(T)]
    coef = planted_coef(rng, T, d, max(2, d // 10))
    signals = [X @ w for X, w in zip(Xs, coef)]
    noises = [rng.standard_normal(n_t) for _ in range(T)]
    ratio = np.sqrt(sum(float(s @ s) for s in signals) / sum(float(e @ e) for e in noises))
    intercepts = rng.standard_normal(T)
    ys = [s + ratio * e + b for s, e, b in zip(signals, noises, intercepts)]
    return Xs, ys


def centred(Xs: list, ys: list) -> tuple[list, list]:
    return [X - X.mean(axis=0) for X in Xs], [y - y.mean() for y in ys]


# --------------------------------------------------------------------------- the common gap


def l21_duality_gap(Xcs: list, ycs: list, coef: np.ndarray, a: float) -> dict:
    """Duality gap of the L2,1 problem on the scale P(W) = 1/(2n) sum_t ||y~_t - X~_t w_t||^2
    + a sum_j ||W[:, j]||_2 (n = N / T; centred per-task data; coef (T, d)); see the module docstring.

    Shared design: pass ``[Xc] * T`` and the columns of Y~. Returns dict(gap, primal, dual, target)
    with target = GAP_FACTOR ||Y~||_F^2 / n.
    """
    coef = np.asarray(coef, dtype=np.float64)
    T = len(Xcs)
    n = sum(X.shape[0] for X in Xcs) / T
    residuals = [y - X @ w for X, y, w in zip(Xcs, ycs, coef)]
    correlations = np.array([X.T @ r for X, r in zip(Xcs, residuals)])  # (T, d): x~_tj^T r_t
    dual_norm = float(np.max(np.linalg.norm(correlations, axis=0)))
    scale = max(n, dual_norm / a)
    norm_y2 = sum(float(y @ y) for y in ycs)
    primal = 0.5 / n * sum(float(r @ r) for r in residuals) + a * float(np.sum(np.linalg.norm(coef, axis=0)))
    dual = 0.5 / n * norm_y2 - 0.5 * n * sum(float(np.sum((r / scale - y / n) ** 2))
                                               for r, y in zip(residuals, ycs))
    return dict(gap=primal - dual, primal=primal, dual=dual, target=GAP_FACTOR * norm_y2 / n)


# --------------------------------------------------------------------------- ours


def ours_estimator(rho: float, tol: float, threads: int, max_iter: int = 100_000, **params):
    return mt.KernelCoupledRegressor(coupling="identity", alpha=0.0, l21=rho, tol=tol, max_iter=max_iter,
                                     n_jobs=threads, **params)


def fit_ours(X, y, rho: float, tol: float, threads: int, max_iter: int = 100_000, **params):
    with quiet():
        return ours_estimator(rho, tol, threads, max_iter, **params).fit(X, y)


# --------------------------------------------------------------------------- search, timing, tables


@dataclass
class Method:
    """One method of a workload: ``solve(tol)`` returns (solution, iterations); the workload's
    ``evaluate(solution)`` turns a solution into gap/primal/dual arrays (one entry per fit; a path
    has one per penalty value)."""

    key: str
    name: str
    solve: Callable[[float], tuple[object, object]]
    ours: bool = False
    short: str = ""


SLOW_SECONDS = 30.0  # a run whose warm-up takes longer gets at most SLOW_REPEATS timed rounds
SLOW_REPEATS = 3
SEARCH_BUDGET = 900.0  # seconds of untimed tolerance search per method before it gives up


def capped_round_robin(runs: dict[str, Callable[[], object]], repeats: int) -> tuple[dict, dict]:
    """Median wall time (s) of each run over round-robin rounds after one untimed warm-up each.

    Every run gets ``repeats`` rounds, except runs whose warm-up took over SLOW_SECONDS: they sit
    out the rounds after the first min(repeats, SLOW_REPEATS). Returns (times, rounds).
    """
    warm = {}
    for name, run in runs.items():
        start = time.perf_counter()
        run()
        warm[name] = time.perf_counter() - start
    rounds = {name: repeats if warm[name] <= SLOW_SECONDS else min(repeats, SLOW_REPEATS) for name in runs}
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for index in range(repeats):
        for name, run in runs.items():
            if index < rounds[name]:
                start = time.perf_counter()
                run()
                samples[name].append(time.perf_counter() - start)
    return {name: float(np.median(values)) for name, values in samples.items()}, rounds


def search_and_time(methods: list[Method], evaluate: Callable[[object], dict], target: float,
                    reference: dict, repeats: int, threads: int,
                    extra_runs: Callable[[dict], dict[str, Callable[[], object]]] | None = None) -> dict:
    """The tolerance search (untimed) and the round-robin timing of a workload.

    For every method, fits at tol = 1e-2, 1e-3, ... (loosest first) until the returned solution's
    common gap is <= ``target`` at every point (the certified setting; the tightest tried when none
    is). P* per point is the smallest primal value seen (``reference``: ``evaluate`` of ours at a very
    tight tolerance, and every fit of the search); the "uncertified" setting is the loosest tolerance
    whose P - P* <= target at every point (P - P* <= gap, so it is never tighter). Both settings
    (one run when they coincide) and the runs of ``extra_runs(certified_tols)`` (a breakdown, given
    {method key: certified tol}) are then timed round-robin, ``repeats`` rounds after one untimed
    warm-up each (numba JIT compiles there, if not already in the search).
    """
    records: dict[str, list[dict]] = {}
    primal_best = np.array(reference["primal"], dtype=float, ndmin=1)
    dual_best = np.array(reference["dual"], dtype=float, ndmin=1)
    with all_threads(threads):
        for method in methods:
            records[method.key] = []
            started = time.perf_counter()
            for tol in TOLERANCES:
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
        entry = dict(key=method.key, name=method.name, short=method.short or method.key, ours=method.ours,
                     target=target, certified=certified, uncertified=uncertified,
                     reached=certified["max_gap"] <= target)
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
    bracket = float(np.max(primal_best - dual_best))  # >= 0 when every gap is a valid bound
    return dict(entries=entries, times=times, primal_best=primal_best, bracket=bracket)


def _fastest_peer(entries: list[dict], reference: str, time_key: str, reached_key: str) -> dict | None:
    peers = [e for e in entries if not e["ours"] and e[reached_key]]
    if reference:
        peers = [e for e in peers if e["key"] == reference] or peers
    return min(peers, key=lambda e: e[time_key]) if peers else None


def _setting(tol: float, rounds: int, repeats: int) -> str:
    return f"tol={fmt_tol(tol)}" + ("" if rounds >= repeats else f" ({rounds} timed rounds: slow)")


def _iterations(value: object) -> str:
    return "" if value is None else str(value)


def result_tables(entries: list[dict], reference: str = "", reference_label: str = "fastest peer") -> dict:
    """The certified table (with the verdict of ours), the uncertified table, and the summary."""
    for e in entries:
        e["uncertified_reached"] = e["uncertified"]["subopt"] <= e["target"]
    fastest = _fastest_peer(entries, reference, "time", "reached")
    header = ["method", "time (ms)", "gap (common scale)", "gap / target", "P − P*", "setting", "iterations",
              f"× {reference_label}", f"target ≤ {RATIO_TARGET} ×"]
    rows, summary = [], dict(status="MISS", ratio=float("nan"), fastest="none", time=float("nan"),
                             fastest_time=float("nan"))
    for e in entries:
        record = e["certified"]
        ratio = e["time"] / fastest["time"] if fastest else float("nan")
        status = ""
        if e["ours"]:
            status = verdict(ratio, RATIO_TARGET) if (fastest and e["reached"]) else "MISS"
            summary = dict(status=status, ratio=ratio, fastest=fastest["short"] if fastest else "none",
                           time=e["time"], fastest_time=fastest["time"] if fastest else float("nan"))
        gap_cell = f"{record['max_gap']:.1e}" + ("" if e["reached"] else " (target not reached)")
        rows.append([f"**{e['name']}**" if e["ours"] else e["name"], ms(e["time"]), gap_cell,
                     f"{record['max_gap'] / e['target']:.2g}", f"{record['subopt']:.1e}",
                     _setting(record["tol"], e["rounds"], e["repeats"]), _iterations(record["iterations"]),
                     f"{ratio:.2f}", f"**{status} ({ratio:.2f} ×)**" if status else ""])
    fastest_u = _fastest_peer(entries, reference, "uncertified_time", "uncertified_reached")
    rows_u = []
    for e in entries:
        record = e["uncertified"]
        ratio = e["uncertified_time"] / fastest_u["uncertified_time"] if fastest_u else float("nan")
        if e["ours"]:
            summary["uncertified_ratio"] = ratio
            summary["uncertified_fastest"] = fastest_u["short"] if fastest_u else "none"
        rows_u.append([f"**{e['name']}**" if e["ours"] else e["name"], ms(e["uncertified_time"]),
                       f"{record['subopt']:.1e}", f"{record['max_gap']:.1e}",
                       _setting(record["tol"], e["uncertified_rounds"], e["repeats"]),
                       f"{ratio:.2f}"])
    header_u = ["method", "time (ms)", "P − P*", "gap (common scale)", "setting", f"× {reference_label}"]
    return dict(table=markdown_table(header, rows), uncertified_table=markdown_table(header_u, rows_u),
                summary=summary)


def verdict_lines(label: str, summary: dict, reference_label: str = "the fastest peer") -> list[str]:
    ratio = summary["ratio"]
    line = (f"**Result {label}: {summary['status']}** — ours {ratio:.2f} × {reference_label} "
            f"(ours {ms(summary['time'])} ms against {summary['fastest']} {ms(summary['fastest_time'])} ms; target ≤ "
            f"{RATIO_TARGET} ×). Without the certificate (each method at its loosest tolerance with P − P* ≤ the "
            f"target): {summary.get('uncertified_ratio', float('nan')):.2f} × ({summary.get('uncertified_fastest')}).")
    return [line]


def limiting_note(breakdown: dict, summary: dict) -> str:
    """One paragraph from the timing breakdown: what bounds our fit (always printed; stressed on a MISS)."""
    fit = summary.get("time", float("nan"))
    parts = [f"{label} {ms(value)} ms ({value / fit:.0%} of ours)" for label, value in breakdown.items()]
    lead = "**Target missed.** What limits ours" if summary.get("status") == "MISS" else "Timing breakdown of ours"
    budget = RATIO_TARGET * summary.get("fastest_time", float("nan"))
    return (f"{lead} (1 thread, medians of the same round-robin rounds): " + "; ".join(parts)
            + f". The target needs ours ≤ {ms(budget)} ms.")


# --------------------------------------------------------------------------- the section


def reproduce_line(repeats: int, threads: int) -> str:
    extra = "" if threads == 1 else f" --threads {threads}"
    return ("* reproduce: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 "
            f"python bench/bench_structure.py --repeats {repeats}{extra}` (add `--append bench/RESULTS.md` to "
            "append this section); each workload alone, same environment and options: "
            "`python bench/bench_structure_shared.py` (S1), `python bench/bench_structure_per_task.py` (S2), "
            "`python bench/bench_structure_path.py` (S3); `--quick` for a smoke run at tiny sizes.")


def preamble(repeats: int, threads: int) -> list[str]:
    return [
        "Problem: F(W, b) = (1/N) Σ_t ½‖y_t − X_t w_t − b_t‖² + ρ₂₁ Σ_j ‖row_j(W)‖₂ (ours: "
        "`KernelCoupledRegressor(coupling=\"identity\", alpha=0, l21=ρ₂₁)`; N = Σ_t n_t). Every gap is computed "
        "in numpy with one formula on the scale of scikit-learn's `MultiTaskLasso` and mutar's `GroupLasso`, "
        "P = T·F with a = T ρ₂₁ and n = N/T samples per task, on per-task centred data (intercepts at their "
        "optimum): P(W) = 1/(2n) Σ_t ‖r_t‖² + a Σ_j ‖W_j‖₂ with r_t = ỹ_t − X̃_t w_t; θ_t = r_t / max(n, "
        "max_j ‖(x̃_tjᵀ r_t)_t‖₂ / a) (dual feasible); D(θ) = 1/(2n) Σ_t ‖ỹ_t‖² − n/2 Σ_t ‖θ_t − ỹ_t/n‖²; "
        f"gap = P − D ≥ P − P*. Target for every method: gap ≤ {GAP_FACTOR:.0e} ‖Ỹ‖²_F / n (the scale of "
        "scikit-learn's and celer's `tol`; equivalently gap/P(0) ≤ 2e-6). Each method runs at the loosest "
        "tolerance of 1e-2 … 1e-12 whose returned solution meets it (found untimed); a peer that never meets it "
        "is shown but not used as the reference. P − P*: the primal suboptimality, P* being the smallest P seen "
        "on that problem (ours at tol=1e-13 and every fit of the search; the bracket P* − max D over all dual "
        "points is printed). A second table times every method at its loosest tolerance with P − P* ≤ the same "
        "target, without the certificate: celer and skglm certify their own stops with better dual points "
        "(extrapolated residuals) or a KKT criterion, so the common residual-based certificate can ask them "
        "for tolerances well below the suboptimality they reach.",
        "",
        "Inputs: ours gets the raw data and fits the intercepts (`fit_intercept=True`, its centring timed). Every "
        "peer gets per-task centred, Fortran-ordered float64 arrays prepared untimed (block-diagonal CSC for the "
        "group-lasso peers) and `fit_intercept=False`: the same problem, with the preparation free for the peers. "
        f"Times: medians of {repeats} round-robin rounds after one untimed warm-up fit per configuration (numba "
        "JIT compilation of skglm/mutar happens there and during the tolerance search; a configuration whose "
        f"warm-up takes over {SLOW_SECONDS:.0f} s is timed in at most {SLOW_REPEATS} rounds, marked in its row; "
        f"a tolerance search that passes {SEARCH_BUDGET:.0f} s stops). Threads: "
        f"{threads} (ours `n_jobs`; BLAS and OpenMP limited with threadpoolctl; numba threads "
        f"{numba_threads()}, from `NUMBA_NUM_THREADS`).",
    ]


def run(repeats: int = 5, threads: int = 1, quick: bool = False, max_wait: float = 600.0) -> dict:
    """Runs S1-S3 and returns {"section": markdown, "summary_rows": [...], "results": {...}}."""
    import bench_structure_path
    import bench_structure_per_task
    import bench_structure_shared

    start = time.perf_counter()
    background, results = {}, {}
    workloads = [
        ("shared", lambda: bench_structure_shared.run(repeats=repeats, threads=threads, quick=quick)),
        ("per_task", lambda: bench_structure_per_task.run(repeats=repeats, threads=threads, quick=quick)),
        ("path", lambda: bench_structure_path.run(repeats=repeats, threads=threads, quick=quick)),
    ]
    for key, work in workloads:
        background[key] = wait_for_quiet_machine(0 if quick else max_wait)
        print(f"structure {key} (other processes: {background[key]:.0%} of the CPUs) ...", file=sys.stderr,
              flush=True)
        t0 = time.perf_counter()
        results[key] = work()
        print(f"  done in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - start
    summary_rows = [row for key, _ in workloads for row in results[key]["summary_rows"]]
    busy = ", ".join(f"{key} {value:.0%}" for key, value in background.items())
    section = "\n".join([
        "## Structure penalties: L2,1 (group lasso over tasks)",
        "",
        f"Written by `bench/bench_structure.py` from one run (about {elapsed:.0f} s).",
        "",
        *preamble(repeats, threads),
        "",
        *machine_lines(),
        f"* numba threads: {numba_threads()}; OMP_NUM_THREADS {os.environ.get('OMP_NUM_THREADS', 'unset')}",
        f"* CPU used by other processes just before each workload (from /proc/stat): {busy}",
        reproduce_line(repeats, threads),
        "",
        "### Structure summary",
        "",
        markdown_table(["workload", "measured", "target", "result"], summary_rows),
        "",
        results["shared"]["section"],
        "",
        results["per_task"]["section"],
        "",
        results["path"]["section"],
        "",
    ])
    return {"section": section, "summary_rows": summary_rows, "elapsed": elapsed, "results": results}


def workload_main(run_workload: Callable[..., dict], description: str) -> None:
    """Standalone entry point of one workload script (the header lines, then its section)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="timed round-robin rounds (median)")
    parser.add_argument("--threads", type=int, default=1, help="threads (ours n_jobs, BLAS/OpenMP limits)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and at most 2 repeats: a smoke run")
    parser.add_argument("--max-wait", type=float, default=120.0, help="seconds to wait for a quiet machine")
    args = parser.parse_args()
    if args.quick:
        args.repeats = min(args.repeats, 2)
    busy = wait_for_quiet_machine(0 if args.quick else args.max_wait)
    print("\n".join(machine_lines()))
    print(f"* numba threads: {numba_threads()}")
    print(f"* CPU used by other processes before the run: {busy:.0%}")
    print(f"* threads: {args.threads}; repeats: {args.repeats} (median)\n")
    print("\n".join(preamble(args.repeats, args.threads)) + "\n")
    print(run_workload(repeats=args.repeats, threads=args.threads, quick=args.quick)["section"])


def main() -> int:
    return section_driver_main(run, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
