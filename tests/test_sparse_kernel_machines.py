"""scipy.sparse X for the kernel machines (MultiTaskKernelRidge, MultiTaskSVC).

The core computes the input kernels from CSR rows; the references are the same
fits on the densified inputs and scikit-learn's pairwise kernels, which share no
code with the sparse path.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics.pairwise import laplacian_kernel, linear_kernel, polynomial_kernel, rbf_kernel

import multitask as mt
from multitask._core import core
from multitask._sparse_input import as_canonical_csr, core_block

rng = np.random.default_rng(0)
SIZES = (30, 42, 25)
D = 40
Xs = [sp.random(n, D, density=0.15, format="csr", random_state=seed) for seed, n in enumerate(SIZES)]
Xs_dense = [X.toarray() for X in Xs]
ys = [rng.normal(size=n) for n in SIZES]
labels = [np.where(rng.normal(size=n) + 3 * X[:, 0].toarray().ravel() > 0, 1, -1) for X, n in zip(Xs, SIZES)]
KERNELS = ("linear", "rbf", "poly", "laplacian")
SKLEARN = {
    "linear": lambda A, B: linear_kernel(A, B),
    "rbf": lambda A, B: rbf_kernel(A, B, gamma=0.7),
    "poly": lambda A, B: polynomial_kernel(A, B, degree=3, gamma=0.7, coef0=1.0),
    "laplacian": lambda A, B: laplacian_kernel(A, B, gamma=0.7),
}


def csr_tuple(X, dtype=np.float64):
    return core_block(as_canonical_csr(sp.csr_array(X), "X", dtype))


def max_difference(a, b):
    return max(np.abs(np.asarray(x) - np.asarray(y)).max() for x, y in zip(a, b))


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_core_kernel_values_from_sparse_rows_match_sklearn(kernel, dtype):
    A = sp.random(23, D, density=0.2, format="csr", random_state=11)
    B = sp.random(300, D, density=0.1, format="csr", random_state=12)  # more than one row block of 256
    W = rng.normal(size=(300, 2))
    suffix = "f64" if dtype == np.float64 else "f32"
    arguments = dict(kernel=kernel, gamma=0.7, coef0=1.0, degree=3, n_threads=2)
    values = getattr(core, f"kernel_values_{suffix}")(X1=csr_tuple(A, dtype), X2=csr_tuple(B, dtype), weights=None,
                                                        **arguments)
    expansion = getattr(core, f"kernel_values_{suffix}")(X1=csr_tuple(A, dtype), X2=csr_tuple(B, dtype),
                                                           weights=W.astype(dtype), **arguments)
    reference = SKLEARN[kernel](A.toarray(), B.toarray())
    tolerance = 1e-12 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(values, reference, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(expansion, reference @ W, rtol=10 * tolerance, atol=10 * tolerance)


def test_core_rejects_mixed_dense_and_sparse_operands():
    A = sp.random(5, D, density=0.3, format="csr", random_state=1)
    with pytest.raises(ValueError, match="both dense or both sparse"):
        core.kernel_values_f64(X1=csr_tuple(A), X2=A.toarray(), kernel="rbf", gamma=1.0, coef0=1.0, degree=3,
                               weights=None, n_threads=1)


KERNEL_RIDGE_CASES = [(kernel, solver) for kernel in KERNELS for solver in ("cholesky", "cg", "nystroem")] + [
    (kernel, "random_features") for kernel in ("rbf", "laplacian")  # shift-invariant kernels only
]


@pytest.mark.parametrize("kernel, solver", KERNEL_RIDGE_CASES)
def test_kernel_ridge_sparse_equals_dense(kernel, solver):
    options = dict(kernel=kernel, gamma=0.7, coupling="mean_regularized", alpha=0.1, solver=solver, random_state=0,
                   n_components=40)
    sparse_model = mt.MultiTaskKernelRidge(**options).fit(Xs, ys)
    dense_model = mt.MultiTaskKernelRidge(**options).fit(Xs_dense, ys)
    if solver in ("cholesky", "cg"):
        assert sp.issparse(sparse_model.X_fit_)
        np.testing.assert_allclose(sparse_model.dual_coef_, dense_model.dual_coef_, rtol=1e-9, atol=1e-11)
    else:  # the primal model on the feature map (Nyström landmarks drawn from the sparse rows)
        assert sparse_model.X_fit_ is None or sp.issparse(sparse_model.X_fit_)
        np.testing.assert_allclose(sparse_model.coef_, dense_model.coef_, rtol=1e-8, atol=1e-10)
    # every pairing of sparse/dense training and test inputs predicts the same
    expected = dense_model.predict(Xs_dense)
    for model in (sparse_model, dense_model):
        for test in (Xs, Xs_dense):
            assert max_difference(model.predict(test), expected) < 1e-9


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("fit_intercept", ["per_task", "shared", False])
def test_svc_sparse_equals_dense(kernel, fit_intercept):
    options = dict(kernel=kernel, gamma=0.7, coupling="mean_regularized", alpha=0.01, fit_intercept=fit_intercept,
                   tol=1e-6)
    sparse_model = mt.MultiTaskSVC(**options).fit(Xs, labels)
    dense_model = mt.MultiTaskSVC(**options).fit(Xs_dense, labels)
    assert sparse_model.n_iter_ == dense_model.n_iter_
    np.testing.assert_array_equal(sparse_model.support_, dense_model.support_)
    np.testing.assert_allclose(sparse_model.dual_coef_, dense_model.dual_coef_, rtol=1e-9, atol=1e-10)
    assert max_difference(sparse_model.decision_function(Xs), dense_model.decision_function(Xs_dense)) < 1e-9


def test_svc_on_sparse_rows_is_sklearn_svc_per_task():
    """B = I with per-task intercepts: each task is scikit-learn's SVC on its sparse rows."""
    from sklearn.svm import SVC

    N = sum(SIZES)
    model = mt.MultiTaskSVC(kernel="rbf", gamma=0.7, alpha=1.0 / N, tol=1e-8).fit(Xs, labels)
    for X, y, scores in zip(Xs, labels, model.decision_function(Xs)):
        reference = SVC(kernel="rbf", gamma=0.7, C=1.0, tol=1e-8).fit(X, y)
        np.testing.assert_allclose(scores, reference.decision_function(X), atol=1e-5)


def test_long_format_and_shared_design_sparse():
    X = sp.vstack(Xs, format="csr")
    tasks = np.repeat(["a", "b", "c"], SIZES)
    order = rng.permutation(X.shape[0])
    X, tasks, y = X[order], tasks[order], np.concatenate(ys)[order]
    sparse_model = mt.MultiTaskKernelRidge(kernel="rbf", coupling="mean_regularized").fit(X, y, tasks=tasks)
    dense_model = mt.MultiTaskKernelRidge(kernel="rbf", coupling="mean_regularized").fit(X.toarray(), y, tasks=tasks)
    np.testing.assert_allclose(sparse_model.predict(X, tasks=tasks), dense_model.predict(X.toarray(), tasks=tasks),
                               atol=1e-10)
    Y = rng.normal(size=(X.shape[0], 3))  # a shared design: every task at every row
    for Model in (mt.MultiTaskKernelRidge, mt.MultiTaskSVC):
        targets = Y if Model is mt.MultiTaskKernelRidge else np.where(Y > 0, 1, -1)
        sparse_model = Model(kernel="rbf").fit(X, targets)
        dense_model = Model(kernel="rbf").fit(X.toarray(), targets)
        predict = "predict" if Model is mt.MultiTaskKernelRidge else "decision_function"
        np.testing.assert_allclose(getattr(sparse_model, predict)(X), getattr(dense_model, predict)(X.toarray()),
                                   atol=1e-9)


@pytest.mark.parametrize("kind", [sp.csc_matrix, sp.coo_array, sp.csr_matrix])
def test_any_sparse_format_and_float32(kind):
    converted = [kind(X.astype(np.float32)) for X in Xs]
    model = mt.MultiTaskKernelRidge(kernel="rbf", gamma=0.7).fit(converted, ys)
    dense_model = mt.MultiTaskKernelRidge(kernel="rbf", gamma=0.7).fit([X.astype(np.float32) for X in Xs_dense], ys)
    assert model.dual_coef_.dtype == np.float32
    assert max_difference(model.predict(converted), dense_model.predict(Xs_dense)) < 1e-4


def test_list_mixing_dense_and_sparse_blocks():
    mixed = [Xs[0], Xs_dense[1], Xs[2]]
    model = mt.MultiTaskSVC(kernel="linear", alpha=0.01).fit(mixed, labels)
    dense_model = mt.MultiTaskSVC(kernel="linear", alpha=0.01).fit(Xs_dense, labels)
    assert max_difference(model.decision_function(mixed), dense_model.decision_function(Xs_dense)) < 1e-9


def test_callable_kernel_receives_sparse_rows():
    seen = []

    def kernel(A, B):
        seen.append(sp.issparse(A) and sp.issparse(B))
        return rbf_kernel(A, B, gamma=0.7)

    model = mt.MultiTaskKernelRidge(kernel=kernel).fit(Xs, ys)
    reference = mt.MultiTaskKernelRidge(kernel="rbf", gamma=0.7).fit(Xs, ys)
    assert all(seen)
    assert max_difference(model.predict(Xs), reference.predict(Xs)) < 1e-10


def test_precomputed_kernel_values_must_be_dense():
    gram = sp.csr_array(rbf_kernel(Xs_dense[0]))
    with pytest.raises(TypeError, match="[Ss]parse"):
        mt.MultiTaskKernelRidge(kernel="precomputed").fit([gram], [ys[0]])


def test_non_finite_sparse_values_are_refused():
    bad = Xs[0].copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="X\\[0\\]"):
        mt.MultiTaskSVC(kernel="rbf").fit([bad, Xs[1], Xs[2]], labels)


def test_sparse_input_tag():
    assert mt.MultiTaskSVC().__sklearn_tags__().input_tags.sparse
    assert not mt.MultiTaskKernelRidge(kernel="precomputed").__sklearn_tags__().input_tags.sparse
