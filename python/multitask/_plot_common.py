"""Helpers shared by the picture modules: a new figure's axes, and fitted-attribute checks.

Imported only by :mod:`multitask.plotting` (after its check that matplotlib is installed);
pyplot itself is imported only when a new figure is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sklearn.utils.validation import check_is_fitted

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def require(model: Any, attribute: str, name: str) -> None:
    """ValueError naming ``name`` when ``model`` lacks the fitted ``attribute`` (NotFittedError before fit)."""
    if hasattr(model, attribute):
        return
    if hasattr(model, "fit"):
        check_is_fitted(model)
    raise ValueError(f"{name}: {type(model).__name__} has no {attribute}")


def new_axes() -> Axes:
    """The axes of a new pyplot figure."""
    import matplotlib.pyplot as plt

    return plt.subplots()[1]
