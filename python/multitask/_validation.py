"""Constraints of the public functions' parameters, for scikit-learn's ``validate_params``.

scikit-learn's ``Interval(Integral, ...)`` and ``Interval(Real, ...)`` accept
``True`` and ``False`` (bool is an int in Python); this package has always
refused them where a count or a weight is meant (``n_tasks=True`` is a bug, not
1), so :class:`NumberInterval` is the same interval without booleans.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.utils._param_validation import Interval

__all__ = ["NON_NEGATIVE_REAL", "NumberInterval", "POSITIVE_INT", "POSITIVE_REAL"]


class NumberInterval(Interval):
    """scikit-learn's :class:`~sklearn.utils._param_validation.Interval` without booleans."""

    def is_satisfied_by(self, val: Any) -> bool:  # noqa: D102
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


POSITIVE_INT = NumberInterval(Integral, 1, None, closed="left")
"""An int >= 1 (numpy integers too)."""

NON_NEGATIVE_REAL = NumberInterval(Real, 0, None, closed="left")
"""A finite number >= 0 (the open upper end excludes infinity; NaN fails every interval)."""

POSITIVE_REAL = NumberInterval(Real, 0, None, closed="neither")
"""A finite number > 0."""
