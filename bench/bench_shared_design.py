"""Workload 3: shared design n=5000, d=300, T=100, mean coupling (mu=0.1), alpha=1.

Ours, fit(X, Y) with Y of shape (n, T) (the exact Sylvester solver), against
the best numpy/scipy route, each including the centring, the Gram and the
right-hand sides. With uniform task weights N = n T, so A_t = G / N with
G = Xc^T Xc, C = Xc^T Yc / N, and the optimum solves the Sylvester equation
    (G / N) W + alpha W K = C          (W: d x T).
Routes:
  * numpy eigh: eigh(G), eigh(K), W = Q [(Q^T C U) / (lam_i + alpha N kappa_j)] U^T (scaled);
  * the same with the products formed on the raw X (X^T X - n m m^T): no centred copy of X;
  * scipy.linalg.solve_sylvester(G / N, alpha K, C) (Bartels-Stewart).
Target: ours <= 1.0x the fastest route, with the same solution.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from common import blas_threads, interleaved_times, main, markdown_table, median_time, ms, mt, verdict

TARGET = 1.0


def make_data(n: int = 5000, d: int = 300, T: int = 100, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = X @ rng.normal(size=(d, T)) + rng.normal(size=(n, T))
    return X, Y, mt.coupling.mean_regularized(T, mu=0.1), 1.0


def centred_statistics(X, Y):
    """G / N and C = Xc^T Yc / N with N = n T, from centred copies of X and Y."""
    Xc = X - X.mean(axis=0)
    Yc = Y - Y.mean(axis=0)
    scale = 1.0 / (X.shape[0] * Y.shape[1])
    return (Xc.T @ Xc) * scale, (Xc.T @ Yc) * scale


def raw_statistics(X, Y):
    """The same from products of the raw X: Xc^T Xc = X^T X - n m m^T, Xc^T Yc = X^T Y - n m ybar^T."""
    n = X.shape[0]
    m, ybar = X.mean(axis=0), Y.mean(axis=0)
    scale = 1.0 / (n * Y.shape[1])
    G = X.T @ X
    G -= n * np.outer(m, m)
    C = X.T @ Y
    C -= n * np.outer(m, ybar)
    return G * scale, C * scale


def eigh_solve(A, C, K, alpha):
    """W (T, d) solving A W + alpha W K = C in the eigenbases of A (d, d) and K (T, T)."""
    lam, Q = np.linalg.eigh(A)
    kappa, U = np.linalg.eigh(K)
    Z = (Q.T @ C @ U) / (lam[:, None] + alpha * kappa[None, :])
    return (Q @ Z @ U.T).T


def numpy_eigh_route(X, Y, K, alpha):
    return eigh_solve(*centred_statistics(X, Y), K, alpha)


def numpy_eigh_raw_route(X, Y, K, alpha):
    return eigh_solve(*raw_statistics(X, Y), K, alpha)


def scipy_sylvester_route(X, Y, K, alpha):
    A, C = centred_statistics(X, Y)
    return scipy.linalg.solve_sylvester(A, alpha * K, C).T


ROUTES = {
    "numpy eigh route (centred copies)": numpy_eigh_route,
    "numpy eigh route (raw products, rank-one correction)": numpy_eigh_raw_route,
    "scipy.linalg.solve_sylvester": scipy_sylvester_route,
}


def run(repeats: int = 5, threads: int = 1, quick: bool = False) -> dict:
    X, Y, K, alpha = make_data(500, 30, 10) if quick else make_data()
    n, d = X.shape
    T = Y.shape[1]
    model = mt.KernelCoupledRegressor(coupling=K, alpha=alpha, solver="exact", n_jobs=threads)
    with blas_threads(threads):
        runs = {name: (lambda route=route: route(X, Y, K, alpha)) for name, route in ROUTES.items()}
        runs["ours"] = lambda: model.fit(X, Y)
        times = interleaved_times(runs, repeats)
        ours = times.pop("ours")
        reference = numpy_eigh_route(X, Y, K, alpha)
        scale = np.abs(reference).max()
        differences = {name: np.abs(route(X, Y, K, alpha) - reference).max() / scale for name, route in ROUTES.items()}
        model.fit(X, Y)
        our_difference = np.abs(model.coef_ - reference).max() / scale
        # Profile of the numpy route.
        A, C = centred_statistics(X, Y)
        parts = {
            "centring X and Y (copies)": median_time(lambda: (X - X.mean(axis=0), Y - Y.mean(axis=0)), repeats),
            "Gram X^T X (syrk)": median_time(lambda: X.T @ X, repeats),
            "right-hand sides X^T Y": median_time(lambda: X.T @ Y, repeats),
            f"eigh of the ({d}, {d}) Gram": median_time(lambda: np.linalg.eigh(A), repeats),
            f"eigh of K ({T}, {T})": median_time(lambda: np.linalg.eigh(K), repeats),
        }
    fastest_name = min(times, key=times.get)
    fastest = times[fastest_name]
    rows = [[name, ms(t), f"{t / fastest:.2f}", "", f"{differences[name]:.1e}"] for name, t in times.items()]
    ratio = ours / fastest
    status = verdict(ratio, TARGET) if our_difference < 1e-8 else "MISS (solution differs)"
    rows.append([f"**multitask fit(X, Y)** (`{model.solver_}`)", ms(ours), f"{ratio:.2f}", f"**{status}**",
                 f"{our_difference:.1e}"])
    table = markdown_table(["method", "time (ms)", "× fastest route", f"target ≤ {TARGET}",
                            "max |W − W_eigh| / max |W_eigh|"], rows)
    profile = markdown_table(["numpy part", "time (ms)", "share of the fastest route"],
                             [[name, ms(t), f"{t / fastest:.0%}"] for name, t in parts.items()])
    products = parts["Gram X^T X (syrk)"] + parts["right-hand sides X^T Y"]
    limits = (f"the products X^T X and X^T Y alone take {ms(products)} ms in numpy, "
              f"{products / ours:.0%} of our fit; numpy's LAPACK eigh of the Gram takes "
              f"{ms(parts[f'eigh of the ({d}, {d}) Gram'])} ms. Our fit's remaining "
              f"{ms(ours - products)} ms (beyond numpy's product time) is the centring, our Gram/X^T Y "
              f"speed relative to OpenBLAS and the solve (Householder tridiagonalisation of G, T tridiagonal "
              f"solves, four dense products).")
    section = (
        f"## 3. Shared design: n={n}, d={d}, T={T}, mean coupling (μ=0.1), α={alpha}\n\n"
        f"Target: ours ≤ {TARGET} × the fastest numpy/scipy route, same solution. Every route includes the "
        f"centring, the Gram and the right-hand sides. Threads: {threads}.\n\n{table}\n\n"
        f"**Result: {status}** — {ratio:.2f} × the fastest route ({fastest_name}).\n\n"
        f"Where numpy's time goes:\n\n{profile}\n\nWhat limits it: {limits}"
    )
    return {"section": section, "ratio": ratio, "status": status, "fastest": fastest_name}


if __name__ == "__main__":
    main(run, __doc__)
