"""The public functions check their arguments with scikit-learn's validate_params."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

import multitask as mt
from multitask import coupling, datasets, metrics, model_selection

PUBLIC_FUNCTIONS = [
    coupling.identity,
    coupling.mean_regularized,
    coupling.graph_laplacian,
    coupling.chain,
    coupling.from_task_kernel,
    coupling.task_kernel,
    coupling.validate_coupling,
    coupling.resolve_coupling,
    datasets.load_school,
    datasets.load_newsgroups,
    datasets.make_multitask_regression,
    metrics.make_task_scorer,
    model_selection.to_long_format,
    model_selection.train_test_split_tasks,
    model_selection.cross_validate,
    model_selection.cross_val_score,
    model_selection.cross_val_predict,
    mt.penalty_max,
    mt.regularization_path,
    mt.kernel_ridge_path,
]


@pytest.mark.parametrize("function", PUBLIC_FUNCTIONS, ids=lambda function: function.__name__)
def test_public_function_declares_its_constraints(function):
    constraints = function.__wrapped__._skl_parameter_constraints
    assert constraints, function.__name__


def test_invalid_argument_is_scikit_learns_invalid_parameter_error():
    with pytest.raises(InvalidParameterError, match=r"The 'metric' parameter of make_task_scorer must be"):
        metrics.make_task_scorer(3)
    with pytest.raises(InvalidParameterError, match=r"The 'method' parameter of cross_val_predict must be"):
        model_selection.cross_val_predict(mt.KernelCoupledRegressor(), np.ones((4, 2)), np.ones(4), method="fit")
    with pytest.raises(InvalidParameterError, match=r"The 'random_state' parameter of make_multitask_regression"):
        datasets.make_multitask_regression(random_state=True)


def test_cross_validation_still_validates_the_estimator_it_fits():
    # Nested validation is not skipped: the estimator's own parameters are checked in every fit.
    Xs, ys, _ = datasets.make_multitask_regression(2, 20, 3, random_state=0)
    with pytest.raises(ValueError, match=r"The 'alpha' parameter of \w+ must be a float in the range \[0.0, inf\)"):
        model_selection.cross_validate(mt.KernelCoupledRegressor(alpha=-1.0), Xs, ys, cv=2, error_score="raise")


def test_builders_inside_a_fit_give_what_they_give_outside():
    Xs, ys, _ = datasets.make_multitask_regression(3, 20, 3, random_state=0)
    model = mt.KernelCoupledRegressor(coupling="chain").fit(Xs, ys)
    np.testing.assert_array_equal(model.coupling_, coupling.chain(3))
