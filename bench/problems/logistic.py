"""Logistic loss with a task coupling, and the classification data sets.

    F(W, b) = (1/N) sum_t sum_i log(1 + exp(-y (<w_t, x> + b_t))) + alpha/2 sum_st K_st <w_s, w_t>

with uniform task weights and labels mapped to -1/+1 (the larger class +1, the estimator's convention).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

# Relative objective gap every classification method must reach.
GAP_TARGET = 1e-8


def signed_labels(ys: list) -> list[np.ndarray]:
    """Two-class labels as float -1/+1, the larger class +1."""
    classes = np.unique(np.concatenate([np.asarray(y) for y in ys]))
    return [np.where(np.asarray(y) == classes[1], 1.0, -1.0) for y in ys]


def objective(Xs: list, ys: list, coef: np.ndarray, intercept: np.ndarray, K: np.ndarray, alpha: float) -> float:
    """F(W, b) on the data (dense or CSR blocks), in numpy."""
    n_total = sum(X.shape[0] for X in Xs)
    loss = 0.0
    for X, y, w, b in zip(Xs, signed_labels(ys), coef, intercept):
        margins = np.asarray(X @ w).ravel() + b
        loss += float(np.sum(np.logaddexp(0.0, -y * margins)))
    coef = np.asarray(coef)
    return loss / n_total + 0.5 * alpha * float(np.sum(coef * (np.asarray(K) @ coef)))


def relative_gap(value: float, optimum: float) -> float:
    """(F - F*) / |F*|."""
    return (value - optimum) / abs(optimum)


def planted_dense(n_tasks: int, n_samples: int, n_features: int, seed: int = 0) -> tuple[list, list]:
    """Gaussian X_t and 0/1 labels from w_t = w_0 + v_t, a task intercept, y ~ Bernoulli(sigmoid)."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(size=n_features) * (2.0 / np.sqrt(n_features))
    Xs, ys = [], []
    for _ in range(n_tasks):
        X = rng.normal(size=(n_samples, n_features))
        w = shared + rng.normal(size=n_features) / np.sqrt(n_features)
        margins = X @ w + 0.3 * rng.normal()
        ys.append((rng.random(n_samples) < 1.0 / (1.0 + np.exp(-margins))).astype(np.int64))
        Xs.append(X)
    return Xs, ys


def _draws_for(p: np.ndarray, distinct: float) -> int:
    """Draws (with replacement, probabilities p) whose expected number of distinct values is ``distinct``."""
    lo, hi = int(distinct), int(4 * distinct) + 10
    while lo < hi:
        k = (lo + hi) // 2
        if np.sum(-np.expm1(k * np.log1p(-p))) < distinct:
            lo = k + 1
        else:
            hi = k
    return lo


def _int32_csr(X: sp.spmatrix) -> sp.csr_matrix:
    """Canonical CSR with int32 indices (what the core takes without a copy)."""
    X = sp.csr_matrix(X)
    X.sort_indices()
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    return X


def planted_sparse(n_tasks: int, n_rows: int, n_features: int, density: float, seed: int) -> tuple[list, list]:
    """TF-IDF-like CSR tasks and 0/1 labels from a planted model.

    Column indices from a Zipf-like distribution (p_j proportional to 1/(rank_j + 50), ranks
    shuffled) with enough draws that the distinct entries make ``density`` of a row; values Exp(1);
    rows L2-normalised. Labels: w_t = w_0 + v_t (w_0 on 2 % of the columns, v_t on 0.5 %), margins
    standardised to sd 4, y ~ Bernoulli(sigmoid(margin)).
    """
    rng = np.random.default_rng(seed)
    p = 1.0 / (np.arange(n_features) + 50.0)
    p = (p / p.sum())[rng.permutation(n_features)]
    draws = _draws_for(p, density * n_features)
    shared = np.where(rng.random(n_features) < 0.02, rng.normal(size=n_features), 0.0)
    Xs, ys = [], []
    for _ in range(n_tasks):
        rows = np.repeat(np.arange(n_rows), draws)
        cols = rng.choice(n_features, size=rows.size, p=p)
        X = sp.csr_matrix((rng.exponential(size=rows.size), (rows, cols)), shape=(n_rows, n_features))
        X.sum_duplicates()  # canonical: sorted, duplicates added
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
        X = _int32_csr(sp.diags(1.0 / norms) @ X)
        w = shared + np.where(rng.random(n_features) < 0.005, rng.normal(size=n_features), 0.0)
        margins = X @ w
        margins = (margins - margins.mean()) / margins.std() * 4.0
        ys.append((rng.random(n_rows) < 1.0 / (1.0 + np.exp(-margins))).astype(np.int64))
        Xs.append(X)
    return Xs, ys


def split_rows(Xs: list, ys: list, n_train: int) -> tuple[list, list, list, list]:
    """The first ``n_train`` rows of every task for training, the rest for testing."""
    return ([X[:n_train] for X in Xs], [y[:n_train] for y in ys], [X[n_train:] for X in Xs],
            [y[n_train:] for y in ys])


def csr_bytes(Xs: list) -> int:
    """Bytes of the CSR arrays (data + indices + indptr) of all tasks."""
    return int(sum(X.data.nbytes + X.indices.nbytes + X.indptr.nbytes for X in Xs))


def text_features(X: sp.spmatrix) -> sp.csr_matrix:
    """log1p of term counts, rows scaled to unit L2 norm; canonical int32 CSR."""
    from sklearn.preprocessing import normalize

    X = sp.csr_matrix(X, dtype=np.float64, copy=True)
    X.sum_duplicates()
    X.data = np.log1p(X.data)
    return _int32_csr(normalize(X, norm="l2"))


def pooled_accuracy(predictions: list, ys: list) -> float:
    """Accuracy over all tasks' rows pooled."""
    return float(np.mean(np.concatenate([p == y for p, y in zip(predictions, ys)])))
