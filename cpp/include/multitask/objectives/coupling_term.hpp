// The coupling term of the kernel-coupled objective, over the task models
// W = [w_1 ... w_T] (d, T) and a symmetric positive semidefinite K (T, T):
//
//   psi(W) = alpha/2 tr(W K W^T) = alpha/2 sum_{s,t} K_st <w_s, w_t>,
//   grad psi(W) = alpha W K,
//
// and, psi being quadratic, its Hessian maps V to alpha V K. The objectives
// (least squares on Gram statistics, pointwise losses on the data) and the
// solvers differ in their data terms; they all take the coupling from here.
#pragma once

#include <Eigen/Eigenvalues>
#include <vector>

#include <multitask/common/types.hpp>

namespace multitask {

template <typename Scalar>
class CouplingTerm {
 public:
  CouplingTerm(const Matrix<Scalar>& K, Scalar alpha) : K_(K), alpha_(alpha) {}

  const Matrix<Scalar>& matrix() const { return K_; }
  Scalar alpha() const { return alpha_; }
  Index n_tasks() const { return K_.rows(); }

  /// W K (d, T): the product the value and the gradient are both read from.
  template <typename Coef>
  Matrix<Scalar> times_coupling(const Coef& W) const {
    return W * K_;
  }

  /// tr(W K W^T) = <W, W K> from W and WK = W K (no alpha).
  template <typename Coef, typename Product>
  Scalar quadratic_form(const Coef& W, const Product& WK) const {
    return W.cwiseProduct(WK).sum();
  }

  /// psi(W) = alpha/2 tr(W K W^T) from W and WK = W K.
  template <typename Coef, typename Product>
  Scalar value(const Coef& W, const Product& WK) const {
    return alpha_ / 2 * quadratic_form(W, WK);
  }

  /// grad psi = alpha W K from WK = W K (an expression: no copy).
  template <typename Product>
  auto gradient(const Product& WK) const {
    return alpha_ * WK;
  }

  /// out = alpha V K: the gradient at V, which is also the Hessian applied to V.
  template <typename Coef, typename Out>
  void apply(const Coef& V, Out&& out) const {
    out.noalias() = alpha_ * V * K_;
  }

  /// out += alpha V K.
  template <typename Coef, typename Out>
  void add_apply(const Coef& V, Out&& out) const {
    if (alpha_ != 0) out.noalias() += alpha_ * V * K_;
  }

  /// alpha K delta (T): the change of one row of the gradient when that row of
  /// W moves by delta (the rows of W are coupled only through K).
  template <typename Row>
  Vector<Scalar> row_change(const Row& delta) const {
    return alpha_ * (K_ * delta);
  }

  /// alpha K_tt: the coupling's share of the Hessian's diagonal for task t
  /// (the same for every feature), the ridge a task's own block sees.
  Scalar diagonal(Index t) const { return alpha_ * K_(t, t); }

  /// alpha (W K[:, tasks]) (d, m): the gradient's columns for `tasks`.
  template <typename Coef>
  Matrix<Scalar> gradient_columns(const Coef& W, const std::vector<Index>& tasks) const {
    Matrix<Scalar> columns(K_.rows(), static_cast<Index>(tasks.size()));
    for (size_t k = 0; k < tasks.size(); ++k) columns.col(static_cast<Index>(k)) = K_.col(tasks[k]);
    return alpha_ * (W * columns);
  }

  /// alpha lambda_max(K): a bound on psi's curvature along any row of W.
  double curvature_bound() const {
    if (K_.rows() == 0 || alpha_ == 0) return 0.0;
    const Eigen::SelfAdjointEigenSolver<Matrix<Scalar>> eigen(K_, Eigen::EigenvaluesOnly);
    return static_cast<double>(alpha_) * static_cast<double>(eigen.eigenvalues().maxCoeff());
  }

 private:
  Matrix<Scalar> K_;  // (T, T)
  Scalar alpha_;
};

}  // namespace multitask
