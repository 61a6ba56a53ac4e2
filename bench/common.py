"""Shared helpers of the Python benchmarks: timing, thread control, environment, references.

Every figure is the median of several timed repeats (``time.perf_counter``,
after one untimed warm-up), and every speed is reported as a ratio against a
reference measured in the same run with the same thread count. Methods that
are compared with each other are timed round-robin (``interleaved_times``), so
that drifts of a shared virtual machine hit them alike.

Threads: our core gets its thread count explicitly (``n_jobs``, which the core
passes to OpenMP as ``num_threads``); numpy/scipy get theirs through
``threadpoolctl`` (a ThreadpoolController's ``limit(threads, user_api="blas")``).

OpenBLAS: some machines here set ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` for
old OpenBLAS builds, which makes numpy's OpenBLAS run a slower kernel. Run the
benchmarks through ``bench/run_all.sh`` (``env -u OPENBLAS_CORETYPE -u
OPENBLAS_L2_SIZE``) for a fair reference; every script prints the kernel that
ran (``threadpoolctl.threadpool_info()``: internal_api, version, architecture).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import scipy
import scipy.linalg
from threadpoolctl import ThreadpoolController, threadpool_info

OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
GAP_TARGET = 1e-10


def import_multitask():
    """``import multitask``, retried for a few minutes while the core is being rebuilt."""
    deadline = time.monotonic() + 300
    while True:
        try:
            import multitask
            from multitask._core import core  # noqa: F401

            return multitask
        except ImportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(20)


mt = import_multitask()
from multitask._core import core  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402


# --------------------------------------------------------------------------- timing


def timings(run: Callable[[], object], repeats: int) -> np.ndarray:
    """Wall times (s) of ``repeats`` calls of ``run()``, after one untimed warm-up call."""
    run()
    times = np.empty(repeats)
    for i in range(repeats):
        start = time.perf_counter()
        run()
        times[i] = time.perf_counter() - start
    return times


def median_time(run: Callable[[], object], repeats: int) -> float:
    """Median wall time (s) of ``run()`` over ``repeats`` calls (after one warm-up)."""
    return float(np.median(timings(run, repeats)))


def interleaved_times(runs: dict[str, Callable[[], object]], repeats: int, budget: float = 3.0) -> dict[str, float]:
    """Median wall time (s) of each of ``runs``, timed round-robin so that slow drifts of the
    machine (frequency, other load, the state of the heap) affect every method alike.

    Each method gets one untimed warm-up; then at least ``repeats`` rounds, more for fast
    methods (up to 51 rounds, or about ``budget`` seconds in all).
    """
    warm = {}
    for name, run in runs.items():
        start = time.perf_counter()
        run()
        warm[name] = time.perf_counter() - start
    round_time = max(sum(warm.values()), 1e-6)
    rounds = max(repeats, min(51, int(budget / round_time)))
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(values)) for name, values in times.items()}


_controller: ThreadpoolController | None = None


@contextmanager
def blas_threads(threads: int) -> Iterator[None]:
    """numpy/scipy BLAS limited to ``threads`` (our core's threads are passed as n_jobs).

    One ThreadpoolController, made at first use, serves every call: entering a
    limit then costs microseconds (a fresh ``threadpool_limits`` rescans the
    loaded libraries, about 3 ms), so it may sit inside a timed function.
    """
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    with _controller.limit(limits=threads, user_api="blas"):
        yield


def with_blas_threads(threads: int, run: Callable[[], object]) -> Callable[[], object]:
    """``run`` wrapped to execute with numpy/scipy BLAS limited to ``threads``."""
    def limited():
        with blas_threads(threads):
            return run()

    return limited


def ms(seconds: float, digits: int = 1) -> str:
    return f"{seconds * 1e3:.{digits}f}"


# --------------------------------------------------------------------------- environment


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_kernels() -> str:
    """The BLAS libraries loaded, as threadpoolctl reports them (kernel = architecture)."""
    pools = []
    for pool in threadpool_info():
        if pool["user_api"] != "blas":
            continue
        # The package that ships the library: numpy.libs/, scipy.libs/, or another site-packages entry.
        parts = pool["filepath"].split(os.sep)
        owner = next((part.removesuffix(".libs") for part in parts if part.endswith(".libs")), pool["filepath"])
        pools.append(f"{owner}: {pool['internal_api']} {pool.get('version')}, kernel {pool.get('architecture')}")
    return "; ".join(pools) or "none found"


def openblas_environment() -> str:
    found = {name: os.environ[name] for name in OPENBLAS_VARIABLES if name in os.environ}
    return ", ".join(f"{k}={v}" for k, v in found.items()) if found else "unset"


def build_info() -> str:
    info = core.build_info
    return ", ".join(f"{key}={value}" for key, value in info.items())


def machine_lines() -> list[str]:
    """Markdown bullet lines describing the machine and software that ran."""
    return [
        f"* date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"* CPU: {cpu_model()}, {os.cpu_count()} logical cores",
        f"* Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}",
        f"* BLAS kernels (threadpoolctl): {blas_kernels()}",
        f"* OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE in this process: {openblas_environment()}",
        f"* multitask core build_info: {build_info()}",
    ]


def busy_fraction(interval: float = 1.0) -> float:
    """Fraction of all CPUs busy over ``interval`` seconds (from /proc/stat; nan if unavailable).

    Measured while this process sleeps, so it is the load of everything else.
    """
    def sample():
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [float(v) for v in stat.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
        return sum(fields), idle

    try:
        total0, idle0 = sample()
        time.sleep(interval)
        total1, idle1 = sample()
    except OSError:
        return float("nan")
    total = total1 - total0
    return 1.0 - (idle1 - idle0) / total if total > 0 else float("nan")


def wait_for_quiet_machine(max_wait: float, threshold: float = 0.15, verbose: bool = True) -> float:
    """Waits (up to ``max_wait`` s) until other processes use < ``threshold`` of the CPUs.

    Returns the last busy fraction measured. Other work on a 2-core machine
    (a compiler, a test run) distorts every timing, the threaded ones most.
    """
    deadline = time.monotonic() + max_wait
    busy = busy_fraction()
    while not busy < threshold and time.monotonic() < deadline:
        if verbose:
            print(f"  machine busy ({busy:.0%} of the CPUs used by other processes); waiting ...", flush=True)
        time.sleep(10)
        busy = busy_fraction()
    return busy


# --------------------------------------------------------------------------- the problem


@dataclass
class Problem:
    """Per-task data with its coupling; F(W, b) as in the README ("The objective") with uniform task weights."""

    Xs: list
    ys: list
    K: np.ndarray
    alpha: float

    @property
    def n_total(self) -> int:
        return sum(X.shape[0] for X in self.Xs)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.Xs), self.Xs[0].shape[1]

    def objective(self, coef: np.ndarray, intercept: np.ndarray) -> float:
        """F(W, b) evaluated directly on the data, independently of the package.

        coef (T, d), intercept (T,):  sum_t ||y_t - X_t w_t - b_t||^2 / (2N) + alpha/2 tr(W K W^T).
        """
        loss = sum(float(np.sum((y - X @ w - b) ** 2)) for X, y, w, b in zip(self.Xs, self.ys, coef, intercept))
        return 0.5 * loss / self.n_total + 0.5 * self.alpha * float(np.sum(coef * (self.K @ coef)))

    def optimal_intercepts(self, coef: np.ndarray) -> np.ndarray:
        """b_t = mean(y_t) - mean(X_t) w_t: the optimal intercepts for given coef."""
        return np.array([y.mean() - X.mean(axis=0) @ w for X, y, w in zip(self.Xs, self.ys, coef)])

    def gap(self, coef: np.ndarray, intercept: np.ndarray | None, optimum: float) -> float:
        """Relative objective gap (F - F*) / |F*| (optimal intercepts when ``intercept`` is None)."""
        if intercept is None:
            intercept = self.optimal_intercepts(coef)
        return (self.objective(coef, intercept) - optimum) / abs(optimum)

    def centred_statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """A (T, d, d) with A_t = X~_t^T X~_t / N and C (T, d) with c_t = X~_t^T y~_t / N, in numpy."""
        T, d = self.shape
        grams, rhs = np.empty((T, d, d)), np.empty((T, d))
        scale = 1.0 / self.n_total
        for t, (X, y) in enumerate(zip(self.Xs, self.ys)):
            Xc = X - X.mean(axis=0)
            np.multiply(Xc.T @ Xc, scale, out=grams[t])  # Xc.T @ Xc: numpy calls syrk
            np.multiply(Xc.T @ (y - y.mean()), scale, out=rhs[t])
        return grams, rhs

    def dense_cholesky_solution(self) -> np.ndarray:
        """coef (T, d) from a dense Cholesky of (blockdiag(A_t) + alpha K (x) I_d) vec(W) = vec(C).

        Everything is timed: the Grams, forming the (dT, dT) matrix, cho_factor, cho_solve.
        """
        grams, rhs = self.centred_statistics()
        T, d = rhs.shape
        H = np.kron(self.alpha * self.K, np.eye(d))
        for t in range(T):
            H[t * d : (t + 1) * d, t * d : (t + 1) * d] += grams[t]
        factor = scipy.linalg.cho_factor(H, lower=True, overwrite_a=True, check_finite=False)
        return scipy.linalg.cho_solve(factor, rhs.ravel(), check_finite=False).reshape(T, d)


def fit_ours(problem: Problem, solver: str, tol: float, threads: int, max_iter: int = 100_000):
    """Our estimator on the problem (lists form), ConvergenceWarning silenced (max_iter sweeps use it)."""
    model = mt.KernelCoupledRegressor(coupling=problem.K, alpha=problem.alpha, solver=solver, tol=tol,
                                      max_iter=max_iter, n_jobs=threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(problem.Xs, problem.ys)


def core_fit(problem: Problem, solver: str, tol: float, threads: int) -> Callable[[], object] | None:
    """The same fit as ``fit_ours`` as a direct call of the C++ core (no Python validation), for
    profiling only; None if the private signature has changed."""
    weights = np.full(len(problem.Xs), 1.0 / problem.n_total)  # uniform task weights: s_t = 1/N

    def run():
        return core.fit_least_squares_f64(X=problem.Xs, y=problem.ys, sample_weight=weights, coupling=problem.K,
                                          alpha=float(problem.alpha), fit_intercept=True, shared_design=False,
                                          solver=solver, tol=tol, max_iter=100_000, n_threads=threads,
                                          warm_start=None)

    try:
        result = run()
        reference = fit_ours(problem, solver, tol, threads)
        coef = np.asarray(result["coef"])
        coef = coef if coef.shape == reference.coef_.shape else coef.T
        if not np.allclose(coef, reference.coef_, rtol=1e-8, atol=1e-12):
            return None
    except Exception:  # noqa: BLE001 - a changed private API only drops a profiling row
        return None
    return run


TOLERANCES = tuple(10.0 ** -k for k in range(4, 15))


def loosest_tolerance(gap_at: Callable[[float], float], target: float = GAP_TARGET) -> tuple[float, float]:
    """The loosest tolerance in 1e-4 ... 1e-14 whose result has a relative gap <= target.

    ``gap_at(tol)`` runs the method (untimed) and returns its relative gap.
    Returns (tol, gap); the tightest tried when none reaches the target.
    """
    for tol in TOLERANCES:
        gap = gap_at(tol)
        if gap <= target:
            return tol, gap
    return tol, gap


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(ratio: float, target: float, at_most: bool = True) -> str:
    ok = ratio <= target if at_most else ratio >= target
    return "PASS" if ok else "MISS"


# --------------------------------------------------------------------------- command line


def parse_arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per measurement; the median is used")
    parser.add_argument("--threads", type=int, default=1, help="threads for our core (n_jobs) and for numpy's BLAS")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and 2 repeats: a smoke run of the script")
    args = parser.parse_args()
    if args.quick:
        args.repeats = min(args.repeats, 2)
    return args


def main(run: Callable[..., dict], description: str) -> None:
    """Standalone entry point of a workload script: runs it and prints its section."""
    args = parse_arguments(description)
    busy = wait_for_quiet_machine(0 if args.quick else 120)
    print("\n".join(machine_lines()))
    print(f"* CPU used by other processes before the run: {busy:.0%}")
    print(f"* threads: {args.threads}; repeats: {args.repeats} (median)\n")
    result = run(repeats=args.repeats, threads=args.threads, quick=args.quick)
    print(result["section"])


def section_driver_main(run: Callable[..., dict], description: str,
                        add_arguments: Callable[[argparse.ArgumentParser], None] | None = None) -> int:
    """Entry point of a driver that writes one section of RESULTS.md (classification, structure,
    kernel machines): runs ``run``, prints its section and appends it to ``--append`` if given.
    ``add_arguments`` adds driver-specific options; they are passed to ``run`` by name."""
    import sys

    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="timed round-robin rounds (median)")
    parser.add_argument("--threads", type=int, default=1, help="threads (ours n_jobs, BLAS/OpenMP limits)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and at most 2 repeats: a smoke run")
    parser.add_argument("--max-wait", type=float, default=600.0, help="seconds to wait for a quiet machine")
    parser.add_argument("--append", default=None, help="append the section to this page (e.g. bench/RESULTS.md)")
    if add_arguments is not None:
        add_arguments(parser)
    options = vars(parser.parse_args())
    append = options.pop("append")
    if options["quick"]:
        options["repeats"] = min(options["repeats"], 2)
    result = run(**options)
    print(result["section"])
    if append:
        with open(append, "a", encoding="utf-8") as handle:
            handle.write("\n" + result["section"])
        print(f"appended to {append}", file=sys.stderr)
    return 0
