"""Coupling builders and validation, checked against the penalties they are meant to encode."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.metrics.pairwise import linear_kernel, polynomial_kernel, rbf_kernel

import multitask.coupling as coupling


def quadratic_form(W, K):
    """sum_{s,t} K_st <w_s, w_t> written as the double sum, W of shape (d, T)."""
    T = W.shape[1]
    return sum(K[s, t] * W[:, s] @ W[:, t] for s in range(T) for t in range(T))


def random_models(rng, n_features, n_tasks):
    return rng.standard_normal((n_features, n_tasks))


def random_spd(rng, n, shift=0.5):
    A = rng.standard_normal((n, n))
    return A @ A.T + shift * np.eye(n)


def assert_coupling_array(K, n_tasks):
    assert isinstance(K, np.ndarray)
    assert K.dtype == np.float64
    assert K.shape == (n_tasks, n_tasks)
    assert K.flags.c_contiguous
    np.testing.assert_array_equal(K, K.T)


# --------------------------------------------------------------------------------------------
# identity
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_tasks", [1, 2, 7])
def test_identity_is_independent_ridge(n_tasks):
    K = coupling.identity(n_tasks)
    assert_coupling_array(K, n_tasks)
    W = random_models(np.random.default_rng(0), 4, n_tasks)
    # tr(W I W^T) = sum_t ||w_t||^2: no coupling between tasks.
    assert quadratic_form(W, K) == pytest.approx(np.sum(W**2), rel=1e-12)
    np.testing.assert_array_equal(K, np.eye(n_tasks))


# --------------------------------------------------------------------------------------------
# mean_regularized
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_tasks", [1, 2, 5, 139])
@pytest.mark.parametrize("mu", [0.0, 0.1, 3.0])
def test_mean_regularized_penalty(n_tasks, mu):
    K = coupling.mean_regularized(n_tasks, mu=mu)
    assert_coupling_array(K, n_tasks)
    W = random_models(np.random.default_rng(n_tasks), 6, n_tasks)
    w_bar = W.mean(axis=1, keepdims=True)
    # Evgeniou & Pontil: sum_t ||w_t - wbar||^2 + mu sum_t ||w_t||^2.
    expected = np.sum((W - w_bar) ** 2) + mu * np.sum(W**2)
    assert np.trace(W @ K @ W.T) == pytest.approx(expected, rel=1e-10, abs=1e-12)
    assert quadratic_form(W, K) == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_mean_regularized_spectrum():
    T, mu = 6, 0.25
    eigenvalues = np.linalg.eigvalsh(coupling.mean_regularized(T, mu=mu))
    # mu along the all-ones direction, 1 + mu on its orthogonal complement.
    np.testing.assert_allclose(eigenvalues, [mu] + [1 + mu] * (T - 1), atol=1e-14)


def test_mean_regularized_single_task_is_mu():
    np.testing.assert_array_equal(coupling.mean_regularized(1, mu=0.1), [[0.1]])
    np.testing.assert_array_equal(coupling.mean_regularized(1), [[0.1]])
    np.testing.assert_array_equal(coupling.mean_regularized(1, mu=0), [[0.0]])


def test_mean_regularized_default_mu():
    np.testing.assert_allclose(coupling.mean_regularized(4), np.eye(4) - 0.25 + 0.1 * np.eye(4), atol=1e-15)


# --------------------------------------------------------------------------------------------
# graph_laplacian and chain
# --------------------------------------------------------------------------------------------


def random_adjacency(rng, n, density=0.5):
    A = rng.uniform(0.1, 2.0, (n, n)) * (rng.uniform(size=(n, n)) < density)
    A = np.triu(A, 1)
    A = A + A.T
    np.fill_diagonal(A, rng.uniform(0, 5, n))  # self-loops must be ignored
    return A


@pytest.mark.parametrize("ridge", [0.0, 0.1, 2.0])
def test_graph_laplacian_penalty_is_sum_over_edges(ridge):
    rng = np.random.default_rng(1)
    T = 7
    A = random_adjacency(rng, T)
    K = coupling.graph_laplacian(A, ridge=ridge)
    assert_coupling_array(K, T)
    W = random_models(rng, 5, T)
    edges = sum(A[s, t] * np.sum((W[:, s] - W[:, t]) ** 2) for s in range(T) for t in range(s + 1, T))
    expected = edges + ridge * np.sum(W**2)
    assert np.trace(W @ K @ W.T) == pytest.approx(expected, rel=1e-12)
    assert quadratic_form(W, K) == pytest.approx(expected, rel=1e-12)


def test_graph_laplacian_ignores_the_diagonal_and_does_not_modify_input():
    rng = np.random.default_rng(2)
    A = random_adjacency(rng, 5)
    original = A.copy()
    without_loops = A.copy()
    np.fill_diagonal(without_loops, 0.0)
    np.testing.assert_array_equal(coupling.graph_laplacian(A), coupling.graph_laplacian(without_loops))
    np.testing.assert_array_equal(A, original)


def test_graph_laplacian_negative_diagonal_is_ignored():
    A = np.array([[-5.0, 1.0], [1.0, -1.0]])
    np.testing.assert_allclose(coupling.graph_laplacian(A, ridge=0.0), [[1.0, -1.0], [-1.0, 1.0]])


def test_graph_laplacian_rows_sum_to_ridge():
    rng = np.random.default_rng(3)
    K = coupling.graph_laplacian(random_adjacency(rng, 6), ridge=0.3)
    # L 1 = 0, so (L + ridge I) 1 = ridge 1.
    np.testing.assert_allclose(K.sum(axis=1), 0.3, atol=1e-13)


def test_graph_laplacian_matches_malsar_incidence_matrix():
    rng = np.random.default_rng(4)
    T = 6
    A = random_adjacency(rng, T)
    np.fill_diagonal(A, 0.0)
    edges = [(s, t) for s in range(T) for t in range(s + 1, T) if A[s, t] > 0]
    # Incidence matrix R (T x E): column e = sqrt(a_st) (e_s - e_t).
    R = np.zeros((T, len(edges)))
    for e, (s, t) in enumerate(edges):
        R[s, e], R[t, e] = np.sqrt(A[s, t]), -np.sqrt(A[s, t])
    L = coupling.graph_laplacian(A, ridge=0.0)
    np.testing.assert_allclose(R @ R.T, L, atol=1e-13)
    W = random_models(rng, 4, T)
    # The penalty alone: rho ||W R||_F^2 == (alpha/2) tr(W K W^T) with K = 2 R R^T and alpha = rho. MALSAR's
    # data term is a sum, not a mean, so its whole objective maps to K = L, alpha = 2 rho / N (test_peer_mappings.py).
    rho = 0.7
    assert rho * np.linalg.norm(W @ R) ** 2 == pytest.approx(rho / 2 * np.trace(W @ (2 * L) @ W.T), rel=1e-12)


def test_graph_laplacian_accepts_integer_boolean_and_list_adjacency():
    A = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    expected = np.array([[1.0, -1, 0], [-1, 2, -1], [0, -1, 1]]) + 0.1 * np.eye(3)
    np.testing.assert_allclose(coupling.graph_laplacian(A), expected, atol=1e-15)
    np.testing.assert_allclose(coupling.graph_laplacian(A.astype(bool)), expected, atol=1e-15)
    np.testing.assert_allclose(coupling.graph_laplacian(A.tolist()), expected, atol=1e-15)


@pytest.mark.parametrize(
    "adjacency, message",
    [
        (np.array([[0.0, 1.0], [2.0, 0.0]]), "adjacency must be symmetric; its largest asymmetry .* is 1"),
        (np.array([[0.0, -1.0], [-1.0, 0.0]]), "adjacency must have non-negative weights.* -1"),
        (np.array([[0.0, np.nan], [np.nan, 0.0]]), "adjacency contains NaN"),
        (np.ones((2, 3)), "adjacency must be a square 2-D matrix"),
        (np.ones((2, 2, 2)), "adjacency must be a square 2-D matrix"),
        (np.ones((2, 2), dtype=complex), "adjacency must be real"),
        (np.empty((0, 0)), "adjacency must not be empty"),
    ],
)
def test_graph_laplacian_rejects(adjacency, message):
    with pytest.raises(ValueError, match=message):
        coupling.graph_laplacian(adjacency)


@pytest.mark.parametrize("n_tasks", [2, 3, 10])
def test_chain_is_path_graph(n_tasks):
    ridge = 0.2
    K = coupling.chain(n_tasks, ridge=ridge)
    assert_coupling_array(K, n_tasks)
    W = random_models(np.random.default_rng(n_tasks), 3, n_tasks)
    differences = sum(np.sum((W[:, t + 1] - W[:, t]) ** 2) for t in range(n_tasks - 1))
    assert np.trace(W @ K @ W.T) == pytest.approx(differences + ridge * np.sum(W**2), rel=1e-12)
    # Tridiagonal: degrees (1, 2, ..., 2, 1) + ridge on the diagonal, -1 beside it.
    degrees = np.full(n_tasks, 2.0)
    degrees[[0, -1]] = 1.0
    expected = np.diag(degrees + ridge) - np.eye(n_tasks, k=1) - np.eye(n_tasks, k=-1)
    np.testing.assert_allclose(K, expected, atol=1e-15)


def test_chain_single_task_is_ridge():
    np.testing.assert_array_equal(coupling.chain(1), [[0.1]])
    np.testing.assert_array_equal(coupling.chain(1, ridge=0.5), [[0.5]])


# --------------------------------------------------------------------------------------------
# from_task_kernel and task_kernel
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_tasks", [1, 3, 20])
def test_from_task_kernel_inverts(n_tasks):
    B = random_spd(np.random.default_rng(5), n_tasks)
    K = coupling.from_task_kernel(B)
    assert_coupling_array(K, n_tasks)
    np.testing.assert_allclose(K @ B, np.eye(n_tasks), atol=1e-10)
    np.testing.assert_allclose(K, np.linalg.inv(B), rtol=1e-10, atol=1e-12)


def test_from_task_kernel_accepts_round_off_asymmetry_and_lists():
    B = random_spd(np.random.default_rng(6), 4)
    B_noisy = B.copy()
    B_noisy[0, 1] *= 1 + 1e-14
    np.testing.assert_allclose(coupling.from_task_kernel(B_noisy), np.linalg.inv(B), rtol=1e-9)
    np.testing.assert_allclose(coupling.from_task_kernel(B.tolist()), np.linalg.inv(B), rtol=1e-10)


def test_from_task_kernel_of_mean_regularized_prior():
    # B = K^{-1} and back: from_task_kernel(inv(K)) recovers K.
    K = coupling.mean_regularized(5, mu=0.3)
    np.testing.assert_allclose(coupling.from_task_kernel(np.linalg.inv(K)), K, atol=1e-12)


@pytest.mark.parametrize(
    "B, message",
    [
        (np.array([[2.0, 1.0], [0.0, 2.0]]), "B must be symmetric.*asymmetry"),
        (np.array([[1.0, 2.0], [2.0, 1.0]]), "B must be positive definite.*smallest eigenvalue is -1"),
        (np.ones((3, 3)), "B must be positive definite.*smallest eigenvalue"),
        (np.zeros((2, 2)), "B must be positive definite"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), "B contains NaN"),
        (np.array([[1.0, 0.0], [0.0, np.inf]]), "B contains NaN or infinite"),
        (np.eye(2) + 0j, "B must be real"),
        (np.eye(3)[:2], r"B must be a square 2-D matrix, got shape \(2, 3\)"),
        (np.ones((2, 2, 2)), "B must be a square 2-D matrix"),
        (np.ones(3), "B must be a square 2-D matrix"),
        (np.empty((0, 0)), "B must not be empty"),
        (np.array([["a", "b"], ["c", "d"]]), "B must be a real numeric array"),
    ],
)
def test_from_task_kernel_rejects(B, message):
    with pytest.raises(ValueError, match=message):
        coupling.from_task_kernel(B)


def direct_kernel(F, function):
    T = F.shape[0]
    return np.array([[function(F[s], F[t]) for t in range(T)] for s in range(T)])


@pytest.fixture
def task_features():
    return np.random.default_rng(7).standard_normal((6, 3))


def test_task_kernel_rbf(task_features):
    F = task_features
    B = coupling.task_kernel(F)
    assert_coupling_array(B, 6)
    # Default gamma = 1 / p.
    expected = direct_kernel(F, lambda a, b: np.exp(-np.sum((a - b) ** 2) / 3))
    np.testing.assert_allclose(B, expected, rtol=1e-12)
    np.testing.assert_allclose(B, rbf_kernel(F), rtol=1e-12)
    np.testing.assert_array_equal(np.diag(B), 1.0)
    np.testing.assert_allclose(coupling.task_kernel(F, gamma=0.7), rbf_kernel(F, gamma=0.7), rtol=1e-12)


def test_task_kernel_linear(task_features):
    F = task_features
    B = coupling.task_kernel(F, kernel="linear")
    np.testing.assert_allclose(B, direct_kernel(F, np.dot), rtol=1e-12)
    np.testing.assert_allclose(B, linear_kernel(F), rtol=1e-12)


@pytest.mark.parametrize("gamma, degree, coef0", [(None, 3, 1.0), (0.5, 2, 0.0), (2.0, 1, 3.0)])
def test_task_kernel_polynomial(task_features, gamma, degree, coef0):
    F = task_features
    B = coupling.task_kernel(F, kernel="polynomial", gamma=gamma, degree=degree, coef0=coef0)
    g = 1 / 3 if gamma is None else gamma
    np.testing.assert_allclose(B, direct_kernel(F, lambda a, b: (g * a @ b + coef0) ** degree), rtol=1e-12)
    np.testing.assert_allclose(B, polynomial_kernel(F, gamma=gamma, degree=degree, coef0=coef0), rtol=1e-12)


def test_task_kernel_gives_a_coupling(task_features):
    B = coupling.task_kernel(task_features)
    K = coupling.from_task_kernel(B)
    np.testing.assert_allclose(K @ B, np.eye(6), atol=1e-8)
    coupling.validate_coupling(K, n_tasks=6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kernel": "laplacian"}, r"The 'kernel' parameter of task_kernel must be a str among"),
        ({"kernel": None}, r"The 'kernel' parameter of task_kernel must be a str among"),
        ({"gamma": 0.0}, r"The 'gamma' parameter of task_kernel must be a float in the range \(0.0, inf\) or None"),
        ({"gamma": -1.0}, "gamma"),
        ({"gamma": np.nan}, "gamma"),
        ({"gamma": np.inf}, "gamma"),
        ({"gamma": "scale"}, "gamma"),
        ({"degree": 0}, r"The 'degree' parameter of task_kernel must be an int in the range \[1, inf\)"),
        ({"degree": 2.5}, "degree"),
        ({"degree": True}, "degree"),
        ({"coef0": -1.0}, r"The 'coef0' parameter of task_kernel must be a float in the range \[0.0, inf\)"),
        ({"coef0": np.nan}, "coef0"),
    ],
)
def test_task_kernel_rejects_arguments(task_features, kwargs, message):
    with pytest.raises(ValueError, match=message):
        coupling.task_kernel(task_features, **kwargs)


@pytest.mark.parametrize(
    "features, message",
    [
        (np.ones(4), "task_features must be a non-empty 2-D array"),
        (np.ones((2, 2, 2)), "task_features must be a non-empty 2-D array"),
        (np.ones((0, 3)), "task_features must be a non-empty 2-D array"),
        (np.ones((3, 0)), "task_features must be a non-empty 2-D array"),
        (np.array([[1.0, np.nan]]), "task_features contains NaN"),
        (np.array([[1.0 + 1j, 0.0]]), "task_features must be real"),
        (np.array([["a"]]), "task_features must be a real numeric array"),
    ],
)
def test_task_kernel_rejects_features(features, message):
    with pytest.raises(ValueError, match=message):
        coupling.task_kernel(features)


# --------------------------------------------------------------------------------------------
# validate_coupling
# --------------------------------------------------------------------------------------------


def test_validate_coupling_returns_symmetric_float64_copy():
    K = np.asfortranarray(coupling.chain(4))
    K[0, 1] += 1e-13  # round-off asymmetry
    result = coupling.validate_coupling(K, n_tasks=4)
    assert_coupling_array(result, 4)
    np.testing.assert_array_equal(result, (K + K.T) / 2)
    assert not np.shares_memory(result, K)
    result[0, 0] = 100.0
    assert K[0, 0] != 100.0


def test_validate_coupling_accepts_integer_lists_and_semidefinite():
    np.testing.assert_array_equal(coupling.validate_coupling([[2, -1], [-1, 2]]), [[2.0, -1.0], [-1.0, 2.0]])
    singular = coupling.mean_regularized(5, mu=0.0)  # PSD, eigenvalue 0 up to round-off
    np.testing.assert_array_equal(coupling.validate_coupling(singular), singular)
    np.testing.assert_array_equal(coupling.validate_coupling(np.zeros((3, 3))), np.zeros((3, 3)))


def test_validate_coupling_accepts_round_off_negative_eigenvalue():
    rng = np.random.default_rng(8)
    Q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    K = Q @ np.diag([-1e-13, 1.0, 2.0, 3.0, 4.0]) @ Q.T
    K = (K + K.T) / 2
    coupling.validate_coupling(K)
    with pytest.raises(ValueError, match=r"smallest eigenvalue is -") as error:
        coupling.validate_coupling(K, tol=1e-15)
    # The reported eigenvalue is -1e-13 up to the round-off of forming K (BLAS-dependent).
    reported = float(re.search(r"smallest eigenvalue is (\S+)", str(error.value)).group(1))
    np.testing.assert_allclose(reported, -1e-13, rtol=0.05)


@pytest.mark.parametrize(
    "K, message",
    [
        (np.ones((2, 2, 2)), r"coupling must be a square 2-D matrix, got shape \(2, 2, 2\)"),
        (np.ones((2, 3)), r"coupling must be a square 2-D matrix, got shape \(2, 3\)"),
        (np.ones(3), "coupling must be a square 2-D matrix"),
        (np.empty((0, 0)), "coupling must not be empty"),
        (np.eye(3, dtype=complex), "coupling must be real"),
        (np.array([[1, None], [None, 1]], dtype=object), "coupling must be a real numeric array, got dtype obj"),
        (np.array([["1", "0"], ["0", "1"]]), "coupling must be a real numeric array"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), "coupling contains NaN or infinite entries"),
        (np.array([[np.inf, 0.0], [0.0, 1.0]]), "coupling contains NaN or infinite entries"),
        (np.array([[1.0, 0.5], [0.0, 1.0]]), "coupling must be symmetric; its largest asymmetry .* is 0.5"),
        (np.array([[1.0, 2.0], [2.0, 1.0]]), "coupling must be positive semidefinite;.* smallest eigenvalue is -1"),
        (-np.eye(2), "coupling must be positive semidefinite; its smallest eigenvalue is -1"),
    ],
)
def test_validate_coupling_rejects(K, message):
    with pytest.raises(ValueError, match=message):
        coupling.validate_coupling(K)


def test_validate_coupling_size_mismatch_message():
    with pytest.raises(ValueError, match=r"^coupling has shape \(3, 3\) but the data has 4 tasks$"):
        coupling.validate_coupling(np.eye(3), n_tasks=4)


def test_validate_coupling_uses_name():
    with pytest.raises(ValueError, match="^my_K must be symmetric"):
        coupling.validate_coupling([[1.0, 1.0], [0.0, 1.0]], name="my_K")
    with pytest.raises(ValueError, match=r"^my_K has shape \(2, 2\)"):
        coupling.validate_coupling(np.eye(2), n_tasks=3, name="my_K")
    with pytest.raises(ValueError, match="^my_K must be positive semidefinite"):
        coupling.validate_coupling(-np.eye(2), name="my_K")


def test_validate_coupling_asymmetry_is_relative():
    K = 1e8 * coupling.chain(3)
    K[0, 1] += 1e-4  # relative asymmetry about 1e-12 < tol
    coupling.validate_coupling(K)
    small = 1e-8 * coupling.chain(3)
    small[0, 1] += 1e-16  # absolute 1e-16 but relative about 1e-8 > tol
    with pytest.raises(ValueError, match="largest asymmetry"):
        coupling.validate_coupling(small)


@pytest.mark.parametrize("tol", [-1.0, np.nan, "1e-10"])
def test_validate_coupling_rejects_tol(tol):
    with pytest.raises(ValueError, match="tol"):
        coupling.validate_coupling(np.eye(2), tol=tol)


@pytest.mark.parametrize("n_tasks", [0, -2, 2.0, "2"])
def test_validate_coupling_rejects_n_tasks(n_tasks):
    with pytest.raises(ValueError, match=r"The 'n_tasks' parameter of \w+ must be an int in the range \[1, inf\)"):
        coupling.validate_coupling(np.eye(2), n_tasks=n_tasks)


# --------------------------------------------------------------------------------------------
# resolve_coupling
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, builder",
    [
        ("identity", coupling.identity),
        ("mean_regularized", coupling.mean_regularized),
        ("chain", coupling.chain),
    ],
)
@pytest.mark.parametrize("n_tasks", [1, 5])
def test_resolve_coupling_names_use_default_builders(name, builder, n_tasks):
    np.testing.assert_array_equal(coupling.resolve_coupling(name, n_tasks), builder(n_tasks))


def test_resolve_coupling_defaults():
    expected = np.eye(3) * 1.1 - 1 / 3
    np.testing.assert_allclose(coupling.resolve_coupling("mean_regularized", 3), expected, atol=1e-15)
    np.testing.assert_allclose(coupling.resolve_coupling("chain", 2), [[1.1, -1.0], [-1.0, 1.1]], atol=1e-15)


def test_resolve_coupling_validates_matrices():
    K = coupling.mean_regularized(3)
    np.testing.assert_array_equal(coupling.resolve_coupling(K.tolist(), 3), K)
    with pytest.raises(ValueError, match=r"coupling has shape \(3, 3\) but the data has 2 tasks"):
        coupling.resolve_coupling(K, 2)
    with pytest.raises(ValueError, match="coupling must be positive semidefinite"):
        coupling.resolve_coupling(-K, 3)


@pytest.mark.parametrize("name", ["ridge", "Identity", "", "graph_laplacian"])
def test_resolve_coupling_unknown_name_lists_valid_names(name):
    with pytest.raises(ValueError, match=r"The 'coupling' parameter of resolve_coupling must be a str among \{(?=.*'identity')(?=.*'mean_regularized')(?=.*'chain')"):
        coupling.resolve_coupling(name, 3)


# --------------------------------------------------------------------------------------------
# Argument validation shared by the builders
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("builder", [coupling.identity, coupling.mean_regularized, coupling.chain])
@pytest.mark.parametrize("n_tasks", [0, -1, 2.5, 3.0, True, "3", None])
def test_builders_reject_n_tasks(builder, n_tasks):
    with pytest.raises(ValueError, match=r"The 'n_tasks' parameter of \w+ must be an int in the range \[1, inf\)"):
        builder(n_tasks)


@pytest.mark.parametrize("builder", [coupling.identity, coupling.mean_regularized, coupling.chain])
def test_builders_accept_numpy_integers(builder):
    np.testing.assert_array_equal(builder(np.int64(3)), builder(3))


@pytest.mark.parametrize("value", [-0.1, np.nan, np.inf, "0.1", None, True])
def test_mean_regularized_rejects_mu(value):
    with pytest.raises(ValueError, match=r"The 'mu' parameter of mean_regularized must be a float in the range \[0.0, inf\)"):
        coupling.mean_regularized(3, mu=value)


@pytest.mark.parametrize("value", [-0.1, np.nan, np.inf, "0.1", None])
def test_chain_and_graph_laplacian_reject_ridge(value):
    with pytest.raises(ValueError, match=r"The 'ridge' parameter of \w+ must be a float in the range \[0.0, inf\)"):
        coupling.chain(3, ridge=value)
    with pytest.raises(ValueError, match=r"The 'ridge' parameter of \w+ must be a float in the range \[0.0, inf\)"):
        coupling.graph_laplacian(np.ones((3, 3)), ridge=value)
