"""GPy (optional): the ICM model with every parameter fixed, as a multi-task kernel ridge (K1), and its
ML-II fit by L-BFGS-B (G1)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..problems.gaussian_process import ICMHyper
from .optional import require

KAPPA = 0.05  # B = W W^T + diag(kappa): GPy's parametrisation of the coregionalisation matrix
GPY_JITTER = 1e-8  # added by GPy's exact inference to every noise variance


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
    model.mixed_noise[:] = noise - GPY_JITTER
    X_test = np.vstack([np.column_stack([X, np.full(X.shape[0], t)]) for t, X in enumerate(tests)])
    return (model.kern.K(X_test, model.X) @ model.posterior.woodbury_vector)[:, 0]


@dataclass
class GPyFit:
    """GPy's ML-II fit: the fitted hyperparameters (natural units), its log likelihood and its counts.

    ``evaluations`` is L-BFGS-B's count of objective + gradient calls (``funcalls``); ``inferences`` counts
    every exact inference GPy ran (a Cholesky and an inverse of the (N, N) covariance each): the
    evaluations, plus the one at construction, plus GPy's re-evaluation at the optimum and its update when
    the optimum is written back.
    """

    hyper: ICMHyper
    log_likelihood: float
    evaluations: int
    inferences: int
    status: str


def icm_model(Xs: list, ys: list, start: ICMHyper):
    """``GPCoregionalizedRegression`` with an ICM RBF (ARD, variance fixed at 1) kernel, at ``start``.

    Every parameter is given to the constructors, so that building the model runs one exact inference.
    GPy's exact inference adds a jitter of 1e-8 to every noise variance (``ExactGaussianInference``:
    ``diag.add(Ky, variance + 1e-8)``): the noise variances given here are ``start.noise - 1e-8``, so the
    model's covariance is that of ``start``; ``fit`` adds it back.
    """
    GPy = require("GPy")
    d = Xs[0].shape[1]
    rbf = GPy.kern.RBF(d, variance=1.0, lengthscale=np.array(start.lengthscale, dtype=float), ARD=True)
    rbf.variance.fix()  # unit-variance input kernel: the scale lives in B (as in ours)
    kernel = GPy.util.multioutput.ICM(input_dim=d, num_outputs=len(Xs), kernel=rbf, W_rank=start.W.shape[1],
                                      W=np.array(start.W, dtype=float), kappa=np.array(start.kappa, dtype=float))
    likelihoods = [GPy.likelihoods.Gaussian(variance=float(s2) - GPY_JITTER) for s2 in start.noise]
    return GPy.models.GPCoregionalizedRegression(Xs, [y[:, None] for y in ys], kernel=kernel,
                                                 likelihoods_list=likelihoods)


def hyper_of(model) -> ICMHyper:
    """The ICM hyperparameters of a ``GPCoregionalizedRegression`` built by ``icm_model`` (jitter added back)."""
    kernel = model.kern
    noise = np.array([float(np.asarray(g.variance)[0]) for g in model.mixed_noise.parameters]) + GPY_JITTER
    return ICMHyper(np.array(kernel.B.W), np.array(kernel.B.kappa), np.array(kernel.rbf.lengthscale), noise)


def icm_fit(Xs: list, ys: list, start: ICMHyper, max_iters: int, count_inferences: bool = False) -> GPyFit:
    """GPy's ML-II: ``icm_model(...).optimize(optimizer="lbfgsb", max_iters=max_iters)``.

    GPy passes ``maxiter = maxfun = max_iters`` to ``scipy.optimize.fmin_l_bfgs_b`` with its defaults
    otherwise (``factr=1e7``, ``pgtol=1e-5``: scipy ``minimize``'s ``ftol=2.2e-9``, ``gtol=1e-5``), over its
    transformed parameters (``Logexp``: x = log(exp(p) - 1) for the positive ones, W as it is).

    Parameters
    ----------
    Xs, ys : list of ndarray
        Inputs (n_t, d) and targets (n_t,) per task.
    start : ICMHyper
        The starting hyperparameters.
    max_iters : int
        GPy's ``max_iters``.
    count_inferences : bool, default=False
        Count GPy's exact inferences (a wrapper around its inference method: not for timed runs).
    """
    GPy = require("GPy")
    exact = GPy.inference.latent_function_inference.ExactGaussianInference
    original = exact.inference
    counter = {"calls": 0}

    def counting(self, *args, **kwargs):
        counter["calls"] += 1
        return original(self, *args, **kwargs)

    if count_inferences:
        exact.inference = counting
    try:
        model = icm_model(Xs, ys, start)
        run = model.optimize(optimizer="lbfgsb", max_iters=max_iters)
    finally:
        exact.inference = original
    return GPyFit(hyper_of(model), float(model.log_likelihood()), int(run.funct_eval),
                  counter["calls"] if count_inferences else -1, str(run.status))


def evaluation(Xs: list, ys: list, hyper: ICMHyper):
    """One GPy objective + gradient evaluation at ``hyper`` (a callable; the model is built once, untimed).

    ``_objective_grads`` is what L-BFGS-B calls: it writes the parameters (an exact inference: the
    Cholesky, the inverse and the inverse's triangular factor of the (N, N) covariance) and returns the
    negative log likelihood and its gradient.
    """
    model = icm_model(Xs, ys, hyper)
    x = model.optimizer_array.copy()
    return lambda: model._objective_grads(x)


def evaluation_parts(Xs: list, ys: list, hyper: ICMHyper) -> dict[str, object]:
    """The parts of one GPy evaluation at ``hyper``, as callables (the profile of G1).

    The kernel matrix (``kern.K``), GPy's ``pdinv`` of the covariance (jitchol, the inverse's triangular
    factor by dtrtri, which the gradient does not use, and the inverse by dpotri) and the kernel
    gradients from dL/dK (``kern.update_gradients_full``).
    """
    GPy = require("GPy")
    model = icm_model(Xs, ys, hyper)
    K = model.kern.K(model.X)
    Ky = K + np.diag(np.ravel(model.likelihood.gaussian_variance(model.Y_metadata)) + GPY_JITTER)
    dL_dK = model.grad_dict["dL_dK"]
    # kern.K caches its result by its input: a fresh copy of X (N x 3, negligible) each call computes it.
    return {"kernel matrix (kern.K)": lambda: model.kern.K(model.X.copy()),
            "pdinv: jitchol + dtrtri + dpotri + symmetrify": lambda: GPy.util.linalg.pdinv(Ky),
            "kernel gradients (kern.update_gradients_full)": lambda: model.kern.update_gradients_full(dL_dK, model.X)}
