"""Loads the compiled core built for the best instruction-set level this CPU runs.

The package ships one extension module per x86-64 micro-architecture level
(``_core_baseline``, ``_core_x86_64_v3`` with AVX2/FMA, ``_core_x86_64_v4`` with
AVX-512), because a portable baseline build runs the dense kernels about three
times slower than AVX-512 code. The environment variable ``MULTITASK_ISA``
(``baseline``, ``x86-64-v3``, ``x86-64-v4``) forces a level, e.g. to test them all.
"""

from __future__ import annotations

import importlib
import os
import platform
from types import ModuleType

__all__ = ["core", "available_isa_levels", "load_core"]

# CPU flags (as /proc/cpuinfo names them) each level needs, beyond the lower levels.
_LEVEL_FLAGS: dict[str, tuple[str, ...]] = {
    "baseline": (),
    "x86-64-v3": ("avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm", "sse4_2", "popcnt", "ssse3"),
    "x86-64-v4": ("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"),
}
_ORDER = ("x86-64-v4", "x86-64-v3", "baseline")


def _module_name(level: str) -> str:
    return "multitask._core_" + level.replace("-", "_")


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _supported(level: str, flags: set[str]) -> bool:
    if level == "baseline":
        return True
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    needed: list[str] = []
    for name in reversed(_ORDER):
        needed.extend(_LEVEL_FLAGS[name])
        if name == level:
            break
    # 'abm' is how Linux names LZCNT support.
    return all(flag in flags for flag in needed)


def available_isa_levels() -> list[str]:
    """Levels that are both built into this installation and runnable on this CPU, best first."""
    flags = _cpu_flags()
    levels = []
    for level in _ORDER:
        if not _supported(level, flags):
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
        if requested not in _LEVEL_FLAGS:
            raise ValueError(f"MULTITASK_ISA must be one of {sorted(_LEVEL_FLAGS)}, got {requested!r}")
        if not _supported(requested, _cpu_flags()):
            raise ImportError(f"this CPU cannot run the {requested} build of multitask's core")
        return importlib.import_module(_module_name(requested))
    levels = available_isa_levels()
    if not levels:
        raise ImportError("no build of multitask's compiled core could be imported")
    return importlib.import_module(_module_name(levels[0]))


core = load_core()
