"""The machine and software that ran, and waiting for other processes to go quiet.

OpenBLAS: some machines here set ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` for old OpenBLAS builds,
which makes numpy's OpenBLAS (the reference of most ratios) run a slower kernel; ``bench/run_all.sh``
unsets them, and every result records the kernel that ran.
"""

from __future__ import annotations

import datetime
import os
import platform
import time

import numpy as np
import scipy
from threadpoolctl import threadpool_info

OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
POLL_SECONDS = 10.0


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or what ``platform`` knows."""
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
    """The OpenBLAS variables set in this process, or "unset"."""
    found = {name: os.environ[name] for name in OPENBLAS_VARIABLES if name in os.environ}
    return ", ".join(f"{key}={value}" for key, value in found.items()) if found else "unset"


def core_build_info() -> str:
    """``multitask``'s compiled core build information, one line."""
    from multitask._core import core

    return ", ".join(f"{key}={value}" for key, value in core.build_info.items())


def machine_info() -> dict[str, str]:
    """The machine and software of this process, as strings (a result file's ``machine``)."""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{cpu_model()}, {os.cpu_count()} logical cores",
        "python": f"Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}",
        "blas": blas_kernels(),
        "openblas_environment": openblas_environment(),
        "core_build_info": core_build_info(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "unset"),
    }


def busy_fraction(interval: float = 1.0) -> float:
    """Fraction of all CPUs busy over ``interval`` seconds (from /proc/stat; nan if unavailable).

    Measured while this process sleeps, so it is the load of everything else.
    """
    def sample() -> tuple[float, float]:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [float(value) for value in stat.readline().split()[1:]]
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
    """Wait (up to ``max_wait`` s) until other processes use less than ``threshold`` of the CPUs.

    Other work on a 2-core machine (a compiler, a test run) distorts every timing, the threaded
    ones most.

    Returns
    -------
    float
        The last busy fraction measured (nan without /proc/stat; no measurement when max_wait is 0).
    """
    if max_wait <= 0:
        return float("nan")
    deadline = time.monotonic() + max_wait
    busy = busy_fraction()
    while not busy < threshold and time.monotonic() < deadline:
        if verbose:
            print(f"  machine busy ({busy:.0%} of the CPUs used by other processes); waiting ...", flush=True)
        time.sleep(POLL_SECONDS)
        busy = busy_fraction()
    return busy
