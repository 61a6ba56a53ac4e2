"""The exact solver for per-task designs with a coupling c I + low rank (Woodbury) against dense solves.

K = c I + U diag(sigma) U^T: the mean-regularised coupling (r = 1, sigma < 0, singular at mu = 0),
cluster couplings (r = the number of clusters), c I (r = 0) and a random rank-2 term of either sign.
The reference is a dense numpy solve of the (dT, dT) Kronecker system (tests/reference.py).
"""

import numpy as np
import pytest

import multitask as mt
from multitask._core import core
from reference import dense_solution, objective, random_problem, relative_kkt_residual

SIZES = [4, 40, 25, 3, 60, 17, 9, 33, 12, 50]  # unequal; three tasks with n_t < d (singular Grams)
D = 10


def cluster_coupling(labels, c=1.0, within=0.7):
    """c I + within * (the average over each cluster): eigenvalue c + within once per cluster, c otherwise."""
    labels = np.asarray(labels)
    K = c * np.eye(labels.size)
    for label in np.unique(labels):
        members = labels == label
        K[np.ix_(members, members)] += within / members.sum()
    return K


def random_low_rank(rng, T, c, signs):
    """c I + Q diag(signs * magnitudes) Q^T with Q (T, len(signs)) orthonormal, positive definite."""
    Q, _ = np.linalg.qr(rng.normal(size=(T, len(signs))))
    sigma = np.asarray(signs) * rng.uniform(0.2, 0.8, len(signs)) * c
    return c * np.eye(T) + Q @ np.diag(sigma) @ Q.T


COUPLINGS = {
    "mean_regularized": lambda rng, T: mt.coupling.mean_regularized(T, mu=0.1),
    "mean_regularized_mu0": lambda rng, T: mt.coupling.mean_regularized(T, mu=0.0),
    "clusters": lambda rng, T: cluster_coupling(np.arange(T) % 3),
    "scaled_identity": lambda rng, T: 2.5 * np.eye(T),
    "random_rank2_mixed_signs": lambda rng, T: random_low_rank(rng, T, 1.3, [1.0, -1.0]),
}


def core_fit(Xs, ys, K, alpha, solver="exact", fit_intercept=True, weights=None, n_threads=1):
    s = np.full(len(Xs), 1.0 / sum(len(y) for y in ys)) if weights is None else weights
    return core.fit_least_squares_f64(X=Xs, y=ys, sample_weight=s, coupling=K, alpha=alpha,
                                      fit_intercept=fit_intercept, shared_design=False, solver=solver, tol=1e-12,
                                      max_iter=100000, n_threads=n_threads, warm_start=None)


def relative_error(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


@pytest.mark.parametrize("case", sorted(COUPLINGS))
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [1e-4, 0.3, 30.0])
def test_woodbury_route_matches_dense_solve(case, fit_intercept, alpha):
    rng = np.random.default_rng(3)
    K = COUPLINGS[case](rng, len(SIZES))
    Xs, ys, _ = random_problem(rng, SIZES, D, shift=1.0)
    result = core_fit(Xs, ys, K, alpha, fit_intercept=fit_intercept)
    assert result["exact_method"] == "low_rank_coupling" and result["solver"] == "exact"
    coef, intercept = dense_solution(Xs, ys, K, alpha, "uniform", fit_intercept)
    assert relative_error(result["coef"], coef) < 1e-9
    assert np.abs(result["intercept"] - intercept).max() < 1e-9 * max(1.0, np.abs(intercept).max())
    assert result["residual"] < 1e-12
    assert result["objective_history"][-1] == pytest.approx(objective(Xs, ys, coef, intercept, K, alpha), rel=1e-12)


def test_task_weights_and_threads_do_not_change_the_route_or_the_answer():
    rng = np.random.default_rng(4)
    K = cluster_coupling(np.arange(len(SIZES)) % 4)
    Xs, ys, _ = random_problem(rng, SIZES, D, shift=0.5)
    weights = rng.uniform(0.5, 2.0, len(SIZES)) / sum(SIZES)
    one = core_fit(Xs, ys, K, 0.05, weights=weights)
    two = core_fit(Xs, ys, K, 0.05, weights=weights, n_threads=2)
    assert one["exact_method"] == two["exact_method"] == "low_rank_coupling"
    coef, _ = dense_solution(Xs, ys, K, 0.05, weights * sum(SIZES))
    assert relative_error(one["coef"], coef) < 1e-9
    np.testing.assert_allclose(two["coef"], one["coef"], rtol=1e-12, atol=1e-14)


def test_other_couplings_keep_the_dense_route():
    rng = np.random.default_rng(5)
    Xs, ys, K = random_problem(rng, SIZES, D)  # a random positive definite K: no repeated eigenvalue
    result = core_fit(Xs, ys, K, 0.3)
    assert result["exact_method"] == "dense_cholesky"
    # half the tasks or more off the shared eigenvalue (r >= T / 2): dense as well
    many_clusters = cluster_coupling(np.arange(len(SIZES)) % 5)
    assert core_fit(Xs, ys, many_clusters, 0.3)["exact_method"] == "dense_cholesky"
    # four tasks: diagonalising every Gram (9 T d^3) costs more than the dense factorisation ((dT)^3 / 3)
    few = [X[:, :D] for X in Xs[:4]], ys[:4]
    assert core_fit(*few, mt.coupling.mean_regularized(4), 0.3)["exact_method"] == "dense_cholesky"
    # alpha = 0: nothing to split; the dense solver judges singularity (three tasks have n_t < d)
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        core_fit(Xs, ys, 2.0 * np.eye(len(SIZES)), 0.0)


def test_nearly_singular_coupling_is_refined_to_the_stopping_rule():
    """mu = 1e-10: K is singular to 10 digits and the capacitance matrix cancels; refinement restores it."""
    rng = np.random.default_rng(6)
    K = mt.coupling.mean_regularized(len(SIZES), mu=1e-10)
    Xs, ys, _ = random_problem(rng, SIZES, D, shift=2.0)
    model = mt.KernelCoupledRegressor(coupling=K, alpha=1e3, solver="exact", tol=1e-10).fit(Xs, ys)
    assert relative_kkt_residual(Xs, ys, model.coef_, K, 1e3) <= 1e-10
    coef, intercept = dense_solution(Xs, ys, K, 1e3)
    assert model.objective_ == pytest.approx(objective(Xs, ys, coef, intercept, K, 1e3), rel=1e-10)


def test_auto_takes_the_woodbury_route_past_the_dense_size():
    """d T = 30 * 25 = 750 > 600: 'auto' used to run conjugate gradient; now exact, equal to the dense solve."""
    rng = np.random.default_rng(7)
    sizes = list(rng.integers(8, 80, size=25))
    Xs, ys, _ = random_problem(rng, sizes, 30, shift=0.5)
    K = mt.coupling.mean_regularized(25)  # the default coupling
    model = mt.KernelCoupledRegressor(coupling="mean_regularized", alpha=0.1).fit(Xs, ys)
    assert model.solver_ == "exact"
    np.testing.assert_allclose(model.coupling_, K, rtol=1e-14)
    coef, intercept = dense_solution(Xs, ys, model.coupling_, 0.1)
    assert relative_error(model.coef_, coef) < 1e-9
    assert np.abs(model.intercept_ - intercept).max() < 1e-9 * max(1.0, np.abs(intercept).max())


# Four alphas or more: the Grams diagonalised once; fewer: each D_t factorised per alpha (as a single fit).
@pytest.mark.parametrize("alphas", [[1e-5, 3.0, 0.01, 0.2], [0.3, 1e-3]], ids=["diagonalised", "factorised"])
def test_path_equals_dense_solves_and_single_fits(alphas):  # alphas in any order
    rng = np.random.default_rng(8)
    Xs, ys, _ = random_problem(rng, SIZES, D, shift=1.0)
    K = mt.coupling.mean_regularized(len(SIZES), mu=0.3)
    s = np.full(len(SIZES), 1.0 / sum(SIZES))
    path = core.fit_least_squares_path_f64(X=Xs, y=ys, sample_weight=s, coupling=K, alphas=alphas,
                                           fit_intercept=True, shared_design=False, solver="auto", tol=1e-12,
                                           max_iter=100000, n_threads=1)
    for alpha, result in zip(alphas, path):
        assert result["exact_method"] == "low_rank_coupling"
        coef, intercept = dense_solution(Xs, ys, K, alpha)
        assert relative_error(result["coef"], coef) < 1e-9
        single = core_fit(Xs, ys, K, alpha)
        np.testing.assert_allclose(result["coef"], single["coef"], rtol=1e-11, atol=1e-13)
