"""G1 out of the box: ours and GPy each from its own default start, the same L-BFGS-B budget.

G1 (bench/workloads/gaussian_process.py) starts both packages from the same point, so that the fit
ratio is the per-evaluation ratio. This script instead starts each from its defaults, as a user
would: GPy's ICM draws W at random (seeded here), unit length-scales, kappa 0.5 and noise 1; ours
scales its start to the data. Both run L-BFGS-B for at most 200 iterations with scipy's default
stopping rule. The script prints the fit times, the evaluations and both log marginal likelihoods
(GPy's own value; ours by our estimator).

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python bench/gp_gpy_default_start.py 100   # per-task n (N = 4n)
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import multitask as mt  # noqa: E402
from bench.problems.gaussian_process import own_inputs  # noqa: E402


def main(n_per_task: int) -> None:
    import GPy

    warnings.simplefilter("ignore")
    Xs, ys, _ = own_inputs(4, n_per_task, 2, 2, seed=0)
    np.random.seed(0)  # GPy's ICM draws W with numpy's global generator
    rbf = GPy.kern.RBF(2, ARD=True)
    rbf.variance.fix()  # unit-variance input kernel, as ours: the scale lives in B
    kernel = GPy.util.multioutput.ICM(input_dim=2, num_outputs=4, kernel=rbf, W_rank=2)
    model = GPy.models.GPCoregionalizedRegression(Xs, [y[:, None] for y in ys], kernel=kernel)
    began = time.perf_counter()
    run = model.optimize(optimizer="lbfgsb", max_iters=200)
    gpy_seconds = time.perf_counter() - began
    print(f"GPy:  {gpy_seconds:.2f} s, {run.funct_eval} evaluations, {run.status}, "
          f"log p(y) = {float(model.log_likelihood()):.6f}")
    began = time.perf_counter()
    ours = mt.MultiTaskGaussianProcessRegressor(rank=2, mean="zero", max_iter=200, n_jobs=1).fit(Xs, ys)
    ours_seconds = time.perf_counter() - began
    print(f"ours: {ours_seconds:.2f} s, {ours.n_evaluations_} evaluations, "
          f"log p(y) = {ours.log_marginal_likelihood_value_:.6f}; ratio {ours_seconds / gpy_seconds:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
