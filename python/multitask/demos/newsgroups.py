"""``multitask demo --dataset newsgroups``: coupled and independent logistic models on 20 Newsgroups.

Two logistic models, fitted with :class:`multitask.KernelCoupledClassifier`, on a
two-task 20 Newsgroups collection:

* independent: K = I, a separate L2-penalised logistic regression per task;
* mean-regularised: K = I - 11^T/T + mu I (mu = 0.1), both tasks pulled towards their mean model.

alpha is chosen by :class:`multitask.KernelCoupledClassifierCV` on the training
part only (folds stratified within every task and class by scikit-learn's
``StratifiedKFold``), each model is refitted on the whole training part and
scored on the held-out part.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import scipy.sparse

from sklearn.model_selection import StratifiedKFold, train_test_split

from .._classifier import KernelCoupledClassifier
from .._classifier_cv import KernelCoupledClassifierCV
from ..datasets import load_newsgroups
from ._common import N_FOLDS, print_table, progress

__all__ = ["NEWSGROUPS_ALPHAS", "NEWSGROUPS_NAMES", "log1p_unit_rows", "run_newsgroups_demo"]

NEWSGROUPS_NAMES = ("comp_vs_sci", "rec_vs_talk")
NEWSGROUPS_TEST_FRACTION = 0.3
# With unit-norm rows, alpha = 1e-4 is about LogisticRegression(C=4) on ~2,600 training documents.
NEWSGROUPS_ALPHAS = np.logspace(-6, -2, 5)
# (model name, coupling of KernelCoupledClassifier)
NEWSGROUPS_MODELS = (("independent", "identity"), ("mean-regularised", "mean_regularized"))


def log1p_unit_rows(X: scipy.sparse.csr_array) -> scipy.sparse.csr_array:
    """Term counts to features: log(1 + count) of every entry, then every row scaled to unit L2 norm.

    Only the stored values change (the sparsity structure is kept); an empty row stays zero.
    """
    X = scipy.sparse.csr_array(X, copy=True)
    X.data = np.log1p(X.data)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X.data /= np.repeat(np.where(norms > 0, norms, 1.0), np.diff(X.indptr))
    return X


@dataclass
class TaskLists:
    """Per-task data in list form: X[t] (n_t, d) sparse and y[t] (n_t,) labels."""

    X: list[scipy.sparse.csr_array]
    y: list[np.ndarray]

    def rows(self, keep: Sequence[np.ndarray]) -> "TaskLists":
        """The rows where ``keep[t]`` (a boolean mask per task) is true."""
        chosen = [np.flatnonzero(mask) for mask in keep]
        return TaskLists([X[rows] for X, rows in zip(self.X, chosen)], [y[rows] for y, rows in zip(self.y, chosen)])


def _logistic_model(coupling: str, alpha: float, n_jobs: int | None) -> Any:
    """An unfitted logistic :class:`KernelCoupledClassifier` with coupling K and penalty ``alpha``."""
    return KernelCoupledClassifier(coupling=coupling, alpha=alpha, loss="logistic", n_jobs=n_jobs)


def _strata(y: Sequence[np.ndarray]) -> np.ndarray:
    """One stratum per (task, class): the rows of the tasks stacked in order."""
    return np.concatenate([t * 2 + (labels == np.unique(labels)[-1]) for t, labels in enumerate(y)])


def _newsgroups_alpha(
    coupling: str, train: TaskLists, folds: Sequence[tuple[np.ndarray, np.ndarray]], n_jobs: int | None
) -> tuple[float, float]:
    """(alpha, cross-validated accuracy): the best mean accuracy over the folds.

    The grid is given from the largest alpha down, so ties go to the stronger penalty.
    """
    search = KernelCoupledClassifierCV(coupling=coupling, alphas=np.sort(NEWSGROUPS_ALPHAS)[::-1], cv=folds,
                                       loss="logistic", n_jobs=n_jobs).fit(train.X, train.y)
    return search.alpha_, search.best_score_


def run_newsgroups_demo(name: str, seed: int, n_jobs: int | None) -> int:
    """Fit independent and mean-regularised logistic models on a 20 Newsgroups collection; print the table."""
    started = time.perf_counter()
    train_percent = round(100 * (1 - NEWSGROUPS_TEST_FRACTION))
    split = f"{train_percent}/{100 - train_percent}"
    progress(f"loading newsgroups {name} and splitting every task {split} within each class (seed {seed}) ...")
    data = load_newsgroups(name)
    tasks = TaskLists([log1p_unit_rows(X) for X in data.X], list(data.y))
    strata = _strata(tasks.y)
    _, test_rows = train_test_split(np.arange(strata.size), test_size=NEWSGROUPS_TEST_FRACTION, stratify=strata,
                                    random_state=seed)
    is_test = np.zeros(strata.size, dtype=bool)
    is_test[test_rows] = True
    is_test = np.split(is_test, np.cumsum([y.size for y in tasks.y])[:-1])
    train, test = tasks.rows([~mask for mask in is_test]), tasks.rows(is_test)
    # Folds of the training rows stacked task after task (as the CV estimator stacks the lists).
    splitter = StratifiedKFold(N_FOLDS, shuffle=True, random_state=seed + 1)
    train_strata = _strata(train.y)
    folds = list(splitter.split(np.zeros(train_strata.size), train_strata))

    header = ["model", "alpha", "CV acc", *(f"{task} acc" for task in data.task_names), "mean acc", "fit ms"]
    rows = []
    for model_name, coupling in NEWSGROUPS_MODELS:
        progress(f"cross-validating {model_name} ({N_FOLDS}-fold, {len(NEWSGROUPS_ALPHAS)} alphas) ...")
        alpha, cv_accuracy = _newsgroups_alpha(coupling, train, folds, n_jobs)
        progress(f"refitting {model_name} on the whole training part ...")
        fit_started = time.perf_counter()
        model = _logistic_model(coupling, alpha, n_jobs).fit(train.X, train.y)
        fit_ms = 1e3 * (time.perf_counter() - fit_started)
        accuracies = [float(np.mean(p == y)) for p, y in zip(model.predict(test.X), test.y)]
        rows.append(
            [
                model_name,
                f"{alpha:.0e}",
                f"{cv_accuracy:.3f}",
                *(f"{accuracy:.3f}" for accuracy in accuracies),
                f"{np.mean(accuracies):.3f}",
                f"{fit_ms:.1f}",
            ]
        )

    n_train, n_test = sum(y.size for y in train.y), sum(y.size for y in test.y)
    print(
        f"20 Newsgroups {name}: {len(data.task_names)} tasks, {n_train} training and {n_test} test documents "
        f"(random {split} split within every task and class, seed {seed})"
    )
    print(f"features: {data.X_all.shape[1]} term counts, log(1 + count) then every row scaled to unit L2 norm")
    alphas = ", ".join(f"{alpha:.0e}" for alpha in NEWSGROUPS_ALPHAS)
    print(f"alpha from {{{alphas}}} chosen by {N_FOLDS}-fold cross-validated accuracy ('CV acc') on the training part,")
    print("folds stratified within every task, then refitted on all of it; 'fit ms' times that final fit")
    print()
    print_table(header, rows)
    print()
    print("independent: K = I, a separate L2-penalised logistic regression per task")
    print("mean-regularised: K = I - 11^T/T + mu I with mu = 0.1, the tasks pulled towards their mean model")
    print("task acc: fraction of the task's test documents classified correctly; mean acc: mean over the tasks")
    progress(f"done in {time.perf_counter() - started:.1f} s")
    return 0
