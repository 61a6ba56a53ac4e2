// Entry point of SharedSubspaceRegressor: statistics, start, certificate of
// the zero solution, solver, intercepts.
//
//     F(U, A, b) = sum_t s_t/2 ||y_t - X_t U a_t - b_t 1||^2 + alpha/2 tr(A K A^T) + alpha_U/2 ||U||_F^2
//
// The data are read once, to form the Gram statistics (gram.hpp, every task
// with its Gram); everything after costs O(T d^2 r + ...) per iteration,
// independent of the number of samples.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <Eigen/SVD>

#include <multitask/data/gram.hpp>
#include <multitask/data/sparse_gram.hpp>
#include <multitask/solvers/solve_shared_subspace.hpp>

namespace multitask {

/// The statistics of every task with its Gram, for dense designs. A shared
/// design forms its one Gram (gram.hpp). Otherwise each task's Gram is formed
/// by centred_gram (a BLAS rank update) when the task is large, and by Eigen's
/// coefficient-wise product when it is small: School's tasks have about 70
/// rows of 28 features, where a BLAS call costs more in overhead than its
/// arithmetic (measured on a 9,200-row School fold: an easy fit took 12 ms with
/// per-row rank-one updates, 6 ms with this product).
template <typename Scalar>
std::vector<TaskStatistics<Scalar>> subspace_statistics(const TaskData<Scalar>& data, int n_threads) {
  const Index T = data.n_tasks(), d = data.n_features();
  if (data.shared_design) return task_statistics(data, n_threads, std::vector<char>(T, 1));
  constexpr double kSmallTaskWork = 1e6;  // n_t d^2 below which a task's Gram is formed row by row
  std::vector<TaskStatistics<Scalar>> stats(T);
  double work = 0;
  for (Index t = 0; t < T; ++t) work += static_cast<double>(data.n_samples(t)) * static_cast<double>(d * d);
  parallel_for_interruptible(T, threads_for_work(work, n_threads), work / static_cast<double>(T), [&](Index t) {
    TaskStatistics<Scalar>& s = stats[t];
    const auto& X = data.X[t];
    const TaskMeans<Scalar> means = task_means(data, t);
    s.x_mean = means.x_mean;
    s.y_mean = means.y_mean;
    s.weight = data.sample_weight[t];
    const Vector<Scalar> y_centred = data.y[t].array() - means.y_mean;
    s.c = s.weight * centred_transpose_product(X, s.x_mean, y_centred);
    s.q = s.weight / 2 * y_centred.squaredNorm();
    if (static_cast<double>(X.rows()) * static_cast<double>(d * d) >= kSmallTaskWork) {
      s.gram = std::make_shared<const Matrix<Scalar>>(centred_gram(X, s.x_mean, data.fit_intercept));
      return;
    }
    // The centred rows in column-major order (x_mean is zero without intercept), then every entry of
    // X~^T X~ as a dot product of two contiguous columns: a coefficient-wise product, no BLAS call.
    const Matrix<Scalar> centred = X.rowwise() - s.x_mean.transpose();
    s.gram = std::make_shared<const Matrix<Scalar>>(centred.transpose().lazyProduct(centred));
  });
  return stats;
}

/// The same for CSR designs.
template <typename Scalar>
std::vector<TaskStatistics<Scalar>> subspace_statistics(const TaskBlocks<Scalar, SparseDesign<Scalar>>& data,
                                                        bool shared_design) {
  return sparse_task_statistics(data, shared_design);
}

/// W = 0 (U = 0, A = 0) is the global minimiser iff ||C K^-1/2||_2 <= sqrt(alpha alpha_U):
/// min over U A = W of the two penalties is sqrt(alpha alpha_U) ||W K^1/2||_* (for any r >= rank W), a
/// convex function whose subdifferential at 0 is {sqrt(alpha alpha_U) P K^1/2 : ||P||_2 <= 1}, and the
/// data term's gradient at W = 0 is -C. (With L L^T = K, C L^-T has the singular values of C K^-1/2.)
template <typename Scalar>
bool zero_is_optimal(const Matrix<Scalar>& C, const Matrix<Scalar>& K, Scalar alpha, Scalar alpha_u) {
  Matrix<Scalar> S;  // (T, d) = (C L^-T)^T
  if ((K - Matrix<Scalar>(K.diagonal().asDiagonal())).cwiseAbs().maxCoeff() == 0) {
    S = K.diagonal().cwiseSqrt().cwiseInverse().asDiagonal() * C.transpose();
  } else {
    Eigen::LLT<Matrix<Scalar>> factor(K);
    require(factor.info() == Eigen::Success, "coupling must be positive definite");
    S = factor.matrixL().solve(C.transpose());
  }
  const Matrix<Scalar> gram = S.rows() <= S.cols() ? Matrix<Scalar>(S * S.transpose())
                                                    : Matrix<Scalar>(S.transpose() * S);
  const Scalar largest = Eigen::SelfAdjointEigenSolver<Matrix<Scalar>>(gram, Eigen::EigenvaluesOnly)
                             .eigenvalues()
                             .maxCoeff();
  return largest <= alpha * alpha_u;
}

/// U_0 = (alpha / alpha_U)^(1/4) P_r Sigma_r^(1/2) from the SVD W_0 = P Sigma Q^T of the independent ridge
/// solutions (G_t + alpha I) w_t = c_t; columns beyond the rank of W_0 are zero.
template <typename Scalar>
Matrix<Scalar> ridge_start(const std::vector<TaskStatistics<Scalar>>& stats, const Matrix<Scalar>& C, Scalar alpha,
                           Scalar alpha_u, Index r, bool shared) {
  const Index d = C.rows(), T = C.cols();
  Matrix<Scalar> W0(d, T);
  if (shared) {  // one eigendecomposition X~^T X~ = V diag(lambda) V^T for every task
    const Eigen::SelfAdjointEigenSolver<Matrix<Scalar>> eigen(*stats[0].gram);
    const Matrix<Scalar> projected = eigen.eigenvectors().transpose() * C;
    Matrix<Scalar> scaled(d, T);
    for (Index t = 0; t < T; ++t)
      scaled.col(t) = projected.col(t).array() / (stats[t].weight * eigen.eigenvalues().array() + alpha);
    W0.noalias() = eigen.eigenvectors() * scaled;
  } else {
    for (Index t = 0; t < T; ++t) {
      Matrix<Scalar> system = stats[t].weight * *stats[t].gram;
      system.diagonal().array() += alpha;
      W0.col(t) = system.llt().solve(C.col(t));
      poll_interrupt(static_cast<double>(d * d * d) / 3);
    }
  }
  const Eigen::BDCSVD<Matrix<Scalar>> svd(W0, Eigen::ComputeThinU);
  const Index rank = std::min<Index>(r, svd.singularValues().size());
  Matrix<Scalar> U0 = Matrix<Scalar>::Zero(d, r);
  const Scalar scale = std::pow(alpha / alpha_u, Scalar(0.25));
  for (Index k = 0; k < rank; ++k) U0.col(k) = scale * std::sqrt(svd.singularValues()[k]) * svd.matrixU().col(k);
  return U0;
}

/// Fits SharedSubspaceRegressor on the statistics `stats`. n_components = r;
/// initial_components: optional (d, r) start instead of the ridge start.
template <typename Scalar>
SubspaceResult<Scalar> fit_shared_subspace(const std::vector<TaskStatistics<Scalar>>& stats,
                                           const Matrix<Scalar>& coupling, Scalar alpha, Scalar alpha_u,
                                           Index n_components, const SolverOptions& options,
                                           const Matrix<Scalar>* initial_components) {
  const Index T = static_cast<Index>(stats.size());
  require(T > 0, "at least one task is required");
  const Index d = stats[0].c.size(), r = n_components;
  require(coupling.rows() == T && coupling.cols() == T, "coupling must have shape (n_tasks, n_tasks)");
  require(alpha > 0 && std::isfinite(static_cast<double>(alpha)), "alpha must be finite and positive");
  require(alpha_u > 0 && std::isfinite(static_cast<double>(alpha_u)), "alpha_u must be finite and positive");
  require(r >= 1 && r <= d, "n_components must be between 1 and n_features");
  require(options.tol >= 0, "tol must be non-negative");
  require(options.max_iter >= 0, "max_iter must be non-negative");
  require(!initial_components || (initial_components->rows() == d && initial_components->cols() == r),
          "initial components must have shape (n_features, n_components)");

  const GramStack<Scalar> grams(stats);
  Matrix<Scalar> C(d, T);
  Scalar constant = 0;
  for (Index t = 0; t < T; ++t) {
    C.col(t) = stats[t].c;
    constant += stats[t].q;
  }
  const SubspaceObjective<Scalar> objective(grams, C, constant, coupling, alpha, alpha_u);

  SubspaceResult<Scalar> result;
  if (zero_is_optimal(C, coupling, alpha, alpha_u)) {
    result.solver = "alternating_newton";
    result.components = Matrix<Scalar>::Zero(d, r);
    result.heads = Matrix<Scalar>::Zero(r, T);
    result.objective_history.push_back(static_cast<double>(constant));
    result.converged = true;
    result.zero_solution = true;
  } else {
    const Matrix<Scalar> U0 =
        initial_components ? *initial_components : ridge_start(stats, C, alpha, alpha_u, r, grams.shared());
    result = solve_shared_subspace(objective, U0, options);
  }
  result.intercept.resize(T);
  const Matrix<Scalar> W = result.components * result.heads;
  for (Index t = 0; t < T; ++t) result.intercept[t] = stats[t].y_mean - stats[t].x_mean.dot(W.col(t));
  return result;
}

}  // namespace multitask
