"""GPy (optional): the ICM model with every parameter fixed, as a multi-task kernel ridge."""

from __future__ import annotations

import numpy as np

from .optional import require

KAPPA = 0.05  # B = W W^T + diag(kappa): GPy's parametrisation of the coregionalisation matrix


def version() -> str:
    """GPy's version (raises PeerMissing without it)."""
    return require("GPy").__version__


def icm_predict(Xs: list, ys: list, tests: list, B: np.ndarray, noise: float, lengthscale: float) -> np.ndarray:
    """The posterior mean K_* woodbury_vector of ``GPCoregionalizedRegression`` at the test inputs."""
    GPy = require("GPy")
    W = np.linalg.cholesky(B - KAPPA * np.eye(len(B)))
    kernel = GPy.util.multioutput.ICM(input_dim=2, num_outputs=len(Xs), kernel=GPy.kern.RBF(2, lengthscale=lengthscale),
                                      W_rank=len(B))
    kernel.B.W = W
    kernel.B.kappa = np.full(len(B), KAPPA)
    model = GPy.models.GPCoregionalizedRegression(Xs, [y[:, None] for y in ys], kernel=kernel)
    # Every task's noise variance (re-runs the inference once). GPy's exact inference adds a jitter of
    # 1e-8 to it (ExactGaussianInference: diag.add(Ky, variance + 1e-8)): compensated here.
    model.mixed_noise[:] = noise - 1e-8
    X_test = np.vstack([np.column_stack([X, np.full(X.shape[0], t)]) for t, X in enumerate(tests)])
    return (model.kern.K(X_test, model.X) @ model.posterior.woodbury_vector)[:, 0]
