"""One BLAS thread while the core runs.

The core calls the BLAS that SciPy ships for its large products (Eigen's BLAS
back-end, see ``cpp/bindings/scipy_blas.cpp``) from inside its own OpenMP loops,
one call per task or per block. A multi-threaded BLAS there would oversubscribe
the cores (OpenMP threads × BLAS threads) and, for OpenBLAS, serialise the
concurrent calls on its one thread pool; and it would not honour ``n_jobs``. So
while a core call runs, every BLAS library threadpoolctl finds is limited to one
thread, and its limit is restored afterwards. The compiled core calls
:func:`limit` before it releases the GIL and :func:`restore` once it has it back.
Nested or concurrent core calls (from several Python threads) share one limit:
the first sets it, the last restores it.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["limit", "restore"]

_lock = threading.Lock()
_active_calls = 0
_saved: list[tuple[Any, int]] = []
_controllers: list[Any] | None = None


def _blas_controllers() -> list[Any]:
    """threadpoolctl's controllers of the BLAS libraries loaded now (SciPy's among them), found once."""
    global _controllers
    if _controllers is None:
        from threadpoolctl import ThreadpoolController

        _controllers = list(ThreadpoolController().select(user_api="blas").lib_controllers)
    return _controllers


def limit() -> None:
    """Limits every BLAS library to one thread (the first of overlapping calls does it)."""
    global _active_calls
    with _lock:
        if _active_calls == 0:
            for controller in _blas_controllers():
                threads = controller.get_num_threads()
                if threads is not None and threads != 1:
                    controller.set_num_threads(1)
                    _saved.append((controller, threads))
        _active_calls += 1


def restore() -> None:
    """Gives the BLAS libraries back their thread limits (the last of overlapping calls does it)."""
    global _active_calls
    with _lock:
        _active_calls -= 1
        if _active_calls == 0:
            for controller, threads in _saved:
                controller.set_num_threads(threads)
            _saved.clear()
