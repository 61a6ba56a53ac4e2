"""Classification workload C4: the two MALSAR Newsgroups collections, coupled against independent.

``multitask.datasets.load_newsgroups(name)`` for "comp_vs_sci" and "rec_vs_talk": two binary
text-classification tasks each (labels 1/2) over one 2,000-term vocabulary of counts.

* features: log1p of the term counts, then every row scaled to unit L2 norm (sparse CSR throughout);
* per task a stratified 70/30 train/test split, for seeds 0 ... 4;
* models: logistic loss, ``coupling="mean_regularized"`` (K = I - 11^T/T + 0.1 I, coupled) and
  ``coupling="identity"`` (independent per task, = scikit-learn LogisticRegression(C=1/(N alpha))),
  default solver ("auto": bcd for diagonal K, newton otherwise, so newton for the coupled model and
  bcd for the independent one) and tol=1e-8;
* alpha for each coupling and seed by 3-fold CV on the training part (stratified per task, folds
  paired across tasks; mean pooled accuracy; grid 1e-6 ... 1e-2, ties to the larger alpha);
* reported: test accuracy per task (mean +- sd over the seeds), the paired difference coupled -
  independent, the time of the final fit (median of round-robin repeats; also with solver="gradient",
  and with solver="bcd" where auto did not pick it) and of the CV.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 python bench/bench_newsgroups.py

No target: a report.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import scipy.sparse as sp

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_classification import all_threads, fit_classifier, limited, round_robin  # noqa: E402
from common import main, markdown_table, ms, mt  # noqa: E402
from sklearn.model_selection import StratifiedKFold, train_test_split  # noqa: E402
from sklearn.preprocessing import normalize  # noqa: E402

COLLECTIONS = ("comp_vs_sci", "rec_vs_talk")
ALPHAS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2)
COUPLINGS = ("mean_regularized", "identity")
NAMES = {"mean_regularized": "coupled (mean-regularised)", "identity": "independent (identity)"}


def load(name: str):
    """(X list, y list, source): the package's loader, or the shared .npz while it is not there."""
    loader = getattr(mt.datasets, "load_newsgroups", None)
    if loader is not None:
        data = loader(name)
        return [sp.csr_matrix(X) for X in data.X], [np.asarray(y) for y in data.y], \
            f"`multitask.datasets.load_newsgroups(\"{name}\")`"
    path = os.path.join(HERE, "..", "..", "shared", "data", "malsar", "Newsgroup", f"{name}.npz")
    archive = np.load(path)
    Xs, ys = [], []
    for k in (1, 2):
        shape = tuple(int(v) for v in archive[f"task{k}_shape"])
        Xs.append(sp.csr_matrix((archive[f"task{k}_data"], archive[f"task{k}_indices"], archive[f"task{k}_indptr"]),
                                shape=shape))
        ys.append(archive[f"task{k}_y"].astype(np.int64))
    return Xs, ys, f"`{os.path.relpath(path, os.path.join(HERE, '..'))}`"


def features(X) -> sp.csr_matrix:
    """log1p(counts), rows scaled to unit L2 norm; canonical CSR with int32 indices."""
    X = sp.csr_matrix(X, dtype=np.float64, copy=True)
    X.sum_duplicates()
    X.data = np.log1p(X.data)
    X = sp.csr_matrix(normalize(X, norm="l2"))
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    return X


def pooled_accuracy(model, Xs, ys) -> tuple[float, list[float]]:
    predictions = model.predict(Xs)
    per_task = [float(np.mean(p == y)) for p, y in zip(predictions, ys)]
    pooled = float(np.mean(np.concatenate([p == y for p, y in zip(predictions, ys)])))
    return pooled, per_task


def cross_validate(Xtr, ytr, coupling: str, seed: int, threads: int, alphas=ALPHAS) -> tuple[float, list[float]]:
    """The alpha of ``alphas`` with the best mean 3-fold CV accuracy (ties: the larger alpha)."""
    folds = [list(StratifiedKFold(3, shuffle=True, random_state=seed).split(np.zeros(y.size), y)) for y in ytr]
    scores = []
    for alpha in alphas:
        fold_scores = []
        for k in range(3):
            fit_X = [X[f[k][0]] for X, f in zip(Xtr, folds)]
            fit_y = [y[f[k][0]] for y, f in zip(ytr, folds)]
            model = fit_classifier(fit_X, fit_y, coupling=coupling, alpha=alpha, tol=1e-8, threads=threads)
            fold_scores.append(pooled_accuracy(model, [X[f[k][1]] for X, f in zip(Xtr, folds)],
                                               [y[f[k][1]] for y, f in zip(ytr, folds)])[0])
        scores.append(float(np.mean(fold_scores)))
    best = max(range(len(alphas)), key=lambda i: (scores[i], alphas[i]))
    return alphas[best], scores


def collection(name: str, seeds, repeats: int, threads: int) -> dict:
    raw_X, ys, source = load(name)
    Xs = [features(X) for X in raw_X]
    out = {c: dict(alphas=[], per_task=[], pooled=[], fit_times=[], gradient_times=[], bcd_times=[], cv_times=[],
                   n_iter=[]) for c in COUPLINGS}
    for seed in seeds:
        train_test = [train_test_split(np.arange(y.size), test_size=0.3, stratify=y, random_state=100 * seed + t)
                      for t, y in enumerate(ys)]
        Xtr = [X[tr] for X, (tr, _) in zip(Xs, train_test)]
        ytr = [y[tr] for y, (tr, _) in zip(ys, train_test)]
        Xte = [X[te] for X, (_, te) in zip(Xs, train_test)]
        yte = [y[te] for y, (_, te) in zip(ys, train_test)]
        chosen = {}
        with all_threads(threads):
            for coupling in COUPLINGS:
                start = time.perf_counter()
                chosen[coupling], _ = cross_validate(Xtr, ytr, coupling, seed, threads)
                out[coupling]["cv_times"].append(time.perf_counter() - start)
                model = fit_classifier(Xtr, ytr, coupling=coupling, alpha=chosen[coupling], tol=1e-8, threads=threads)
                pooled, per_task = pooled_accuracy(model, Xte, yte)
                out[coupling]["alphas"].append(chosen[coupling])
                out[coupling]["pooled"].append(pooled)
                out[coupling]["per_task"].append(per_task)
                out[coupling]["n_iter"].append(model.n_iter_)
                out[coupling]["solver"] = model.solver_
        runs = {}
        for c in COUPLINGS:
            # bcd separately only where auto ran something else (the coupled model: newton); else it is auto's fit
            for solver in ("auto", "gradient") + (("bcd",) if out[c]["solver"] != "bcd" else ()):
                runs[c, solver] = limited(threads, lambda c=c, solver=solver: fit_classifier(
                    Xtr, ytr, coupling=c, alpha=chosen[c], solver=solver, tol=1e-8, threads=threads))
        times = round_robin(runs, repeats)
        for coupling in COUPLINGS:
            out[coupling]["fit_times"].append(times[coupling, "auto"])
            out[coupling]["gradient_times"].append(times[coupling, "gradient"])
            out[coupling]["bcd_times"].append(times.get((coupling, "bcd"), times[coupling, "auto"]))
    out["source"] = source
    out["shape"] = [X.shape for X in Xs]
    out["nnz"] = [X.nnz for X in Xs]
    return out


def mean_sd(values) -> str:
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.3f} ± {values.std(ddof=1) if values.size > 1 else 0.0:.3f}"


def alpha_counts(alphas) -> str:
    unique, counts = np.unique(alphas, return_counts=True)
    return ", ".join(f"{a:g} (×{c})" for a, c in zip(unique, counts))


def run(repeats: int = 5, threads: int = 1, quick: bool = False) -> dict:
    seeds = (0, 1) if quick else (0, 1, 2, 3, 4)
    results = {name: collection(name, seeds, repeats, threads) for name in COLLECTIONS}
    first = results[COLLECTIONS[0]]
    lines = [
        f"### C4. Newsgroups (MALSAR): coupled against independent logistic models, {len(seeds)} seeds",
        "",
        f"Data: {first['source']} and the same for \"rec_vs_talk\": two tasks each, 2,000 term counts. Features: "
        "log1p of the counts, then rows scaled to unit L2 norm (sparse CSR). Per task a stratified 70/30 split "
        f"(seeds {', '.join(map(str, seeds))}). Models: logistic loss, default solver (`auto`: `bcd` for diagonal "
        "K, `newton` otherwise, so `newton` for the coupled model and `bcd` for the independent one) and tol=1e-8, "
        "`coupling=\"mean_regularized\"` (μ = 0.1) against `coupling=\"identity\"` (independent: scikit-learn "
        "`LogisticRegression(C=1/(Nα))` per task). α for each coupling and seed by 3-fold CV on the training part "
        f"(stratified per task, folds paired across tasks; mean pooled accuracy; grid {', '.join(f'{a:g}' for a in ALPHAS)}; "
        "ties to the larger α). Accuracy on the test part: mean ± sd over the seeds. Fit time: the final fit on the "
        f"training part, median of {repeats} round-robin repeats, then the median over seeds (also with "
        "`solver=\"gradient\"` and `solver=\"bcd\"`, same α and tol, for comparison; where `auto` ran `bcd` "
        "the `bcd` column is that fit, marked \"= auto\"); CV time: the "
        f"{3 * len(ALPHAS)} CV fits and predictions of one seed (median over seeds). Threads: {threads}. No target.",
        "",
    ]
    summary_rows = []
    for name, r in results.items():
        rows = []
        for c in COUPLINGS:
            per_task = np.array(r[c]["per_task"])
            rows.append([NAMES[c], alpha_counts(r[c]["alphas"]), mean_sd(per_task[:, 0]), mean_sd(per_task[:, 1]),
                         mean_sd(r[c]["pooled"]), f"`{r[c]['solver']}`, {int(np.median(r[c]['n_iter']))}",
                         ms(float(np.median(r[c]["fit_times"]))), ms(float(np.median(r[c]["gradient_times"]))),
                         ms(float(np.median(r[c]["bcd_times"]))) + (" (= auto)" if r[c]["solver"] == "bcd" else ""),
                         f"{np.median(r[c]['cv_times']):.2f}"])
        difference = np.array(r["mean_regularized"]["pooled"]) - np.array(r["identity"]["pooled"])
        shapes = "; ".join(f"task {t + 1}: {s[0]} × {s[1]}, {nnz:,} entries" for t, (s, nnz)
                           in enumerate(zip(r["shape"], r["nnz"])))
        lines += [
            f"**{name}** ({shapes})",
            "",
            markdown_table(["model", "α chosen (seeds)", "task 1 accuracy", "task 2 accuracy", "both (pooled)",
                            "solver, iterations (median)", "fit time (ms)", "the same fit, `gradient` (ms)",
                            "the same fit, `bcd` (ms)", "CV time (s)"], rows),
            "",
            f"Coupled − independent, pooled test accuracy, paired by seed: {difference.mean():+.3f} ± "
            f"{difference.std(ddof=1) if difference.size > 1 else 0.0:.3f} "
            f"(per seed: {', '.join(f'{v:+.3f}' for v in difference)}).",
            "",
        ]
        summary_rows.append([f"C4. Newsgroups {name}: test accuracy coupled / independent (mean over seeds)",
                             f"{np.mean(r['mean_regularized']['pooled']):.3f} / {np.mean(r['identity']['pooled']):.3f}",
                             "(none)", "report"])
    return {"section": "\n".join(lines).rstrip(), "summary_rows": summary_rows, "results": results}


if __name__ == "__main__":
    main(run, __doc__)
