"""The linear models' solver names: one per algorithm (the compiled core uses the same), and the deprecated "bcd".

``solver="bcd"`` used to name three different algorithms, told apart only by
the problem. Each now has its own name:

* "task_bcd": block coordinate descent over tasks on the Gram statistics
  (block Gauss-Seidel, each task's block solved exactly with a cached
  factorisation): the regressor's squared loss on dense X without a penalty;
* "block_newton": one truncated Newton step per task block, the other tasks
  held fixed, on the data (any loss, no structure penalty);
* "feature_bcd": coordinate descent over the features (rows of W, all tasks'
  coefficients of one feature at a time) with working sets and the duality gap
  as stopping rule: the squared loss with an l1 or l21 penalty.

"gram_gradient" (not a "bcd" meaning) is the proximal accelerated gradient on
Gram statistics for the squared loss with a trace-norm penalty on dense X.

"bcd" still works as a deprecated alias of whichever of the three it meant
(:func:`bcd_meaning`), with a FutureWarning naming it.
"""

from __future__ import annotations

from ._deprecation import warn_deprecated

__all__ = [
    "BLOCK_NEWTON",
    "DEPRECATED_BCD",
    "DESCRIPTIONS",
    "FEATURE_BCD",
    "GRAM_GRADIENT",
    "TASK_BCD",
    "bcd_meaning",
    "resolve_alias",
]

TASK_BCD = "task_bcd"
BLOCK_NEWTON = "block_newton"
FEATURE_BCD = "feature_bcd"
GRAM_GRADIENT = "gram_gradient"
DEPRECATED_BCD = "bcd"

DESCRIPTIONS = {
    TASK_BCD: "block coordinate descent over tasks",
    BLOCK_NEWTON: "block Newton over tasks",
    FEATURE_BCD: "coordinate descent over features with working sets",
    GRAM_GRADIENT: "proximal accelerated gradient on Gram statistics",
}

def bcd_meaning(*, on_data: bool, squared_loss: bool, feature_penalty: bool) -> str:
    """The algorithm "bcd" runs (and the core's "bcd" ran) for a problem.

    Parameters
    ----------
    on_data : bool
        Whether the fit runs on the data (the core's ``fit_linear_model``)
        rather than on Gram statistics (``fit_least_squares``).
    squared_loss : bool
        Whether the loss is the squared loss.
    feature_penalty : bool
        Whether an l1 or l21 penalty is set.

    Returns
    -------
    solver : str
        :data:`TASK_BCD`, :data:`FEATURE_BCD` or :data:`BLOCK_NEWTON`.
    """
    if not on_data:
        return TASK_BCD
    return FEATURE_BCD if squared_loss and feature_penalty else BLOCK_NEWTON


def resolve_alias(solver: str, meaning: str) -> str:
    """``solver`` with the deprecated "bcd" replaced by ``meaning`` (and a FutureWarning naming it)."""
    if solver != DEPRECATED_BCD:
        return solver
    warn_deprecated(
        "solver='bcd'",
        f"solver={meaning!r}",
        f": 'bcd' named three algorithms, and for this estimator and problem it is {meaning!r} "
        f"({DESCRIPTIONS[meaning]})",
    )
    return meaning
