// Multi-task kernel ridge for many regularisation strengths at once (a path in
// alpha): the dual systems (kernel_ridge.hpp)
//
//     (M + alpha diag(rho)) c = y        [bordered by E^T c = 0 with intercepts]
//
// for every alpha of a list, rho = N / omega_task(i) the ridge at alpha = 1,
// after one reduction of the kernel matrix that does not depend on alpha.
//
// Per-task inputs. With D = diag(rho)^{-1/2}, A(alpha) = D^{-1} (G + alpha I) D^{-1}
// for G = D M D (N, N). Reduce G = P B P^T once, B symmetric band ("band": block
// Householder, bandwidth b = band_reduction_width, (4/3) N^3 flops in matrix-matrix
// products; band_reduction.hpp) or tridiagonal ("tridiagonal": b = 1, the same flops
// but bound by memory bandwidth; blocked_tridiagonalization.hpp). Then
// A(alpha)^{-1} v = D P (B + alpha I)^{-1} P^T D v, and each alpha costs one
// factorisation of B + alpha I (O(N b^2)), O(N b T) solves of the T + 1
// transformed right-hand sides P^T D [y, E] (formed once, O(N^2 T)), a T x T Schur
// complement for the intercepts, and its share of one final product
// P [w_1 ... w_A] (O(N^2) per alpha, BLAS-3 over all alphas).
//
// Shared design (M = B (x) K_x, R(alpha) = alpha R_1). B'(alpha) = R^{-1/2} B R^{-1/2}
// = B'_1 / alpha: its eigenvectors V do not depend on alpha and its eigenvalues are
// beta_k / alpha (TaskDirections at alpha = 1). With K_x = P Tr P^T reduced once
// ((4/3) n^3), every (alpha, direction k) is the tridiagonal system
// ((beta_k / alpha) Tr + I) z = y^_k of solve_kronecker_dual, with
// Y^ = alpha^{-1/2} P^T Y R_1^{-1/2} V formed once: O(n T) per alpha plus
// kronecker_intercepts (O(n T + T^3)) and a share of one product P [Z_1 ... Z_A]
// (O(n^2 T) per alpha).
//
// For a few alphas the reduction costs more than factorising each system:
// "per_alpha" then solves every alpha as the fit does (Cholesky, or
// solve_kronecker_dual), but computes the kernel matrix once.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include <multitask/common/interrupt.hpp>
#include <multitask/kernels/kernel_ridge.hpp>
#include <multitask/linalg/band_reduction.hpp>
#include <multitask/linalg/blocked_tridiagonalization.hpp>

namespace multitask {

template <typename Scalar>
struct KernelRidgePath {
  Matrix<Scalar> dual_coefs;  // (N, n_alphas) column a: c at alphas[a], samples task by task
  Matrix<Scalar> intercepts;  // (T, n_alphas) column a: b at alphas[a] (zeros without intercept)
  std::string method;         // "band", "tridiagonal" or "per_alpha"
};

/// The tridiagonal reduction of an n x n matrix costs about n / reduction_cost_divisor
/// Cholesky factorisations of it on one thread: measured 6, 7.5 and 11 at n = 1000,
/// 2000 and 3000 (AVX-512). The Householder reduction is sequential and, even
/// blocked, bound by memory bandwidth (a symmetric matrix-vector product with the
/// trailing matrix per column); the blocked factorisation is neither, so the
/// ratio grows with n and with the thread count.
constexpr double reduction_cost_divisor = 250;

/// The band reduction costs about this many Cholesky factorisations on one thread,
/// whatever n: both are compute-bound, with (4/3) n^3 flops against n^3 / 3.
/// Measured in the extension (baseline ISA, SciPy's OpenBLAS, one thread): a path of
/// 20 alphas at N = 4000 (T = 4, RBF) took 4.6 times one solver="cholesky" fit
/// (kernel matrix included), the tridiagonal path 19 times; the stand-alone reduction
/// 3.8 to 6.6 times cholesky_in_place at n = 2000 to 4000 (bench/cpp/band_reduction_bench.cpp).
/// It runs on one thread (its products are single BLAS calls) while the
/// factorisations use all of them, hence the factor n_threads in the auto rule.
constexpr double band_reduction_cost = 5;

namespace detail {

inline NumericalError path_not_definite() {
  return NumericalError("the multi-task kernel system is not positive definite: the input kernel matrix is not "
                        "positive semidefinite (or alpha is at round-off level)");
}

/// The shifted systems Red + shift I of a reduction, one factorisation at a time:
/// factor() returns false when a pivot is not above `floor` (LDL^T pivots in both cases).
template <typename Reduction>
class ShiftedSystem;

template <typename Work>
class ShiftedSystem<TridiagonalReduction<Work>> {
 public:
  explicit ShiftedSystem(const TridiagonalReduction<Work>& reduction)
      : reduction_(reduction), pivots_(reduction.main.size()) {}
  Work pivot_scale() const { return reduction_.main.cwiseAbs().maxCoeff(); }
  bool factor(Work shift, Work floor) {
    return tridiagonal_pivots(reduction_.main, reduction_.off, shift, pivots_) && pivots_.minCoeff() > floor;
  }
  void solve_in_place(Matrix<Work>& rhs) const { tridiagonal_solve_in_place(reduction_.off, pivots_, rhs); }

 private:
  const TridiagonalReduction<Work>& reduction_;
  Vector<Work> pivots_;
};

template <typename Work>
class ShiftedSystem<BandReduction<Work>> {
 public:
  explicit ShiftedSystem(const BandReduction<Work>& reduction) : reduction_(reduction) {}
  Work pivot_scale() const { return reduction_.diagonal_scale(); }
  bool factor(Work shift, Work floor) { return factor_.factor(reduction_.band(), shift, floor); }
  void solve_in_place(Matrix<Work>& rhs) const { factor_.solve_in_place(rhs); }

 private:
  const BandReduction<Work>& reduction_;
  ShiftedBandFactor<Work> factor_;
};

/// Per-task inputs, one reduction of G = D M D (see the file comment); Reduction:
/// BandReduction or TridiagonalReduction.
template <template <typename> class Reduction, typename Scalar>
void path_reduced_per_task(const KernelRidgeProblem<Scalar>& problem, const Vector<ExactScalar>& alphas,
                           int n_threads, KernelRidgePath<Scalar>& path) {
  using Work = ExactScalar;
  const TaskLayout& layout = problem.layout;
  const Index N = layout.n_samples(), T = layout.n_tasks(), n_alphas = alphas.size();
  const Index n_rhs = problem.fit_intercept ? T + 1 : 1;
  Vector<Work> scale(N);                            // D: rho_i^{-1/2}
  Matrix<Work> rhs = Matrix<Work>::Zero(N, n_rhs);  // D [y, E]
  for (Index t = 0; t < T; ++t) {
    const Index first = layout.offsets[t], count = layout.offsets[t + 1] - first;
    scale.segment(first, count).setConstant(Work(1) / std::sqrt(static_cast<Work>(problem.ridge[t])));
    if (problem.fit_intercept) rhs.col(t + 1).segment(first, count) = scale.segment(first, count);
  }
  rhs.col(0) = scale.cwiseProduct(problem.y.template cast<Work>());

  const Reduction<Work> reduction = [&] {
    Matrix<Scalar> M;
    multitask_gram_lower(problem.inputs, problem.B, layout, M, n_threads);
    if (!lower_triangle_finite(M)) throw non_finite_kernel_matrix();
    Matrix<Work> G = M.template cast<Work>();  // lower triangle used
    M.resize(0, 0);
    G.array().colwise() *= scale.array();
    G.array().rowwise() *= scale.transpose().array();
    return Reduction<Work>(std::move(G));
  }();
  const Matrix<Work> transformed = reduction.to_basis(rhs);  // P^T D [y, E]  (N, n_rhs)

  Matrix<Work> W(N, n_alphas);  // P^T D^{-1} c per alpha
  path.intercepts = Matrix<Scalar>::Zero(T, n_alphas);
  ShiftedSystem<Reduction<Work>> system(reduction);
  const Work diagonal_scale = system.pivot_scale();
  Matrix<Work> solved;
  for (Index a = 0; a < n_alphas; ++a) {
    poll_interrupt(static_cast<double>(N) * static_cast<double>(n_rhs));
    // A pivot at round-off level of the largest diagonal entry: singular to working precision.
    if (!system.factor(alphas[a], singular_pivot_floor(diagonal_scale + alphas[a], N))) throw path_not_definite();
    solved = transformed;  // (Red + alpha I)^{-1} P^T D [y, E]
    system.solve_in_place(solved);
    W.col(a) = solved.col(0);
    if (!problem.fit_intercept) continue;
    // Schur complement E^T A^{-1} E = (P^T D E)^T (Red + alpha I)^{-1} P^T D E, and
    // E^T A^{-1} y likewise; then c = A^{-1} (y - E b).
    Matrix<Work> schur = transformed.rightCols(T).transpose() * solved.rightCols(T);
    schur = (schur + schur.transpose()).eval() / 2;
    const Eigen::LLT<Matrix<Work>> factor(schur);
    if (factor.info() != Eigen::Success) throw NumericalError("the intercept system is not positive definite");
    const Vector<Work> b = factor.solve(transformed.rightCols(T).transpose() * solved.col(0));
    W.col(a).noalias() -= solved.rightCols(T) * b;
    path.intercepts.col(a) = b.template cast<Scalar>();
  }
  path.dual_coefs = (scale.asDiagonal() * reduction.from_basis(W)).template cast<Scalar>();
}

/// Shared design, one reduction of K_x (see the file comment).
template <typename Scalar>
void path_tridiagonal_shared(const KernelRidgeProblem<Scalar>& problem, const Vector<ExactScalar>& alphas,
                             int n_threads, KernelRidgePath<Scalar>& path) {
  using Work = ExactScalar;
  const TaskLayout& layout = problem.layout;
  const Index n = layout.n_inputs(), T = layout.n_tasks(), n_alphas = alphas.size();
  const Vector<Work> unit_inv_sqrt_ridge = problem.ridge.template cast<Work>().cwiseSqrt().cwiseInverse();
  const TaskDirections directions(problem.B, unit_inv_sqrt_ridge);  // at alpha = 1
  const Matrix<Work>& V = directions.V;

  const TridiagonalReduction<Work> reduction = [&] {
    Matrix<Scalar> gram;
    problem.inputs.gram_lower(gram, n_threads);
    if (!lower_triangle_finite(gram) || !problem.B.allFinite()) throw non_finite_kernel_matrix();
    Matrix<Work> K = gram.template cast<Work>();  // lower triangle used
    gram.resize(0, 0);
    return TridiagonalReduction<Work>(std::move(K));
  }();
  Matrix<Work> rhs(n, T + 1);  // [Y R_1^{-1/2} V, 1_n]
  rhs.leftCols(T) = Eigen::Map<const Matrix<Scalar>>(problem.y.data(), n, T).template cast<Work>() *
                    unit_inv_sqrt_ridge.asDiagonal() * V;
  rhs.col(T).setOnes();
  const Matrix<Work> transformed = reduction.to_basis(rhs);
  const Vector<Work> ones = transformed.col(T);  // a = P^T 1_n

  Matrix<Work> W(n, T * n_alphas);  // Z of every alpha, side by side
  path.intercepts = Matrix<Scalar>::Zero(T, n_alphas);
  Matrix<Work> Z, Q, pair(n, 2);
  Vector<Work> pivots(n);
  for (Index a = 0; a < n_alphas; ++a) {
    poll_interrupt(static_cast<double>(n) * static_cast<double>(T));
    const Work root_alpha = std::sqrt(alphas[a]);
    Z = transformed.leftCols(T) / root_alpha;  // Y^ at alpha
    Q = ones.replicate(1, T);                  // q_k = a where beta_k = 0 (the identity)
    for (Index k = 0; k < T; ++k) {
      const Work beta = directions.beta[k] / alphas[a];
      if (beta == 0) continue;
      const Vector<Work> scaled_off = beta * reduction.off;
      if (!tridiagonal_pivots(Vector<Work>(beta * reduction.main), scaled_off, Work(1), pivots))
        throw path_not_definite();
      pair.col(0) = Z.col(k);
      pair.col(1) = ones;
      tridiagonal_solve_in_place(scaled_off, pivots, pair);
      Z.col(k) = pair.col(0);
      Q.col(k) = pair.col(1);
    }
    if (problem.fit_intercept)
      path.intercepts.col(a) =
          kronecker_intercepts(V, Vector<Work>(unit_inv_sqrt_ridge / root_alpha), ones, Q, Z).template cast<Scalar>();
    W.middleCols(a * T, T) = Z;
  }
  const Matrix<Work> PW = reduction.from_basis(W);  // one BLAS-3 product for all alphas
  path.dual_coefs.resize(n * T, n_alphas);
  for (Index a = 0; a < n_alphas; ++a) {
    // C = P Z V^T R^{-1/2}, R^{-1/2} = R_1^{-1/2} / sqrt(alpha).
    const Vector<Work> inv_sqrt_ridge = unit_inv_sqrt_ridge / std::sqrt(alphas[a]);
    const Matrix<Work> C = PW.middleCols(a * T, T) * V.transpose() * inv_sqrt_ridge.asDiagonal();
    path.dual_coefs.col(a) = Eigen::Map<const Vector<Work>>(C.data(), n * T).template cast<Scalar>();
  }
}

/// Every alpha solved as the fit would (solve_bordered_cholesky or
/// solve_kronecker_dual), the kernel matrix computed once.
template <typename Scalar>
void path_per_alpha(const KernelRidgeProblem<Scalar>& problem, const Vector<ExactScalar>& alphas, int n_threads,
                    KernelRidgePath<Scalar>& path) {
  const TaskLayout& layout = problem.layout;
  const Index T = layout.n_tasks(), n_alphas = alphas.size();
  path.dual_coefs.resize(layout.n_samples(), n_alphas);
  path.intercepts.resize(T, n_alphas);
  Matrix<Scalar> gram;  // lower triangles of K_x (n, n) for a shared design, else of M (N, N)
  if (layout.shared)
    problem.inputs.gram_lower(gram, n_threads);
  else
    multitask_gram_lower(problem.inputs, problem.B, layout, gram, n_threads);
  KernelRidgeProblem<Scalar> scaled = problem;
  for (Index a = 0; a < n_alphas; ++a) {
    poll_interrupt();
    scaled.ridge = static_cast<Scalar>(alphas[a]) * problem.ridge;
    if (layout.shared) {
      const Index n = layout.n_inputs();
      const Matrix<Scalar> Y = Eigen::Map<const Matrix<Scalar>>(problem.y.data(), n, T);
      Vector<Scalar> intercept;
      const Matrix<Scalar> C =
          solve_kronecker_dual(gram, problem.B, scaled.ridge, Y, problem.fit_intercept, n_threads, intercept);
      path.dual_coefs.col(a) = Eigen::Map<const Vector<Scalar>>(C.data(), n * T);
      path.intercepts.col(a) = intercept;
    } else {
      Matrix<Scalar> A = gram;  // factorised in place
      KernelRidgeResult<Scalar> result;
      solve_bordered_cholesky(A, scaled, n_threads, result);
      path.dual_coefs.col(a) = result.dual_coef;
      path.intercepts.col(a) = result.intercept;
    }
  }
}

}  // namespace detail

/// Solves the multi-task kernel ridge system for every alpha of `alphas` (> 0,
/// finite; any order), `problem.ridge` holding the ridge at alpha = 1
/// (rho_t = N / omega_t). `method`:
///   "band"         per-task inputs: one band reduction, every alpha in O(N^2);
///   "tridiagonal"  one tridiagonal reduction, every alpha in O(N^2) (O(n^2 T) shared);
///   "per_alpha"    a factorisation per alpha, the kernel matrix computed once;
///   "auto"         the reduction ("band" for per-task inputs, "tridiagonal" for a
///                  shared design) when the factorisations it replaces (n_alphas, times
///                  T for a shared design) cost more than it: n_threads * band_reduction_cost
///                  factorisations, or n_threads * n / reduction_cost_divisor shared.
template <typename Scalar>
KernelRidgePath<Scalar> fit_kernel_ridge_path(const KernelRidgeProblem<Scalar>& problem,
                                              const Vector<ExactScalar>& alphas, const std::string& method,
                                              int n_threads) {
  check_kernel_ridge_problem(problem);
  require(alphas.size() >= 1 && alphas.allFinite() && (alphas.array() > 0).all(),
          "alphas must be finite positive numbers");
  const TaskLayout& layout = problem.layout;
  const double threads = static_cast<double>(std::max(n_threads, 1));
  KernelRidgePath<Scalar> path;
  path.method = method;
  if (method == "auto") {
    const double factorisations = static_cast<double>(alphas.size() * (layout.shared ? layout.n_tasks() : 1));
    const double reduction_cost =
        threads * (layout.shared ? static_cast<double>(layout.n_inputs()) / reduction_cost_divisor : band_reduction_cost);
    path.method = factorisations > reduction_cost ? (layout.shared ? "tridiagonal" : "band") : "per_alpha";
  }
  if (path.method == "per_alpha")
    detail::path_per_alpha(problem, alphas, n_threads, path);
  else if (path.method == "tridiagonal" && layout.shared)
    detail::path_tridiagonal_shared(problem, alphas, n_threads, path);
  else if (path.method == "tridiagonal")
    detail::path_reduced_per_task<TridiagonalReduction>(problem, alphas, n_threads, path);
  else if (path.method == "band" && !layout.shared)
    detail::path_reduced_per_task<BandReduction>(problem, alphas, n_threads, path);
  else if (path.method == "band")
    throw InvalidArgument("method 'band' reduces the kernel matrix of per-task inputs; a shared design's path "
                          "uses 'tridiagonal' (or 'auto')");
  else
    throw InvalidArgument("method must be 'auto', 'band', 'tridiagonal' or 'per_alpha', got '" + method + "'");
  return path;
}

}  // namespace multitask
