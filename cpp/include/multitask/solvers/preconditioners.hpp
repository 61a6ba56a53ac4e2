// Preconditioners of the Gram-space system H(W) = C for conjugate gradient.
//
// block-Jacobi:  M = blockdiag(A_t + alpha K_tt I): exact on every task's own
//                block, blind to the coupling between tasks.
// Kronecker:     M(W) = Abar W diag(tau) + alpha W K with tau_t = tr(A_t) and
//                Abar the mean of A_t / tau_t: exact on the coupling, and exact
//                altogether when every A_t is a multiple of one matrix (tasks
//                with similar designs); applied by the Sylvester solver.
// `choose_preconditioner` keeps the one whose neglected part is smaller in
// Frobenius norm:  sum_t ||A_t - tau_t Abar||^2   vs   alpha^2 d sum_{s != t} K_st^2.
#pragma once

#include <memory>
#include <string>

#include <multitask/solvers/block_factor.hpp>
#include <multitask/solvers/solve_exact.hpp>

namespace multitask {

template <typename Scalar>
class Preconditioner {
 public:
  virtual ~Preconditioner() = default;
  /// Z = M^{-1} R.   R, Z: (d, T)
  virtual void apply(const Matrix<Scalar>& R, Matrix<Scalar>& Z) const = 0;
  virtual std::string name() const = 0;
};

template <typename Scalar>
class BlockJacobiPreconditioner final : public Preconditioner<Scalar> {
 public:
  explicit BlockJacobiPreconditioner(const CoupledSystem<Scalar>& system)
      : system_(system), factors_(diagonal_block_factors(system)) {}

  void apply(const Matrix<Scalar>& R, Matrix<Scalar>& Z) const override {
    parallel_for(system_.n_tasks(), system_.apply_threads(), [&](Index t) { Z.col(t) = factors_[t].solve(R.col(t)); });
  }
  std::string name() const override { return "block_jacobi"; }

 private:
  const CoupledSystem<Scalar>& system_;
  std::vector<BlockFactor<Scalar>> factors_;
};

template <typename Scalar>
class KroneckerPreconditioner final : public Preconditioner<Scalar> {
 public:
  KroneckerPreconditioner(const Matrix<Scalar>& mean_shape, const Vector<Scalar>& traces,
                          const CoupledSystem<Scalar>& system)
      : solver_(mean_shape, system.coupling(), traces, system.alpha()) {}

  bool usable() const { return solver_.well_posed(); }
  void apply(const Matrix<Scalar>& R, Matrix<Scalar>& Z) const override { Z = solver_.solve(R); }
  std::string name() const override { return "kronecker"; }

 private:
  SylvesterSolver<Scalar> solver_;
};

/// The preconditioner whose neglected part of H is smaller (see the file comment).
template <typename Scalar>
std::unique_ptr<Preconditioner<Scalar>> choose_preconditioner(const CoupledSystem<Scalar>& system) {
  const Index T = system.n_tasks(), d = system.n_features();
  bool every_task_has_gram = true;
  for (Index t = 0; t < T; ++t) every_task_has_gram = every_task_has_gram && system.stats(t).has_gram();
  if (every_task_has_gram && d > 1) {
    Vector<Scalar> traces(T);
    Matrix<Scalar> mean_shape = Matrix<Scalar>::Zero(d, d);
    for (Index t = 0; t < T; ++t) {
      const TaskStatistics<Scalar>& s = system.stats(t);
      traces[t] = s.weight * s.gram->trace();
      if (traces[t] > 0) mean_shape += (s.weight / traces[t]) * *s.gram;
    }
    mean_shape /= Scalar(T);
    double kronecker_error = 0;
    for (Index t = 0; t < T; ++t) {
      const TaskStatistics<Scalar>& s = system.stats(t);
      kronecker_error += (s.weight * *s.gram - traces[t] * mean_shape).squaredNorm();
    }
    const Matrix<Scalar>& K = system.coupling();
    const double jacobi_error = double(system.alpha()) * double(system.alpha()) * double(d) *
                                (K.squaredNorm() - K.diagonal().squaredNorm());
    if (kronecker_error < jacobi_error && traces.minCoeff() > 0) {
      auto kronecker = std::make_unique<KroneckerPreconditioner<Scalar>>(mean_shape, traces, system);
      if (kronecker->usable()) return kronecker;
    }
  }
  return std::make_unique<BlockJacobiPreconditioner<Scalar>>(system);
}

}  // namespace multitask
