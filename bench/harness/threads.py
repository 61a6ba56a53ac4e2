"""Thread limits: our core gets ``n_jobs``; numpy/scipy/scikit-learn get theirs through threadpoolctl.

One ThreadpoolController, made at first use, serves every call: entering a limit then costs
microseconds (a fresh ``threadpool_limits`` rescans the loaded libraries, about 3 ms), so a limit may
sit inside a timed function. numba (skglm, mutar) reads ``NUMBA_NUM_THREADS`` once, at import, so
``pin_numba`` must run before any peer imports numba.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

from threadpoolctl import ThreadpoolController

_controller: Optional[ThreadpoolController] = None


def _get_controller() -> ThreadpoolController:
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller


@contextmanager
def limit(threads: int, blas_only: bool = False) -> Iterator[None]:
    """Limit the thread pools of numpy/scipy (BLAS) and, unless ``blas_only``, every OpenMP runtime.

    Parameters
    ----------
    threads : int
        Threads per pool.
    blas_only : bool, default=False
        Limit BLAS only (the least-squares workloads, whose peers are BLAS-bound); False also limits
        scikit-learn's OpenMP loss and gradient kernels.
    """
    with _get_controller().limit(limits=threads, user_api="blas" if blas_only else None):
        yield


def limited(threads: int, run: Callable[[], object], blas_only: bool = False) -> Callable[[], object]:
    """``run`` wrapped so that it executes under ``limit(threads, blas_only)``."""
    def call() -> object:
        with limit(threads, blas_only):
            return run()

    return call


def pin_numba(threads: int = 1) -> None:
    """Set ``NUMBA_NUM_THREADS`` before numba is imported (numba reads it once, at import)."""
    if "numba" not in sys.modules:
        os.environ["NUMBA_NUM_THREADS"] = str(threads)


def numba_threads() -> str:
    """numba's thread count as configured, or a note that numba is absent."""
    try:
        import numba
    except ImportError:
        return "numba not installed"
    return str(numba.config.NUMBA_NUM_THREADS)
