"""Loads the compiled core built for the best instruction-set level this CPU runs.

The core's dense kernels run in the BLAS that SciPy ships, which picks its own
kernels for the CPU at run time. The rest is compiled per level, one extension
module each: ``_core_baseline`` (any CPU) and, on x86-64, ``_core_x86_64_v3``
(AVX2/FMA) in the wheels, ``_core_x86_64_v4`` (AVX-512) where a source build
asks for it (CMake option ``MULTITASK_ISA_LEVELS``). The baseline module tells
which levels the CPU and operating system run (CPUID, on every platform), and
the best level built is loaded. The environment variable ``MULTITASK_ISA``
(``baseline``, ``x86-64-v3``, ``x86-64-v4``) forces a level, e.g. to test them all.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

__all__ = ["core", "available_isa_levels", "load_core"]

_LEVELS = ("baseline", "x86-64-v3", "x86-64-v4")
_ORDER = tuple(reversed(_LEVELS))  # best first


def _module_name(level: str) -> str:
    return "multitask._core_" + level.replace("-", "_")


def _cpu_levels() -> set[str]:
    """The levels this CPU and OS run, as the baseline module reads them from CPUID."""
    baseline = importlib.import_module(_module_name("baseline"))
    return set(baseline.cpu_isa_levels())


def available_isa_levels() -> list[str]:
    """Levels that are both built into this installation and runnable on this CPU, best first."""
    runnable = _cpu_levels()
    levels = []
    for level in _ORDER:
        if level not in runnable:
            continue
        try:
            importlib.import_module(_module_name(level))
        except ImportError:
            continue
        levels.append(level)
    return levels


def load_core(level: str | None = None) -> ModuleType:
    """Imports the core for ``level`` (default: ``MULTITASK_ISA`` or the best available)."""
    requested = level or os.environ.get("MULTITASK_ISA") or None
    if requested is not None:
        if requested not in _LEVELS:
            raise ValueError(f"MULTITASK_ISA must be one of {sorted(_LEVELS)}, got {requested!r}")
        if requested not in _cpu_levels():
            raise ImportError(f"this CPU cannot run the {requested} build of multitask's core")
        return importlib.import_module(_module_name(requested))
    levels = available_isa_levels()
    if not levels:
        raise ImportError("no build of multitask's compiled core could be imported")
    return importlib.import_module(_module_name(levels[0]))


core = load_core()
