"""multitask: multi-task learning with kernel-coupled tasks.

Tasks t = 1..T with their own data (X_t, y_t) are fitted together by minimising

    F(W, b) = (1/N) sum_t omega_t sum_i loss(y_ti, <w_t, x_ti> + b_t) + (alpha/2) sum_{s,t} K_st <w_s, w_t>

where the T x T positive semidefinite coupling K ties the task models together.
"""

from __future__ import annotations

from . import coupling, datasets
from ._classifier import KernelCoupledClassifier
from ._classifier_cv import KernelCoupledClassifierCV
from ._errors import NumericalError
from ._gp import MultiTaskGaussianProcessRegressor
from ._kernel_ridge import MultiTaskKernelRidge
from ._kernel_ridge_cv import MultiTaskKernelRidgeCV
from ._kernel_ridge_path import kernel_ridge_path
from ._path import penalty_max, regularization_path
from ._regressor import KernelCoupledRegressor
from ._regressor_cv import KernelCoupledRegressorCV
from ._subspace import SharedSubspaceRegressor
from ._svc import MultiTaskSVC
from ._task_relations import TaskRelationClassifier, TaskRelationRegressor
from . import metrics, model_selection  # after the estimators they use

__version__ = "0.1.0"

__all__ = [
    "KernelCoupledClassifier",
    "KernelCoupledClassifierCV",
    "KernelCoupledRegressor",
    "KernelCoupledRegressorCV",
    "MultiTaskGaussianProcessRegressor",
    "MultiTaskKernelRidge",
    "MultiTaskKernelRidgeCV",
    "MultiTaskSVC",
    "NumericalError",
    "SharedSubspaceRegressor",
    "TaskRelationClassifier",
    "TaskRelationRegressor",
    "coupling",
    "kernel_ridge_path",
    "penalty_max",
    "regularization_path",
    "datasets",
    "metrics",
    "model_selection",
    "__version__",
]
