"""R1: learned task relations on School: MTRL and CMTL against the demo's models.

The split and preprocessing of ``multitask demo --dataset school`` (``multitask.demos.school``, seed 0:
75/25 within every school, column 27 dropped, the rest standardised on the training rows). Models:
independent ridge, pooled ridge and the mean-regularised model with the demo's cross-validated alpha
(and mu), and ``TaskRelationRegressor`` with relation="covariance" (MTRL) and "clusters" (CMTL),
whose (alpha, beta) (and k) are chosen on the same 3-fold split of the training part over the small
grids below. Every model is then refitted on the whole training part (timed, round-robin) and scored on
the test part. The learned models' time per outer iteration is compared with one kernel-coupled fit
(the mean-regularised model) timed in the same rounds.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

import multitask as mt
from multitask.demos import school as demo

from ..adapters.ours_relations import MAX_ITER, fit, fit_profile, relation_regressor
from ..harness.threads import limit
from ..harness.timing import round_robin
from ..harness.workload import Context, Outcome, Part, ms, table

NAME, IDS, GROUP = "task_relations_school", ("R1",), "task_relations"
SEED = 0
TOL = 1e-6  # the estimators' default
GRIDS = {
    "covariance": dict(alpha=(1e-4, 1e-3, 1e-2), beta=(1e-4, 1e-3, 1e-2), n_clusters=(2,)),
    "clusters": dict(alpha=(1e-2, 1e-1, 1.0), beta=(1e-4, 1e-3, 1e-2), n_clusters=(1, 2, 3)),
}
QUICK_SETTINGS = {"covariance": dict(alpha=1e-2, beta=1e-4, n_clusters=2),
                  "clusters": dict(alpha=1e-2, beta=1e-3, n_clusters=2)}
LABELS = {"covariance": "MTRL: `TaskRelationRegressor(relation=\"covariance\")`",
          "clusters": "CMTL: `TaskRelationRegressor(relation=\"clusters\")`"}


def problem(quick: bool) -> demo.DemoProblem:
    """The demo's School split (the first 12 schools when quick)."""
    p = demo.DEMO_PROBLEMS["school"](SEED)
    if quick:
        train, test = p.tasks_train < 12, p.tasks_test < 12
        p = demo.DemoProblem(p.name, p.X_train[train], p.y_train[train], p.tasks_train[train], p.X_test[test],
                             p.y_test[test], p.tasks_test[test], p.task_features[:12], p.notes)
    return p


def cross_validate(relation: str, p: demo.DemoProblem, folds: list, threads: int) -> tuple[dict, list]:
    """The grid setting with the smallest 3-fold squared error (the demo's folds); and every setting's error."""
    grid = GRIDS[relation]
    scores = []
    for alpha, beta, k in itertools.product(grid["alpha"], grid["beta"], grid["n_clusters"]):
        settings = dict(alpha=alpha, beta=beta, n_clusters=k)
        error = 0.0
        for rows, held_out in folds:
            model = fit(relation_regressor(relation, threads, tol=TOL, **settings), p.X_train[rows], p.y_train[rows],
                        p.tasks_train[rows])
            prediction = model.predict(p.X_train[held_out], tasks=p.tasks_train[held_out])
            error += float(np.sum((p.y_train[held_out] - prediction) ** 2))
        scores.append((error, settings))
    return min(scores, key=lambda item: item[0])[1], scores


def run(context: Context, output_folder: Path) -> Outcome:
    """Measure R1."""
    p, threads = problem(context.quick), context.threads
    T = p.n_tasks
    folds = demo.cv_folds(p, SEED)
    candidates = {
        "independent": demo.Candidate("independent ridge", False, lambda mu: "identity", [None]),
        "pooled": demo.Candidate("pooled ridge", True, lambda mu: "identity", [None]),
        "mean": demo.Candidate("mean-regularised", False, lambda mu: mt.coupling.mean_regularized(T, mu=mu),
                               demo.MUS),
    }
    with limit(threads, blas_only=True):
        chosen = {key: demo._cross_validate(candidate, p, folds, threads) for key, candidate in candidates.items()}
        settings, grid_scores = {}, {}
        for relation in ("covariance", "clusters"):
            if context.quick:
                settings[relation] = QUICK_SETTINGS[relation]
            else:
                settings[relation], grid_scores[relation] = cross_validate(relation, p, folds, threads)
        runs = {key: (lambda key=key: demo._fit(candidates[key], *chosen[key], p.X_train, p.y_train, p.tasks_train,
                                                threads)) for key in candidates}
        for relation in ("covariance", "clusters"):
            runs[relation] = (lambda relation=relation: fit(relation_regressor(relation, threads, tol=TOL,
                                                                               **settings[relation]),
                                                            p.X_train, p.y_train, p.tasks_train))
        models = {key: run() for key, run in runs.items()}  # also the warm-up of the timing
        times = round_robin(runs, context.repeats, warm_up=False)
        profiles = {relation: fit_profile(relation_regressor(relation, threads, tol=TOL, **settings[relation]),
                                          p.X_train, p.y_train, p.tasks_train)
                    for relation in ("covariance", "clusters")}
    reference = times["mean"]
    rows, figures = [], dict(T=T, n_train=p.y_train.size, n_test=p.y_test.size, threads=threads, tol=TOL,
                             reference_ms=reference * 1e3, seed=SEED, max_iter=MAX_ITER)
    for key, model in models.items():
        candidate = candidates.get(key)
        prediction = demo._predict(candidate, model, p.X_test, p.tasks_test) if candidate is not None \
            else model.predict(p.X_test, tasks=p.tasks_test)
        pooled_ev = demo.explained_variance_pooled(p.y_test, prediction)
        task_ev = demo.explained_variance_task_average(p.y_test, prediction, p.tasks_test)
        rmse = float(np.sqrt(np.mean((p.y_test - prediction) ** 2)))
        if candidate is not None:
            alpha, mu = chosen[key]
            name = f"{candidate.name} (`KernelCoupledRegressor`)"
            setting = f"alpha={alpha:.0e}" + ("" if mu is None else f", mu={mu:g}")
            iterations, per_iteration, ratio = "1 fit", "", "1" if key == "mean" else ""
        else:
            s = settings[key]
            name = LABELS[key]
            setting = f"alpha={s['alpha']:.0e}, beta={s['beta']:.0e}" + (f", k={s['n_clusters']}"
                                                                        if key == "clusters" else "")
            per = times[key] / model.n_iter_
            iterations, per_iteration = f"{model.n_iter_} ({model.n_solver_iter_})", ms(per)
            ratio = f"{per / reference:.2f}"
            prefix = "mtrl" if key == "covariance" else "cmtl"
            prof = profiles[key]
            figures.update({f"{prefix}_ms": times[key] * 1e3, f"{prefix}_iterations": model.n_iter_,
                            f"{prefix}_per_iteration_ratio": per / reference, f"{prefix}_total_ratio":
                            times[key] / reference, f"{prefix}_converged": bool(model.n_iter_ < model.max_iter),
                            f"{prefix}_p_total_ms": prof["total"] * 1e3,
                            f"{prefix}_p_model_ms": prof.get("model_steps", float("nan")) * 1e3,
                            f"{prefix}_p_core_ms": prof.get("core", float("nan")) * 1e3,
                            f"{prefix}_p_relation_ms": prof.get("relation_steps", float("nan")) * 1e3,
                            f"{prefix}_p_clusters_ms": prof.get("clusters", 0.0) * 1e3,
                            f"{prefix}_p_rest_ms": prof["rest"] * 1e3})
        rows.append([name, setting, f"{pooled_ev:.3f}", f"{task_ev:.3f}", f"{rmse:.3f}", ms(times[key]), iterations,
                     per_iteration, ratio])
    outcome = Outcome(figures=figures)
    outcome.tables["models"] = table(["model", "setting", "EV pooled", "EV task-avg", "test RMSE", "fit (ms)",
                                      "outer iterations (solver iterations)", "ms per outer iteration",
                                      "per outer iteration × mean-regularised fit"], rows)
    grid_rows = []
    for relation, scores in grid_scores.items():
        best = min(error for error, _ in scores)
        for error, s in scores:
            grid_rows.append([LABELS[relation].split(":")[0], f"{s['alpha']:.0e}", f"{s['beta']:.0e}",
                              s["n_clusters"] if relation == "clusters" else "", f"{error / best:.4f}"])
    if grid_rows:
        outcome.tables["grid"] = table(["model", "alpha", "beta", "k", "CV squared error / best"], grid_rows)
        outcome.blocks.append("opt_grid")
    outcome.summary.append(Part("summary"))
    return outcome
