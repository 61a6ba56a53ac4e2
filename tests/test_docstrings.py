"""The public docstrings are complete: numpydoc's validation, fitted attributes and returned keys.

Public API: every class and function in ``multitask.__all__``, the public methods that the
package's classes define (not those inherited from scikit-learn, such as ``get_params``), and the
classes and functions in the ``__all__`` of the public modules (``multitask.coupling``,
``multitask.datasets``, and ``multitask.model_selection`` / ``multitask.metrics`` /
``multitask.plotting`` where present).

1. ``numpydoc.validate.validate`` on every public object, every check enforced except
   ``NOT_ENFORCED``: among others every signature parameter is documented and nothing else is
   (PR01, PR02, in order PR03), with a type and a description (PR04, PR07), a Returns section
   with descriptions (RT01, RT03), a one-line summary (SS01-SS06) and only known sections in
   numpydoc's order (GL06, GL07).
2. Every attribute a fitted estimator sets (the names ending in ``_`` in ``vars(estimator)``
   after small fits that reach every kind of attribute: dense and sparse-penalty solvers,
   approximate kernel solvers, a DataFrame for ``feature_names_in_``) is in the estimator's
   "Attributes" section with a type and a description, and every documented attribute is set by
   one of those fits (no stale entries).
3. The functions returning a ``Bunch`` name every key of it in their Returns section.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import types

import numpy as np
import pandas as pd
import pytest
from numpydoc.docscrape import NumpyDocString
from numpydoc.validate import ERROR_MSGS, validate
from sklearn.base import BaseEstimator

import multitask as mt

NOT_ENFORCED = {
    "ES01": "an extended summary is not required of every method",
    "EX01": "examples are in the README and the main classes' docstrings, not in every method",
    "SA01": "See Also sections are not used",
    "RT02": "named return values (``self : KernelCoupledRegressor``, ``K : ndarray``) are allowed",
}
ENFORCED = sorted(set(ERROR_MSGS) - set(NOT_ENFORCED))

# Public modules that ``import multitask`` does not import (multitask.plotting needs matplotlib,
# which the "test" extra installs).
OPTIONAL_MODULES = ("multitask.model_selection", "multitask.metrics", "multitask.plotting")


def _public_modules() -> list[types.ModuleType]:
    modules = [getattr(mt, name) for name in mt.__all__ if isinstance(getattr(mt, name), types.ModuleType)]
    for name in OPTIONAL_MODULES:
        if importlib.util.find_spec(name) is not None:
            module = importlib.import_module(name)
            if module not in modules:
                modules.append(module)
    return modules


def _public_methods(cls: type) -> list[str]:
    """Public methods the package defines on ``cls`` (inherited ones from scikit-learn excluded)."""
    names = []
    for name, member in inspect.getmembers(cls):
        if name.startswith("_") or not callable(member) or inspect.isclass(member):
            continue
        if getattr(member, "__module__", "").startswith("multitask"):
            names.append(name)
    return names


def _with_methods(qualified_name: str, obj: object) -> list[str]:
    names = [qualified_name]
    if inspect.isclass(obj):
        names += [f"{qualified_name}.{method}" for method in _public_methods(obj)]
    return names


def public_names() -> list[str]:
    names = []
    for name in mt.__all__:
        obj = getattr(mt, name)
        if callable(obj) and not isinstance(obj, types.ModuleType):
            names += _with_methods(f"multitask.{name}", obj)
    for module in _public_modules():
        for name in module.__all__:
            obj = getattr(module, name)
            if callable(obj) and getattr(obj, "__module__", "").startswith("multitask"):
                names += _with_methods(f"{module.__name__}.{name}", obj)
    return names


def public_estimators() -> dict[str, type]:
    classes = {name: getattr(mt, name) for name in mt.__all__}
    for module in _public_modules():
        classes.update({name: getattr(module, name) for name in module.__all__})
    return {
        name: cls for name, cls in classes.items() if inspect.isclass(cls) and issubclass(cls, BaseEstimator)
    }


# --- 1. numpydoc validation -----------------------------------------------------------------


def test_public_api_is_found():
    names = public_names()
    for expected in (
        "multitask.KernelCoupledRegressor",
        "multitask.KernelCoupledRegressor.fit",
        "multitask.MultiTaskSVC.decision_function",
        "multitask.regularization_path",
        "multitask.coupling.graph_laplacian",
        "multitask.datasets.load_school",
        "multitask.plotting.plot_task_relations",
    ):
        assert expected in names
    assert "multitask.KernelCoupledRegressor.get_params" not in names  # scikit-learn's


@pytest.mark.parametrize("name", public_names())
def test_docstring_passes_numpydoc_validation(name):
    errors = [f"{code}: {message}" for code, message in validate(name)["errors"] if code in ENFORCED]
    assert not errors, f"{name}:\n" + "\n".join(errors)


# --- 2. fitted attributes -------------------------------------------------------------------


def _regression_lists(rng):
    Xs = [rng.normal(size=(n, 4)) for n in (14, 18, 12)]
    return Xs, [X @ rng.normal(size=4) + 0.1 * rng.normal(size=len(X)) for X in Xs]


def _classification_lists(rng):
    Xs, ys = _regression_lists(rng)
    return Xs, [np.where(y > np.median(y), "yes", "no") for y in ys]


def _frame(rng, classification):
    """A shared design as a DataFrame with string column names: sets ``feature_names_in_``."""
    X = pd.DataFrame(rng.normal(size=(24, 4)), columns=["a", "b", "c", "d"])
    Y = X.to_numpy() @ rng.normal(size=(4, 2))
    if classification:
        Y = (Y > np.median(Y, axis=0)).astype(int)
    return X, Y


# Per estimator: (parameters, data) of fits that together set every attribute it can have.
FITS = {
    "KernelCoupledRegressor": [
        ({}, "regression"),
        ({"alpha": 0.1, "l21": 0.01}, "regression"),
        ({"alpha": 0.1}, "regression_frame"),
        ({"alpha": 0.1}, "regression+partial_fit"),  # statistics_
    ],
    "KernelCoupledClassifier": [
        ({"alpha": 0.1}, "classification"),
        ({"alpha": 0.1, "l1": 0.01}, "classification"),
        ({"alpha": 0.1}, "classification_frame"),
    ],
    "MultiTaskKernelRidge": [
        ({}, "regression"),
        ({"solver": "nystroem", "n_components": 5, "random_state": 0}, "regression"),
        ({}, "regression_frame"),
    ],
    "MultiTaskGaussianProcessRegressor": [
        ({"rank": 1}, "regression"),
        ({"rank": 1}, "regression_frame"),
    ],
    "MultiTaskSVC": [
        ({}, "classification"),
        ({}, "classification_frame"),
    ],
    "SharedSubspaceRegressor": [
        ({"alpha": 0.1}, "regression"),
        ({"alpha": 0.1}, "regression_frame"),
    ],
    "TaskRelationRegressor": [
        ({"alpha": 0.1, "beta": 0.1}, "regression"),
        ({"relation": "clusters", "alpha": 0.1, "beta": 0.1}, "regression"),
        ({"alpha": 0.1, "beta": 0.1}, "regression_frame"),
    ],
    "TaskRelationClassifier": [
        ({"alpha": 0.1, "beta": 0.1}, "classification"),
        ({"relation": "clusters", "alpha": 0.1, "beta": 0.1}, "classification"),
        ({"alpha": 0.1, "beta": 0.1}, "classification_frame"),
    ],
    "KernelCoupledRegressorCV": [
        ({"alphas": 3, "cv": 2}, "regression"),
        ({"alphas": 3, "penalty": "l21", "alpha": 0.1, "cv": 2}, "regression"),
        ({"alphas": 3, "cv": 2}, "regression_frame"),
    ],
    "KernelCoupledClassifierCV": [
        ({"alphas": [0.1, 1.0], "cv": 2}, "classification_frame"),
    ],
    "MultiTaskKernelRidgeCV": [
        ({"alphas": 3, "cv": 2}, "regression"),
        ({"alphas": 3, "gammas": [0.5, 1.0], "cv": 2}, "regression_frame"),
    ],
    # The searches of multitask.model_selection: a regressor, and a classifier for ``classes_``.
    "GridSearchCV": [
        ({"estimator": mt.KernelCoupledRegressor(alpha=0.1), "param_grid": {"alpha": [0.1, 1.0]}, "cv": 2},
         "regression_frame"),
        ({"estimator": mt.KernelCoupledClassifier(alpha=0.1), "param_grid": {"alpha": [0.1, 1.0]}, "cv": 2},
         "classification_frame"),
    ],
    "RandomizedSearchCV": [
        ({"estimator": mt.KernelCoupledRegressor(alpha=0.1), "param_distributions": {"alpha": [0.1, 1.0]},
          "n_iter": 2, "cv": 2, "random_state": 0}, "regression_frame"),
        ({"estimator": mt.KernelCoupledClassifier(alpha=0.1), "param_distributions": {"alpha": [0.1, 1.0]},
          "n_iter": 2, "cv": 2, "random_state": 0}, "classification_frame"),
    ],
}


def _data(kind, rng):
    if kind == "regression" or kind == "regression+partial_fit":
        return _regression_lists(rng)
    if kind == "classification":
        return _classification_lists(rng)
    return _frame(rng, classification=kind.startswith("classification"))


def _set_attributes(estimator: BaseEstimator) -> set[str]:
    return {name for name in vars(estimator) if name.endswith("_") and not name.startswith("_")}


def _documented_attributes(cls: type) -> dict[str, tuple[str, str]]:
    doc = NumpyDocString(inspect.getdoc(cls))
    return {entry.name: (entry.type, " ".join(entry.desc).strip()) for entry in doc["Attributes"]}


def test_every_public_estimator_has_fits():
    assert set(public_estimators()) <= set(FITS), "add fits reaching every attribute of the new estimators to FITS"


@pytest.mark.parametrize("name", sorted(set(FITS) & set(public_estimators())))
def test_fitted_attributes_are_documented(name):
    cls = public_estimators()[name]
    documented = _documented_attributes(cls)
    rng = np.random.default_rng(0)
    set_anywhere: set[str] = set()
    for params, kind in FITS[name]:
        fit = "partial_fit" if kind.endswith("+partial_fit") else "fit"
        estimator = getattr(cls(**params), fit)(*_data(kind, rng))
        attributes = _set_attributes(estimator)
        missing = attributes - set(documented)
        assert not missing, f"{name}({params}) sets attributes its docstring does not list: {sorted(missing)}"
        # Attributes may also be properties of the class (scikit-learn's searches delegate to best_estimator_).
        set_anywhere |= attributes | {attribute for attribute in documented if hasattr(estimator, attribute)}
    stale = set(documented) - set_anywhere
    assert not stale, f"{name} documents attributes that no fit sets: {sorted(stale)}"
    for attribute, (type_, description) in documented.items():
        assert type_, f"{name}.{attribute} has no type"
        assert description, f"{name}.{attribute} has no description"


# --- 3. keys of returned Bunches ------------------------------------------------------------


def _returns_text(function) -> str:
    doc = NumpyDocString(inspect.getdoc(function))
    return "\n".join(f"{entry.name} {entry.type} {' '.join(entry.desc)}" for entry in doc["Returns"])


def _shared_design():
    rng = np.random.default_rng(1)
    return rng.normal(size=(30, 5)), rng.normal(size=(30, 3))


BUNCH_CALLS = {
    "regularization_path": lambda X, Y: mt.regularization_path(
        mt.KernelCoupledRegressor(alpha=0.0), X, Y, penalty="l21", n_values=3
    ),
    "kernel_ridge_path": lambda X, Y: mt.kernel_ridge_path(mt.MultiTaskKernelRidge(), X, Y, alphas=[0.1, 1.0]),
    "datasets.load_newsgroups": lambda X, Y: mt.datasets.load_newsgroups("comp_vs_sci"),
}


@pytest.mark.parametrize("name", sorted(BUNCH_CALLS))
def test_returned_bunch_keys_are_documented(name):
    function = mt.datasets.load_newsgroups if name.startswith("datasets.") else getattr(mt, name)
    text = _returns_text(function)
    keys = list(BUNCH_CALLS[name](*_shared_design()))
    undocumented = [key for key in keys if not re.search(rf"\b{re.escape(key)}\b", text)]
    assert not undocumented, f"{name} returns keys its Returns section does not name: {undocumented}"
