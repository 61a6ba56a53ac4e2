// Which exact solver a kernel-coupled least-squares system gets, kept across
// the alphas of a path: the Sylvester solver for a shared design, the Woodbury
// solver for per-task designs with a coupling c I + low rank, otherwise the
// dense Cholesky of the (dT, dT) system (factorised per alpha).
#pragma once

#include <memory>
#include <string>

#include <multitask/solvers/solve_exact.hpp>
#include <multitask/solvers/solve_low_rank_coupling.hpp>

namespace multitask {

template <typename Scalar>
class ExactGramSolver {
 public:
  /// The set-up that does not depend on alpha (reductions, diagonalisations),
  /// for `n_alphas` alphas to come (a path diagonalises where one alpha factorises).
  ExactGramSolver(const CoupledSystem<Scalar>& system, Index n_alphas) {
    if (system.data().shared_design) {
      sylvester_ = std::make_unique<SylvesterSolver<Scalar>>(sylvester_solver(system));
    } else if (system.alpha() > 0) {  // alpha = 0 leaves no coupling to split: the dense solver judges singularity
      if (auto split = low_rank_coupling_split(system.coupling(), system.n_features()))
        low_rank_ = std::make_unique<LowRankCouplingSolver<Scalar>>(system, std::move(*split),
                                                                    n_alphas >= kLowRankDiagonaliseMinAlphas);
    }
  }

  /// The same set-up at another alpha (> 0).
  void set_alpha(Scalar alpha) {
    if (sylvester_) sylvester_->set_alpha(alpha);
    if (low_rank_) low_rank_->set_alpha(alpha);
  }

  /// W (d, T) solving the system (at the alpha last set); `product` receives
  /// H(W) when the solver computed it (else it is left empty).
  Matrix<Scalar> solve(const CoupledSystem<Scalar>& system, Matrix<Scalar>& product) const {
    product.resize(0, 0);
    if (sylvester_) return sylvester_->solve(system.rhs());
    if (low_rank_) return low_rank_->solve(system, &product);
    return solve_dense_cholesky(system);
  }

  /// "sylvester", "low_rank_coupling" or "dense_cholesky".
  std::string method() const { return sylvester_ ? "sylvester" : low_rank_ ? "low_rank_coupling" : "dense_cholesky"; }

 private:
  std::unique_ptr<SylvesterSolver<Scalar>> sylvester_;
  std::unique_ptr<LowRankCouplingSolver<Scalar>> low_rank_;
};

}  // namespace multitask
