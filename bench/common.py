"""Shared helpers of the Python benchmarks: timing, thread control, references.

Every figure is a median of several repeats, and every speed is reported as a
ratio against a reference measured in the same run with the same thread count.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.linalg
from threadpoolctl import threadpool_info, threadpool_limits

import multitask as mt
from multitask._core import core


def median_time(run: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``run()`` in seconds over ``repeats`` calls (after one warm-up)."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def limit_blas(threads: int):
    """Context manager limiting numpy/scipy BLAS (and any OpenMP pool) to ``threads``."""
    return threadpool_limits(limits=threads)


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    blas = [f"{pool['internal_api']} {pool.get('version')} ({pool.get('architecture')})"
            for pool in threadpool_info() if pool["user_api"] == "blas"]
    env = {name: os.environ[name] for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if name in os.environ}
    return (f"{cpu}, {os.cpu_count()} cores; numpy {np.__version__}, scipy {scipy.__version__}; "
            f"BLAS: {', '.join(blas)}; OpenBLAS environment: {env or 'unset'}; "
            f"multitask core: {core.build_info['isa']} (SIMD {core.build_info['simd']}, "
            f"OpenMP {core.build_info['openmp']}, Eigen {core.build_info['eigen_version']})")


@dataclass
class Problem:
    """Per-task data with its coupling; the objective as in DESIGN.md §1 (uniform weights)."""

    Xs: list
    ys: list
    K: np.ndarray
    alpha: float

    @property
    def n_total(self) -> int:
        return sum(X.shape[0] for X in self.Xs)

    def objective(self, coef: np.ndarray, intercept: np.ndarray) -> float:
        """F(W, b) evaluated directly on the data (independent of the package)."""
        loss = sum(0.5 * np.sum((y - X @ w - b) ** 2) for X, y, w, b in zip(self.Xs, self.ys, coef, intercept))
        return loss / self.n_total + 0.5 * self.alpha * float(np.sum(coef * (self.K @ coef)))

    def optimal_intercepts(self, coef: np.ndarray) -> np.ndarray:
        return np.array([y.mean() - X.mean(axis=0) @ w for X, y, w in zip(self.Xs, self.ys, coef)])

    def centred_statistics(self):
        """A_t = X~^T X~ / N and c_t = X~^T y~ / N as numpy forms them (the Gram floor)."""
        grams, rhs = [], []
        for X, y in zip(self.Xs, self.ys):
            mean = X.mean(axis=0)
            Xc = X - mean
            grams.append(Xc.T @ Xc / self.n_total)
            rhs.append(Xc.T @ (y - y.mean()) / self.n_total)
        return np.array(grams), np.array(rhs)

    def dense_cholesky_solution(self) -> np.ndarray:
        """coef (T, d) from a dense Cholesky solve of (blockdiag(A_t) + alpha K (x) I) vec(W) = vec(C)."""
        grams, rhs = self.centred_statistics()
        T, d = rhs.shape
        H = self.alpha * np.kron(self.K, np.eye(d))
        for t in range(T):
            H[t * d : (t + 1) * d, t * d : (t + 1) * d] += grams[t]
        return scipy.linalg.cho_solve(scipy.linalg.cho_factor(H, lower=True), rhs.ravel()).reshape(T, d)


def relative_gap(value: float, optimum: float) -> float:
    return (value - optimum) / abs(optimum)


def fit_ours(problem: Problem, solver: str, tol: float, threads: int) -> mt.KernelCoupledRegressor:
    model = mt.KernelCoupledRegressor(coupling=problem.K, alpha=problem.alpha, solver=solver, tol=tol,
                                      max_iter=100000, n_jobs=threads)
    return model.fit(problem.Xs, problem.ys)


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def command_line(run: Callable[..., dict], description: str) -> None:
    """Standalone entry point of a workload script: ``--repeats`` and ``--quick``, prints the table."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per measurement (median)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the script runs")
    args = parser.parse_args()
    print(run(repeats=args.repeats, quick=args.quick)["table"])
