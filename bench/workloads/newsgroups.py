"""Classification workload C4: the two MALSAR Newsgroups collections, coupled against independent.

``multitask.datasets.load_newsgroups(name)``: two binary text tasks each over 2,000 term counts.
Features log1p then unit rows (sparse CSR); per task a stratified 70/30 split for seeds 0 ... 4;
logistic models with ``coupling="mean_regularized"`` and ``"identity"``, default solver, tol=1e-8;
alpha per coupling and seed by 3-fold CV on the training part (grid 1e-6 ... 1e-2, ties to the larger
alpha). Reported: test accuracy, the paired difference, fit and CV times. No target.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import StratifiedKFold, train_test_split

import multitask as mt

from ..adapters import ours
from ..harness.threads import limit, limited
from ..harness.timing import round_robin
from ..harness.workload import Context, Outcome, Part, ms, table
from ..problems.logistic import text_features

NAME, IDS, GROUP = "newsgroups", ("C4",), "classification"
COLLECTIONS = ("comp_vs_sci", "rec_vs_talk")
ALPHAS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2)
COUPLINGS = ("mean_regularized", "identity")
NAMES = {"mean_regularized": "coupled (mean-regularised)", "identity": "independent (identity)"}
TOL = 1e-8
FOLDS = 3


def _accuracies(model, Xs, ys) -> tuple[float, list[float]]:
    predictions = model.predict(Xs)
    per_task = [float(np.mean(p == y)) for p, y in zip(predictions, ys)]
    return float(np.mean(np.concatenate([p == y for p, y in zip(predictions, ys)]))), per_task


def cross_validate(Xtr, ytr, coupling: str, seed: int, threads: int) -> float:
    """The alpha of ALPHAS with the best mean CV accuracy (folds stratified per task, paired across tasks)."""
    folds = [list(StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(np.zeros(y.size), y)) for y in ytr]
    scores = []
    for alpha in ALPHAS:
        fold_scores = []
        for k in range(FOLDS):
            model = ours.fit_classifier([X[f[k][0]] for X, f in zip(Xtr, folds)],
                                        [y[f[k][0]] for y, f in zip(ytr, folds)], coupling=coupling, alpha=alpha,
                                        tol=TOL, threads=threads)
            fold_scores.append(_accuracies(model, [X[f[k][1]] for X, f in zip(Xtr, folds)],
                                           [y[f[k][1]] for y, f in zip(ytr, folds)])[0])
        scores.append(float(np.mean(fold_scores)))
    return ALPHAS[max(range(len(ALPHAS)), key=lambda i: (scores[i], ALPHAS[i]))]


def collection(name: str, seeds, repeats: int, threads: int) -> dict:
    """Every seed of one collection: chosen alphas, accuracies, fit and CV times."""
    data = mt.datasets.load_newsgroups(name)
    Xs = [text_features(sp.csr_matrix(X)) for X in data.X]
    ys = [np.asarray(y) for y in data.y]
    out = {c: dict(alphas=[], per_task=[], pooled=[], fit_times=[], gradient_times=[], bcd_times=[], cv_times=[],
                   n_iter=[]) for c in COUPLINGS}
    for seed in seeds:
        splits = [train_test_split(np.arange(y.size), test_size=0.3, stratify=y, random_state=100 * seed + t)
                  for t, y in enumerate(ys)]
        Xtr, ytr = [X[tr] for X, (tr, _) in zip(Xs, splits)], [y[tr] for y, (tr, _) in zip(ys, splits)]
        Xte, yte = [X[te] for X, (_, te) in zip(Xs, splits)], [y[te] for y, (_, te) in zip(ys, splits)]
        chosen = {}
        with limit(threads):
            for coupling in COUPLINGS:
                start = time.perf_counter()
                chosen[coupling] = cross_validate(Xtr, ytr, coupling, seed, threads)
                out[coupling]["cv_times"].append(time.perf_counter() - start)
                model = ours.fit_classifier(Xtr, ytr, coupling=coupling, alpha=chosen[coupling], tol=TOL,
                                            threads=threads)
                pooled, per_task = _accuracies(model, Xte, yte)
                out[coupling]["alphas"].append(chosen[coupling])
                out[coupling]["pooled"].append(pooled)
                out[coupling]["per_task"].append(per_task)
                out[coupling]["n_iter"].append(model.n_iter_)
                out[coupling]["solver"] = model.solver_
        runs = {}
        for c in COUPLINGS:
            # block_newton separately only where auto ran something else (the coupled model: newton)
            for solver in ("auto", "gradient") + (("block_newton",) if out[c]["solver"] != "block_newton" else ()):
                runs[c, solver] = limited(threads, lambda c=c, solver=solver: ours.fit_classifier(
                    Xtr, ytr, coupling=c, alpha=chosen[c], solver=solver, tol=TOL, threads=threads))
        times = round_robin(runs, repeats)
        for coupling in COUPLINGS:
            out[coupling]["fit_times"].append(times[coupling, "auto"])
            out[coupling]["gradient_times"].append(times[coupling, "gradient"])
            out[coupling]["bcd_times"].append(times.get((coupling, "block_newton"), times[coupling, "auto"]))
    out["shapes"] = "; ".join(f"task {t + 1}: {X.shape[0]} × {X.shape[1]}, {X.nnz:,} entries" for t, X in enumerate(Xs))
    return out


def _mean_sd(values) -> str:
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.3f} ± {values.std(ddof=1) if values.size > 1 else 0.0:.3f}"


def _alpha_counts(alphas) -> str:
    unique, counts = np.unique(alphas, return_counts=True)
    return ", ".join(f"{a:g} (×{c})" for a, c in zip(unique, counts))


def run(context: Context, output_folder: Path) -> Outcome:
    """Measure C4."""
    seeds = (0, 1) if context.quick else (0, 1, 2, 3, 4)
    outcome = Outcome(figures=dict(n_seeds=len(seeds), seeds=", ".join(map(str, seeds)), threads=context.threads,
                                   repeats=context.repeats, alphas=", ".join(f"{a:g}" for a in ALPHAS),
                                   cv_fits=FOLDS * len(ALPHAS)))
    outcome.parts["collections"] = []
    for name in COLLECTIONS:
        r = collection(name, seeds, context.repeats, context.threads)
        rows = []
        for c in COUPLINGS:
            per_task = np.array(r[c]["per_task"])
            rows.append([NAMES[c], _alpha_counts(r[c]["alphas"]), _mean_sd(per_task[:, 0]), _mean_sd(per_task[:, 1]),
                         _mean_sd(r[c]["pooled"]), f"`{r[c]['solver']}`, {int(np.median(r[c]['n_iter']))}",
                         ms(float(np.median(r[c]["fit_times"]))), ms(float(np.median(r[c]["gradient_times"]))),
                         ms(float(np.median(r[c]["bcd_times"]))) + (" (= auto)" if r[c]["solver"] == "block_newton" else ""),
                         f"{np.median(r[c]['cv_times']):.2f}"])
        difference = np.array(r["mean_regularized"]["pooled"]) - np.array(r["identity"]["pooled"])
        part = Part("collection", figures=dict(
            name=name, shapes=r["shapes"], difference_mean=difference.mean(),
            difference_sd=difference.std(ddof=1) if difference.size > 1 else 0.0,
            per_seed=", ".join(f"{v:+.3f}" for v in difference),
            coupled=float(np.mean(r["mean_regularized"]["pooled"])), independent=float(np.mean(r["identity"]["pooled"]))))
        part.tables["accuracy"] = table(
            ["model", "α chosen (seeds)", "task 1 accuracy", "task 2 accuracy", "both (pooled)",
             "solver, iterations (median)", "fit time (ms)", "the same fit, `gradient` (ms)", "the same fit, `block_newton` (ms)",
             "CV time (s)"], rows)
        outcome.parts["collections"].append(part)
        outcome.summary.append(Part("summary", figures=part.figures))
    return outcome
