"""The README's pictures of learned task relations on School: ``python bench/figures/school_relations.py``.

Fits, on the demo's training split of School (every school split 75/25, seed 0,
standardised features; see ``multitask.demos.school``), the clustered model
(CMTL, k = 3) and the task-covariance model (MTRL), and independent ridge as the
reference, then writes three PNG files next to this script:

* ``school_task_relations.png``: CMTL's M and MTRL's task correlation, ordered by the CMTL clusters;
* ``school_objective_history.png``: the objective of both alternations, per outer iteration;
* ``school_score_differences.png``: per-school test R^2 of MTRL minus independent ridge.

The parameters are fixed illustrative values (alpha = beta = 1e-3, the best of a
small grid on this split for MTRL), not a model selection; 1 thread.
"""

from __future__ import annotations

import os
import pathlib
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import multitask as mt  # noqa: E402
import multitask.plotting as mtplot  # noqa: E402
from multitask.demos.school import _school_problem  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
ALPHA, BETA, N_CLUSTERS = 1e-3, 1e-3, 3


def main() -> None:
    problem = _school_problem(0)
    train = (problem.X_train, problem.y_train)
    started = time.perf_counter()
    clusters = mt.TaskRelationRegressor("clusters", alpha=ALPHA, beta=BETA, n_clusters=N_CLUSTERS,
                                        random_state=0).fit(*train, tasks=problem.tasks_train)
    covariance = mt.TaskRelationRegressor("covariance", alpha=ALPHA, beta=BETA).fit(*train, tasks=problem.tasks_train)
    independent = mt.KernelCoupledRegressor(coupling="identity", alpha=ALPHA).fit(*train, tasks=problem.tasks_train)
    print(f"fitted in {time.perf_counter() - started:.1f} s: CMTL {clusters.n_iter_} and MTRL {covariance.n_iter_} "
          "outer iterations")

    figure, axes = plt.subplots(1, 2, figsize=(11, 4.8))
    M = clusters.cluster_matrix_
    scale = np.sqrt(np.diag(M))
    mtplot.plot_task_relations(M / np.outer(scale, scale), clusters=clusters.clusters_, ax=axes[0])
    axes[0].set_title(f"CMTL (k={N_CLUSTERS}): M scaled to unit diagonal")
    mtplot.plot_task_relations(covariance.task_correlation_, clusters=clusters.clusters_, ax=axes[1])
    axes[1].set_title("MTRL: learned task correlation, CMTL order")
    figure.tight_layout()
    figure.savefig(HERE / "school_task_relations.png", dpi=90)

    figure, axis = plt.subplots(figsize=(6, 4))
    mtplot.plot_objective_history(covariance, ax=axis)
    mtplot.plot_objective_history(clusters, ax=axis)
    axis.legend(["MTRL", "CMTL"])
    axis.set_title("School: objective minus its final value, per outer iteration")
    figure.tight_layout()
    figure.savefig(HERE / "school_objective_history.png", dpi=90)

    figure, axis = plt.subplots(figsize=(8, 4))
    test = (problem.X_test, problem.y_test)
    mtplot.plot_task_score_differences(covariance, independent, *test, tasks=problem.tasks_test, ax=axis)
    axis.set_xlabel("school (sorted)")
    axis.set_ylabel("test R^2: MTRL - independent ridge")
    figure.tight_layout()
    figure.savefig(HERE / "school_score_differences.png", dpi=90)
    print(f"wrote 3 figures to {HERE}")


if __name__ == "__main__":
    main()
