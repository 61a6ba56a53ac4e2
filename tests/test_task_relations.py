"""Learned task relations (MTRL, CMTL): each alternating step against its definition, the full objective
against scipy, monotone objectives, planted structure, and the equivalences with the kernel-coupled models."""

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
import scipy.sparse
from sklearn.metrics import adjusted_rand_score

import multitask as mt
from multitask import _relation_steps as steps


def random_tasks(seed, sizes=(12, 20, 15), d=3, noise=0.3, classification=False):
    rng = np.random.default_rng(seed)
    w0 = rng.normal(size=d)
    Xs = [rng.normal(size=(n, d)) for n in sizes]
    ys = [X @ (w0 + 0.5 * rng.normal(size=d)) + noise * rng.normal(size=len(X)) + rng.normal() for X in Xs]
    if classification:
        ys = [np.where(y > np.median(y), 1, -1) for y in ys]
    return Xs, ys


def clustered_tasks(seed, k=3, per_cluster=4, d=6, noise=0.5):
    """k clusters of tasks with different sizes; models = cluster centre + small task deviation."""
    rng = np.random.default_rng(seed)
    centres = 2.0 * rng.normal(size=(k, d))
    truth = np.repeat(np.arange(k), per_cluster)
    sizes = rng.integers(30, 80, size=truth.size)
    Xs = [rng.normal(size=(n, d)) for n in sizes]
    ys = [X @ (centres[c] + 0.2 * rng.normal(size=d)) + noise * rng.normal(size=len(X)) for X, c in zip(Xs, truth)]
    return Xs, ys, truth


def data_term(Xs, ys, coef, intercept, loss="squared"):
    N = sum(len(y) for y in ys)
    total = 0.0
    for X, y, w, b in zip(Xs, ys, coef, intercept):
        f = X @ w + b
        if loss == "squared":
            total += 0.5 * np.sum((y - f) ** 2)
        else:
            total += np.sum(np.logaddexp(0, -y * f))
    return total / N


def mtrl_objective(Xs, ys, coef, intercept, omega, alpha, beta, eps, loss="squared"):
    inverse = np.linalg.inv(omega)
    W = coef.T
    return (data_term(Xs, ys, coef, intercept, loss) + 0.5 * alpha * np.sum(W * W)
            + 0.5 * beta * np.trace(inverse @ (W.T @ W + eps * np.eye(len(Xs)))))


def cmtl_objective(Xs, ys, coef, intercept, M, alpha, beta, loss="squared"):
    eta = beta / alpha
    W = coef.T
    T = len(Xs)
    return data_term(Xs, ys, coef, intercept, loss) + alpha * eta * (1 + eta) * np.trace(
        W @ np.linalg.solve(eta * np.eye(T) + M, W.T))


# --- the relation steps against their definitions ------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_covariance_step_minimises_its_objective_over_trace_one_matrices(seed):
    rng = np.random.default_rng(seed)
    coef = rng.normal(size=(3, 2))  # T = 3 > d = 2: W^T W is singular, eps makes it definite
    eps = 1e-2
    A = coef @ coef.T + eps * np.eye(3)
    omega = steps.covariance_step(coef, alpha=0.0, beta=1.0, eps=eps).matrix
    assert np.trace(omega) == pytest.approx(1.0, abs=1e-14)
    value = np.trace(np.linalg.solve(omega, A))

    def over_cholesky(theta):  # Omega = L L^T / tr(L L^T): every positive definite trace-1 matrix
        L = np.zeros((3, 3))
        L[np.tril_indices(3)] = theta
        S = L @ L.T + 1e-12 * np.eye(3)
        return np.trace(np.linalg.solve(S / np.trace(S), A))

    best = min((scipy.optimize.minimize(over_cholesky, rng.normal(size=6), method="BFGS", options={"gtol": 1e-10})
                for _ in range(3)), key=lambda r: r.fun)
    assert value <= best.fun + 1e-9 * abs(best.fun)
    assert value == pytest.approx(best.fun, rel=1e-6)
    assert value == pytest.approx(np.trace(scipy.linalg.sqrtm(A).real) ** 2, rel=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_cluster_weights_solve_the_constrained_problem(seed):
    rng = np.random.default_rng(seed)
    T, k, eta = 6, int(rng.integers(1, 5)), float(rng.uniform(0.05, 2.0))
    s = rng.exponential(size=T) ** 2
    s[rng.integers(T)] = 0.0  # a direction the models do not use
    g = steps.cluster_weights(np.sqrt(s), eta, k)
    assert g.sum() == pytest.approx(k, abs=1e-12) and g.min() >= 0 and g.max() <= 1
    ours = np.sum(s / (eta + g))
    reference = scipy.optimize.minimize(
        lambda x: np.sum(s / (eta + x)), np.full(T, k / T), jac=lambda x: -s / (eta + x) ** 2, method="SLSQP",
        bounds=[(0, 1)] * T, constraints=[{"type": "eq", "fun": lambda x: x.sum() - k}],
        options={"ftol": 1e-14, "maxiter": 500})
    assert reference.success
    assert ours <= reference.fun + 1e-9 * reference.fun
    assert ours == pytest.approx(reference.fun, rel=1e-7)


@pytest.mark.parametrize("seed", range(5))
def test_cluster_step_is_below_every_feasible_matrix(seed):
    rng = np.random.default_rng(seed)
    T, k, alpha, beta = 5, 2, 0.3, 0.2
    coef = rng.normal(size=(T, 4))
    relation = steps.cluster_step(coef, alpha=alpha, beta=beta, n_clusters=k)
    M = relation.matrix
    eigenvalues = np.linalg.eigvalsh(M)
    assert np.trace(M) == pytest.approx(k) and eigenvalues.min() > -1e-12 and eigenvalues.max() < 1 + 1e-12
    eta = beta / alpha

    def penalty(matrix):
        return np.trace(coef.T @ np.linalg.solve(eta * np.eye(T) + matrix, coef))

    ours = penalty(M)
    for _ in range(200):  # random feasible M: random eigenbasis, random feasible eigenvalues
        U = np.linalg.qr(rng.normal(size=(T, T)))[0]
        g = steps.cluster_weights(rng.exponential(size=T), eta, k)
        assert ours <= penalty((U * g) @ U.T) + 1e-10
    # The coupling of the next model step: 1/2 tr(W K W^T) equals the penalty c tr(W (eta I + M)^{-1} W^T).
    c = alpha * eta * (1 + eta)
    assert 0.5 * np.trace(coef.T @ relation.coupling @ coef) == pytest.approx(c * ours, rel=1e-12)


# --- the full objectives ------------------------------------------------------------------------------------------


def test_mtrl_reaches_the_minimum_found_by_scipy_over_models_and_a_parametrised_covariance():
    Xs, ys = random_tasks(0, sizes=(8, 11, 9), d=2)
    alpha, beta, eps = 0.05, 0.2, 1e-2
    model = mt.TaskRelationRegressor("covariance", alpha=alpha, beta=beta, eps=eps, tol=1e-12,
                                     max_iter=500).fit(Xs, ys)
    ours = mtrl_objective(Xs, ys, model.coef_, model.intercept_, model.task_covariance_, alpha, beta, eps)
    assert model.objective_ == pytest.approx(ours, rel=1e-10)
    T, d = 3, 2

    def objective(theta):
        coef = theta[: T * d].reshape(T, d)
        intercept = theta[T * d: T * d + T]
        L = np.zeros((T, T))
        L[np.tril_indices(T)] = theta[T * d + T:]
        S = L @ L.T + 1e-12 * np.eye(T)
        return mtrl_objective(Xs, ys, coef, intercept, S / np.trace(S), alpha, beta, eps)

    rng = np.random.default_rng(1)
    best = min((scipy.optimize.minimize(objective, rng.normal(size=T * d + T + 6), method="BFGS",
                                        options={"gtol": 1e-9, "maxiter": 20000}) for _ in range(4)),
               key=lambda r: r.fun)
    assert ours <= best.fun + 1e-9 * abs(best.fun)
    assert ours == pytest.approx(best.fun, rel=1e-6)


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_cmtl_stops_at_a_fixed_point_of_both_steps_hence_the_joint_minimum(loss):
    Xs, ys, _ = clustered_tasks(3, k=2, per_cluster=3, d=4)
    alpha, beta, k = 0.02, 0.01, 2
    if loss == "squared":
        model = mt.TaskRelationRegressor("clusters", alpha=alpha, beta=beta, n_clusters=k, tol=1e-13,
                                         max_iter=2000).fit(Xs, ys)
        signed = ys
    else:
        signed = [np.where(y > 0, 1, -1) for y in ys]
        model = mt.TaskRelationClassifier("clusters", alpha=alpha, beta=beta, n_clusters=k, tol=1e-13,
                                          max_iter=2000).fit(Xs, signed)
    M = model.cluster_matrix_
    # M is the cluster step's answer for the returned models ...
    again = steps.cluster_step(model.coef_, alpha=alpha, beta=beta, n_clusters=k).matrix
    np.testing.assert_allclose(again, M, atol=1e-5)
    # ... and the models minimise the kernel-coupled objective with M's coupling (refit from scratch).
    refit_class = mt.KernelCoupledRegressor if loss == "squared" else mt.KernelCoupledClassifier
    refit = refit_class(coupling=model.coupling_, alpha=1.0, tol=1e-12, max_iter=10000,
                        **({} if loss == "squared" else {"loss": "logistic"})).fit(Xs, signed)
    np.testing.assert_allclose(refit.coef_, model.coef_, rtol=1e-6, atol=1e-8)
    assert model.objective_ == pytest.approx(
        cmtl_objective(Xs, signed, model.coef_, model.intercept_, M, alpha, beta,
                       "squared" if loss == "squared" else "logistic"), rel=1e-10)


@pytest.mark.parametrize("seed", range(24))
def test_objective_never_increases(seed):
    rng = np.random.default_rng(seed)
    relation = ["covariance", "clusters"][seed % 2]
    classification = seed % 3 == 0
    Xs, ys = random_tasks(seed, sizes=tuple(rng.integers(6, 30, size=int(rng.integers(2, 6)))),
                          d=int(rng.integers(1, 5)), classification=classification)
    estimator = mt.TaskRelationClassifier if classification else mt.TaskRelationRegressor
    parameters = dict(alpha=float(10 ** rng.uniform(-3, 0)), beta=float(10 ** rng.uniform(-3, 0)), tol=1e-10,
                      max_iter=60, n_clusters=int(rng.integers(1, len(Xs) + 1)), eps=float(10 ** rng.uniform(-6, -1)))
    if classification:
        parameters["loss"] = ["logistic", "squared_hinge"][seed % 2]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a run of 60 outer iterations may end short of tol=1e-10
        model = estimator(relation, **parameters).fit(Xs, ys)
    history = model.objective_history_
    assert history.size == model.n_iter_ >= 1
    assert np.all(np.diff(history) <= 1e-11 * np.abs(history[1:])), np.diff(history).max()


# --- special cases and equivalences ---------------------------------------------------------------------------------


def test_without_the_relation_penalty_mtrl_is_per_task_ridge():
    Xs, ys = random_tasks(4)
    model = mt.TaskRelationRegressor(alpha=0.3, beta=0.0, tol=1e-12).fit(Xs, ys)
    ridge = mt.KernelCoupledRegressor(coupling="identity", alpha=0.3, tol=1e-12).fit(Xs, ys)
    np.testing.assert_allclose(model.coef_, ridge.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.intercept_, ridge.intercept_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("relation", ["covariance", "clusters"])
def test_the_learned_coupling_refits_the_models(relation):
    Xs, ys = random_tasks(5)
    model = mt.TaskRelationRegressor(relation, alpha=0.1, beta=0.05).fit(Xs, ys)  # holds at every outer iteration
    refit = mt.KernelCoupledRegressor(coupling=model.coupling_, alpha=1.0, tol=1e-12).fit(Xs, ys)
    np.testing.assert_allclose(refit.coef_, model.coef_, rtol=1e-7, atol=1e-9)


def test_input_forms_give_the_same_model():
    Xs, ys = random_tasks(6)
    lists = mt.TaskRelationRegressor("clusters", alpha=0.05, beta=0.05, tol=1e-10, random_state=0).fit(Xs, ys)
    labels = np.repeat(["a", "b", "c"], [len(y) for y in ys])
    long = mt.TaskRelationRegressor("clusters", alpha=0.05, beta=0.05, tol=1e-10, random_state=0).fit(
        np.vstack(Xs), np.concatenate(ys), tasks=labels)
    np.testing.assert_allclose(long.coef_, lists.coef_, rtol=1e-9)
    np.testing.assert_allclose(long.predict(np.vstack(Xs), tasks=labels), np.concatenate(lists.predict(Xs)))


@pytest.mark.parametrize("relation", ["covariance", "clusters"])
def test_shared_design_matches_the_same_data_as_lists(relation):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 3))
    Y = X @ rng.normal(size=(3, 4)) + 0.1 * rng.normal(size=(40, 4))
    shared = mt.TaskRelationRegressor(relation, alpha=0.05, beta=0.1, tol=1e-11).fit(X, Y)
    lists = mt.TaskRelationRegressor(relation, alpha=0.05, beta=0.1, tol=1e-11).fit([X] * 4, list(Y.T))
    np.testing.assert_allclose(shared.coef_, lists.coef_, rtol=1e-7, atol=1e-9)
    assert shared.predict(X).shape == (40, 4)


@pytest.mark.parametrize("relation", ["covariance", "clusters"])
@pytest.mark.parametrize("loss", ["logistic", "squared_hinge"])
def test_sparse_input_gives_the_dense_model(relation, loss):
    Xs, ys = random_tasks(8, classification=True)
    Xs = [np.where(np.abs(X) < 0.5, 0.0, X) for X in Xs]
    parameters = dict(alpha=0.05, beta=0.05, tol=1e-10, loss=loss, random_state=0)
    dense = mt.TaskRelationClassifier(relation, **parameters).fit(Xs, ys)
    sparse = mt.TaskRelationClassifier(relation, **parameters).fit([scipy.sparse.csr_matrix(X) for X in Xs], ys)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(sparse.objective_history_[-1], dense.objective_history_[-1], rtol=1e-10)


def test_sparse_regression_gives_the_dense_model():
    Xs, ys = random_tasks(9)
    dense = mt.TaskRelationRegressor(alpha=0.05, beta=0.05, tol=1e-10).fit(Xs, ys)
    sparse = mt.TaskRelationRegressor(alpha=0.05, beta=0.05, tol=1e-10).fit(
        [scipy.sparse.csr_matrix(X) for X in Xs], ys)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6, atol=1e-8)


def test_warm_start_resumes_at_the_optimum():
    Xs, ys = random_tasks(10)
    model = mt.TaskRelationRegressor(alpha=0.05, beta=0.05, tol=1e-9, warm_start=True).fit(Xs, ys)
    first = model.n_iter_
    model.fit(Xs, ys)
    assert first > 2 and model.n_iter_ <= 2


# --- planted structure --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_cmtl_recovers_planted_clusters(seed):
    Xs, ys, truth = clustered_tasks(seed, k=3, per_cluster=4)
    model = mt.TaskRelationRegressor("clusters", alpha=1e-2, beta=1e-3, n_clusters=3, random_state=0).fit(Xs, ys)
    assert adjusted_rand_score(truth, model.clusters_) >= 0.9
    assert np.trace(model.cluster_matrix_) == pytest.approx(3)


@pytest.mark.parametrize("seed", range(3))
def test_mtrl_correlation_separates_within_from_between_cluster_pairs(seed):
    Xs, ys, truth = clustered_tasks(seed, k=2, per_cluster=4)
    model = mt.TaskRelationRegressor("covariance", alpha=1e-3, beta=1e-2).fit(Xs, ys)
    C = model.task_correlation_
    np.testing.assert_allclose(np.diag(C), 1.0)
    same = truth[:, None] == truth[None, :]
    off = ~np.eye(len(truth), dtype=bool)
    assert C[same & off].min() > C[~same].max()


# --- errors ---------------------------------------------------------------------------------------------------------


def test_bad_parameters_name_what_is_wrong():
    Xs, ys = random_tasks(11)
    with pytest.raises(ValueError, match="n_clusters=5 exceeds the number of tasks, 3"):
        mt.TaskRelationRegressor("clusters", n_clusters=5).fit(Xs, ys)
    with pytest.raises(ValueError, match="alpha > 0 and beta > 0"):
        mt.TaskRelationRegressor("clusters", alpha=0.0).fit(Xs, ys)
    with pytest.raises(ValueError, match="alpha > 0 or beta > 0"):
        mt.TaskRelationRegressor(alpha=0.0, beta=0.0).fit(Xs, ys)
    with pytest.raises(ValueError, match="relation"):
        mt.TaskRelationRegressor("graph").fit(Xs, ys)
    with pytest.raises(ValueError, match="eps"):
        mt.TaskRelationRegressor(eps=0.0).fit(Xs, ys)


def test_verbose_reports_every_outer_iteration(capsys):
    Xs, ys = random_tasks(12)
    model = mt.TaskRelationRegressor(alpha=0.05, beta=0.05, verbose=1).fit(Xs, ys)
    assert capsys.readouterr().err.count("outer iteration") == model.n_iter_


def test_readme_section_runs_and_shows_what_it_says():
    from readme_blocks import readme_blocks

    blocks = readme_blocks("## Learned task relations: `TaskRelationRegressor`, `TaskRelationClassifier`")
    assert len(blocks) == 1
    namespace = {}
    exec(blocks[0], namespace)  # noqa: S102 - the README's own example
    np.testing.assert_array_equal(namespace["cmtl"].clusters_, namespace["truth"])
    C, truth = namespace["mtrl"].task_correlation_, namespace["truth"]
    same = truth[:, None] == truth[None, :]
    assert C[same].min() > C[~same].max() + 0.1


def test_plotting_draws_the_learned_relations_in_cluster_order():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import multitask.plotting as mtp

    Xs, ys, truth = clustered_tasks(1, k=3, per_cluster=3)
    model = mt.TaskRelationRegressor("clusters", alpha=1e-2, beta=1e-3, n_clusters=3, random_state=0).fit(Xs, ys)
    order = mtp.task_order(model)
    assert np.all(np.diff(model.clusters_[order]) >= 0)  # grouped by cluster
    ax = mtp.plot_task_relations(model)
    np.testing.assert_allclose(ax.images[0].get_array(), model.task_correlation_[np.ix_(order, order)])
    ax = mtp.plot_objective_history(model, relative=False)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), model.objective_history_)
    plt.close("all")
