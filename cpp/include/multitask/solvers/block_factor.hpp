// Cached factorisations of the diagonal blocks A_t + beta_t I, beta_t = alpha K_tt:
// the block-Jacobi preconditioner of CG and the block update of BCD.
#pragma once

#include <string>
#include <vector>

#include <multitask/objectives/coupled_system.hpp>

namespace multitask {

/// Solves (A_t + beta I) z = r for one task.
///
/// Gram side: Cholesky of the (d, d) block. Sample side (wide task, beta > 0),
/// by Woodbury with A_t = s X~^T X~:
///     (beta I + s X~^T X~)^{-1} r = (r - s X~^T (beta I + s X~ X~^T)^{-1} X~ r) / beta,
/// which factors only an (n_t, n_t) matrix.
template <typename Scalar>
class BlockFactor {
 public:
  BlockFactor() = default;

  BlockFactor(const CoupledSystem<Scalar>& system, Index t, Scalar beta) : system_(&system), task_(t), beta_(beta) {
    const TaskStatistics<Scalar>& s = system.stats(t);
    if (s.has_gram()) {
      Matrix<Scalar> block = s.weight * *s.gram;
      block.diagonal().array() += beta;
      factor_.compute(block);
    } else {
      require(beta > 0, "internal: sample-side factor needs a positive shift");
      const auto& X = system.data().X[t];
      const RowMatrix<Scalar> centred = X.rowwise() - s.x_mean.transpose();  // (n_t, d)
      Matrix<Scalar> inner = s.weight * (centred * centred.transpose());       // (n_t, n_t)
      inner.diagonal().array() += beta;
      factor_.compute(inner);
    }
    if (factor_.info() != Eigen::Success)
      throw NumericalError("the diagonal block of task " + std::to_string(t) +
                           " (A_t + alpha K_tt I) is not positive definite");
  }

  template <typename Vec>
  Vector<Scalar> solve(const Vec& r) const {
    const TaskStatistics<Scalar>& s = system_->stats(task_);
    if (s.has_gram()) return factor_.solve(r);
    const auto& X = system_->data().X[task_];
    const Vector<Scalar> u = factor_.solve(centred_product(X, s.x_mean, r));
    return (r - s.weight * centred_transpose_product(X, s.x_mean, u)) / beta_;
  }

 private:
  const CoupledSystem<Scalar>* system_ = nullptr;
  Index task_ = 0;
  Scalar beta_ = 0;
  Eigen::LLT<Matrix<Scalar>> factor_;
};

/// Factors of every diagonal block A_t + alpha K_tt I, computed in parallel.
template <typename Scalar>
std::vector<BlockFactor<Scalar>> diagonal_block_factors(const CoupledSystem<Scalar>& system) {
  std::vector<BlockFactor<Scalar>> factors(system.n_tasks());
  const double d = static_cast<double>(system.n_features());
  const int n_threads = threads_for_work(d * d * d / 3 * static_cast<double>(system.n_tasks()), system.n_threads());
  parallel_for_interruptible(system.n_tasks(), n_threads, d * d * d / 3, [&](Index t) {
    factors[t] = BlockFactor<Scalar>(system, t, system.coupling_term().diagonal(t));
  });
  return factors;
}

}  // namespace multitask
