"""Exceptions raised by multitask."""

from __future__ import annotations

import numpy as np

__all__ = ["NumericalError"]


class NumericalError(np.linalg.LinAlgError):
    """Numerical breakdown in the solver, e.g. a system that is not positive definite.

    Raised when the kernel-coupled system cannot be solved as posed: typically
    ``alpha = 0`` or a singular coupling together with a rank-deficient design.
    Increasing ``alpha`` or adding a ridge to the coupling makes it solvable.
    """
