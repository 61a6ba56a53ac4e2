"""Linear-kernel multi-task SVM on sparse text, K6: ``MultiTaskSVC`` on CSR rows against scikit-learn ``SVC``.

The two MALSAR 20 Newsgroups collections ("comp_vs_sci", "rec_vs_talk"): two binary tasks each over
one 2,000-term vocabulary; features log1p of the counts, rows scaled to unit L2 norm, kept in CSR;
a stratified 70/30 split per task. B = I with per-task intercepts, C = 1 (alpha = 1/N), tol = 1e-3:
each task's dual is LIBSVM's, so ours is compared with ``SVC(kernel="linear", C=1)`` fitted per task
on its CSR rows, and with ours on the densified rows (the cost before sparse input).
Target: ours <= 1.0x scikit-learn, the same test accuracy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import normalize
from sklearn.svm import SVC

import multitask as mt

from ..harness.threads import limit
from ..harness.timing import interleaved_times
from ..harness.workload import Context, Outcome, Part, ms, table, verdict

NAME, IDS, GROUP = "sparse_svc", ("K6",), "kernel_machines"
COLLECTIONS = ("comp_vs_sci", "rec_vs_talk")
TOL, TARGET = 1e-3, 1.0


def split_tasks(name: str, quick: bool) -> list[tuple]:
    """Per task (X_train, X_test, y_train, y_test): unit-norm log1p counts in CSR, stratified 70/30."""
    data = mt.datasets.load_newsgroups(name)
    tasks = []
    for X, y in zip(data.X, data.y):
        X, y = normalize(sp.csr_matrix(X, dtype=np.float64).log1p()), np.asarray(y)
        if quick:  # a stratified subset: the rows are sorted by label
            X, _, y, _ = train_test_split(X, y, train_size=300, stratify=y, random_state=0)
        tasks.append(train_test_split(X, y, test_size=0.3, stratify=y, random_state=0))
    return tasks


def run(context: Context, output_folder: Path) -> Outcome:
    """Measure K6."""
    rows, ratios, verdicts = [], [], {}
    for name in COLLECTIONS:
        X_train, X_test, y_train, y_test = (list(column) for column in zip(*split_tasks(name, context.quick)))
        X_dense = [X.toarray() for X in X_train]
        N = sum(X.shape[0] for X in X_train)
        ours = mt.MultiTaskSVC(kernel="linear", alpha=1.0 / N, tol=TOL, n_jobs=context.threads)
        ours_dense = mt.MultiTaskSVC(kernel="linear", alpha=1.0 / N, tol=TOL, n_jobs=context.threads)
        references = [SVC(kernel="linear", C=1.0, tol=TOL) for _ in X_train]
        with limit(context.threads, blas_only=True):
            times = interleaved_times({
                "ours": lambda: ours.fit(X_train, y_train),
                "ours dense": lambda: ours_dense.fit(X_dense, y_train),
                "sklearn": lambda: [svc.fit(X, y) for svc, X, y in zip(references, X_train, y_train)],
            }, context.repeats, budget=3.0 if context.quick else 30.0)
            ours.fit(X_train, y_train)
            for svc, X, y in zip(references, X_train, y_train):
                svc.fit(X, y)
        scores = ours.decision_function(X_test)
        reference_scores = [svc.decision_function(X) for svc, X in zip(references, X_test)]
        agreement = np.mean(np.concatenate([np.sign(a) == np.sign(b) for a, b in zip(scores, reference_scores)]))
        truth = np.concatenate(y_test)
        accuracy = np.mean(np.concatenate(ours.predict(X_test)) == truth)
        reference_accuracy = np.mean(np.concatenate([svc.predict(X) for svc, X in zip(references, X_test)]) == truth)
        ratio = times["ours"] / times["sklearn"]
        verdicts[f"K6 {name}"] = verdict(ratio, TARGET)
        ratios.append(f"{name} {ratio:.2f} ×")
        stored = sum(X.nnz for X in X_train) / sum(X.shape[0] * X.shape[1] for X in X_train)
        rows.append([name, N, f"{stored:.2%}", ms(times["sklearn"]), ms(times["ours"]), ms(times["ours dense"]),
                     f"{ratio:.2f}", f"{agreement:.2%}", f"{accuracy:.4f} / {reference_accuracy:.4f}",
                     f"**{verdicts[f'K6 {name}']}**"])
    outcome = Outcome()
    outcome.tables["sparse_svc"] = table(
        ["collection", "N train", "stored", "sklearn SVC per task (ms)", "ours sparse (ms)", "ours densified (ms)",
         "ours / sklearn", "test signs agree", "accuracy ours / sklearn", f"target ≤ {TARGET}"], rows)
    outcome.figures.update(threads=context.threads, tol=TOL, target=TARGET, ratios="; ".join(ratios),
                           statuses=" / ".join(verdicts.values()))
    outcome.verdicts.update(verdicts)
    outcome.summary.append(Part("summary"))
    return outcome
