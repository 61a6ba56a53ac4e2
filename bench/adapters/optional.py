"""Optional peers: import them on demand, and say so when one is not installed."""

from __future__ import annotations

import importlib
import warnings
from contextlib import contextmanager
from types import ModuleType
from typing import Callable, Iterator

from sklearn.exceptions import ConvergenceWarning


class PeerMissing(ImportError):
    """An optional peer's package is not installed (the workload skips that peer and says so)."""


def require(module: str, package: str | None = None) -> ModuleType:
    """Import ``module`` of an optional peer.

    Raises
    ------
    PeerMissing
        If it cannot be imported; the message names the package to install.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise PeerMissing(f"{package or module.split('.')[0]}: peer not installed ({error})") from error


def available(module: str) -> bool:
    """Whether an optional peer's module can be imported."""
    try:
        require(module)
    except PeerMissing:
        return False
    return True


def installed(peers: dict[str, tuple[str, str, Callable]], notes: list[str], label: str) -> dict[str, tuple]:
    """The peers whose package imports, as {key: (row label, solve)}; a note for each one that does not.

    ``peers`` maps a key to (row label, module to import, solve).
    """
    found = {}
    for key, (name, module, solve) in peers.items():
        if available(module):
            found[key] = (name, solve)
        else:
            notes.append(f"{label} {key}: peer not installed")
    return found


@contextmanager
def quiet() -> Iterator[None]:
    """ConvergenceWarning and the peers' own warnings silenced: the workloads check every gap in numpy."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield
