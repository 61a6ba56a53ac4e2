"""The boundary between the estimators and the compiled core, on the way back.

Every estimator calls the core with keyword arguments only (the bindings reject
positional ones) and hands what came back to :func:`store_fit`, the one place
that checks the result for non-finite values, sets the fitted attributes and
issues the ``ConvergenceWarning``. :func:`atomic_fit` makes a failed or
interrupted ``fit`` leave the estimator as it was before the call.
"""

from __future__ import annotations

import functools
import sys
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Mapping, TypeVar

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._errors import NumericalError

__all__ = ["FitResult", "SolverOutcome", "atomic_fit", "caller_stacklevel", "core_function", "finite_predictions", "solver_tol", "store_fit", "FLOAT32_TOL_FLOOR"]

FLOAT32_TOL_FLOOR = 1e-5
"""Smallest ``tol`` the iterative solvers are asked for on float32 data.

The stopping rules are relative residuals computed in the data's precision;
in float32 (machine epsilon 1.2e-7) their round-off floor on well-scaled data
is about 1e-6, so a tolerance below that can never be met and the solver would
run to ``max_iter``. 1e-5 (about 80 epsilon) is reached reliably."""

Fit = TypeVar("Fit", bound=Callable[..., Any])


COMPUTED_IN_FLOAT64 = frozenset({"fit_least_squares", "fit_least_squares_path", "fit_linear_model",
                                 "fit_shared_subspace"})
"""The core's linear-model fits exist in float64 only: float32 data are converted
on the way in and the coefficients back to float32 on the way out, as
scikit-learn's LogisticRegression does. Compiling every solver a second time for
float32 doubled the build for little gain (these solvers work on d x d Gram
statistics or stream X a few times). The kernel machines, whose n x n Gram
matrices dominate the memory, keep a float32 core."""


def _as_float64(value: Any) -> Any:
    """float32 arrays (also inside lists and CSR tuples) as float64 copies; anything else as it is."""
    if isinstance(value, np.ndarray) and value.dtype == np.float32:
        return value.astype(np.float64)
    if isinstance(value, (list, tuple)):
        return type(value)(_as_float64(item) for item in value)
    return value


def _float32_through_float64(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` (a float64 core fit, or a path: a list of fits) for float32 data: the fitted parameters
    (coef, intercept, components, heads) come back as float32."""

    def as_float32(result: dict) -> dict:
        for key in ("coef", "intercept", "components", "heads"):
            if key in result:
                result[key] = np.asarray(result[key], dtype=np.float32)
        return result

    @functools.wraps(function)
    def call(**arguments: Any) -> Any:
        result = function(**{name: _as_float64(value) for name, value in arguments.items()})
        return [as_float32(fit) for fit in result] if isinstance(result, list) else as_float32(result)

    return call


def core_function(name: str, dtype: Any) -> Callable[..., Any]:
    """The core's ``name_f32`` or ``name_f64`` for data of ``dtype``.

    For the fits of :data:`COMPUTED_IN_FLOAT64` and float32 data: ``name_f64``
    with the conversions in and out.
    """
    from ._core import core

    if np.dtype(dtype) != np.float32:
        return getattr(core, f"{name}_f64")
    if name in COMPUTED_IN_FLOAT64:
        return _float32_through_float64(getattr(core, f"{name}_f64"))
    return getattr(core, f"{name}_f32")


def solver_tol(tol: float, dtype: Any) -> float:
    """``tol`` as the iterative solvers receive it: floored at :data:`FLOAT32_TOL_FLOOR` for float32."""
    return max(float(tol), FLOAT32_TOL_FLOOR) if np.dtype(dtype) == np.float32 else float(tol)


@dataclass(frozen=True)
class SolverOutcome:
    """How a solver of the core ended, whatever its family.

    Attributes
    ----------
    solver : str
        The solver that ran.
    n_iter : int
        Its iterations.
    converged : bool
        Whether it met its stopping rule.
    criterion : str
        What the stopping rule bounds, e.g. "relative KKT residual".
    value : float
        That quantity at the end, on the same scale as ``tol``.
    tol : float
        The bound the solver was given.
    """

    solver: str
    n_iter: int
    converged: bool
    criterion: str
    value: float
    tol: float


@dataclass(frozen=True)
class FitResult:
    """What a fitting routine outside the estimator computed, for the estimator to :func:`store_fit`.

    Attributes
    ----------
    outcome : SolverOutcome
        How its solver ended.
    attributes : mapping of str to object
        The fitted attributes by name.
    """

    outcome: SolverOutcome
    attributes: Mapping[str, Any]


def _check_finite(attributes: Mapping[str, Any], solver: str) -> None:
    """NumericalError when any floating array among ``attributes`` holds NaN or infinity."""
    for name, value in attributes.items():
        if isinstance(value, np.ndarray) and value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            raise NumericalError(
                f"solver '{solver}' produced non-finite values in {name.rstrip('_')} (NaN or infinity): the problem "
                "is too badly scaled for floating point. Check the scale of X, y, alpha, the coupling or task "
                "kernel and task_weights (standardise X, use moderate values)"
            )


def store_fit(
    estimator: Any,
    outcome: SolverOutcome,
    attributes: Mapping[str, Any],
    *,
    advice: str,
) -> None:
    """Set the fitted ``attributes`` and ``solver_``/``n_iter_``; warn when the solver did not converge.

    Parameters
    ----------
    estimator : estimator
        Receives the attributes.
    outcome : SolverOutcome
        How the solver ended.
    attributes : mapping of str to object
        Fitted attributes by name (``coef_``, ``intercept_``, ...). Every floating
        ndarray among them must be finite: otherwise nothing is set and
        :class:`~multitask.NumericalError` is raised.
    advice : str
        What to try when the solver did not converge, for the warning.
    """
    _check_finite(attributes, outcome.solver)
    for name, value in attributes.items():
        setattr(estimator, name, value)
    estimator.solver_ = outcome.solver
    estimator.n_iter_ = int(outcome.n_iter)
    if not outcome.converged:
        warnings.warn(
            f"{type(estimator).__name__}: solver '{outcome.solver}' stopped after {outcome.n_iter} iterations with "
            f"{outcome.criterion} {outcome.value:.2e} > tol={outcome.tol:.1e}; {advice}",
            ConvergenceWarning,
            stacklevel=caller_stacklevel(),
        )


def caller_stacklevel() -> int:
    """The ``stacklevel`` that points a warning issued by this module's caller at the first
    frame outside multitask and scikit-learn's fit wrappers: the user's call of ``fit``."""
    frame, level = sys._getframe(1), 1
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not (module == "multitask" or module.startswith("multitask.") or module == "sklearn.base"):
            return level
        frame, level = frame.f_back, level + 1
    return level


def finite_predictions(values: Any, name: str = "X") -> Any:
    """``values`` (predictions or decision values); NumericalError when any is NaN or infinite.

    The inputs are finite (checked on the way in), so a non-finite value means
    the arithmetic overflowed: inputs of a magnitude the model's floating point
    cannot hold (e.g. 1e200 in a squared distance or a product with the weights).
    """
    array = np.asarray(values)
    if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
        raise NumericalError(
            f"the predictions for {name} overflow to NaN or infinity: {name} has entries of a magnitude that "
            "floating point cannot evaluate the model at; rescale it as the training data were"
        )
    return values


def atomic_fit(fit: Fit) -> Fit:
    """Decorator for ``fit``: on any exception (``NumericalError``, ``KeyboardInterrupt``...)
    the estimator's attributes are restored to what they were before the call,
    so it is never left half-written: unfitted, or with its previous fit."""

    @functools.wraps(fit)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        before = dict(self.__dict__)
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    return wrapper  # type: ignore[return-value]
