"""Deprecated names kept working: one FutureWarning that names the replacement.

scikit-learn's convention (a ``FutureWarning`` for users, two releases before
removal) applied to the public names renamed in issue 14: the old ``solver``
value "bcd" and the old fitted attribute ``residual_``.
"""

from __future__ import annotations

import warnings
from typing import Any

from ._fit_result import caller_stacklevel

__all__ = ["deprecated_attribute", "warn_deprecated"]


def warn_deprecated(old: str, new: str, detail: str = "") -> None:
    """FutureWarning: ``old`` is deprecated, use ``new`` (``detail`` says why or what it meant).

    Points at the user's line (the first frame outside multitask and
    scikit-learn's fit wrappers).
    """
    warnings.warn(
        f"{old} is deprecated and will be removed in a future version; use {new}{detail}",
        FutureWarning,
        stacklevel=caller_stacklevel(),
    )


def deprecated_attribute(old: str, new: str) -> property:
    """A read-only property ``old`` that returns the fitted attribute ``new`` with a FutureWarning.

    Unfitted, it raises the AttributeError of ``new`` (and warns nothing), so
    ``hasattr`` and scikit-learn's ``check_is_fitted`` behave as before.
    """

    def read(estimator: Any) -> Any:
        value = getattr(estimator, new)
        warn_deprecated(f"the attribute {old}", f"{new}, the same value")
        return value

    read.__name__ = old
    read.__doc__ = f"Deprecated alias of ``{new}``."
    return property(read)
