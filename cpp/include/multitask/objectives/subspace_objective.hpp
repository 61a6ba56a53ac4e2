// The shared-subspace objective on the Gram statistics (SharedSubspaceRegressor).
//
// With w_t = U a_t, U (d, r) shared and the heads A = [a_1 ... a_T] (r, T),
// and the per-task statistics of gram.hpp (G_t = s_t X~_t^T X~_t, c_t, q_t,
// intercepts eliminated by centring),
//     F(U, A) = sum_t (1/2 a_t^T U^T G_t U a_t - c_t^T U a_t + q_t)
//               + alpha/2 tr(A K A^T) + alpha_U/2 ||U||_F^2.
// For a fixed U, F is a convex quadratic in A, minimised by the heads system
//     (M_t a_t - e_t) + alpha (A K)_t = 0,   M_t = U^T G_t U,  e_t = U^T c_t,
// so the solvers work on the reduced function f(U) = min_A F(U, A), whose
// gradient is (envelope theorem, A = A(U))
//     grad f(U) = sum_t (G_t w_t - c_t) a_t^T + alpha_U U,
// and whose Hessian applied to V (d, r) is
//     H[V] = sum_t (G_t (V a_t + U adot_t)) a_t^T + sum_t (G_t w_t - c_t) adot_t^T + alpha_U V,
// with adot = dA/dU[V] solving the heads system with right-hand side
//     -(V^T (G_t w_t - c_t) + (G_t U)^T V a_t)   for every t.
// Every product costs O(T d^2 + T d r) and never touches the data: the fit
// reads the data once, to form the statistics.
#pragma once

#include <cmath>
#include <memory>
#include <vector>

#include <Eigen/Cholesky>

#include <multitask/common/interrupt.hpp>
#include <multitask/data/gram.hpp>

namespace multitask {

/// The scaled Grams G_t = s_t X~_t^T X~_t of every task: side by side in one
/// (d, d T) matrix [G_1 ... G_T], so that the products with all of them are one
/// matrix product each (per-task products of a few dozen rows cost more in call
/// overhead than in arithmetic); a shared design keeps its one (d, d) Gram and
/// the weights s_t.
template <typename Scalar>
class GramStack {
 public:
  explicit GramStack(const std::vector<TaskStatistics<Scalar>>& stats) {
    const Index T = static_cast<Index>(stats.size());
    require(T > 0, "at least one task is required");
    for (const auto& s : stats) require(s.has_gram(), "every task needs its Gram");
    d_ = stats[0].gram->rows();
    weights_.resize(T);
    shared_ = true;
    for (Index t = 0; t < T; ++t) {
      weights_[t] = stats[t].weight;
      shared_ = shared_ && stats[t].gram == stats[0].gram;
    }
    if (shared_) {
      shared_gram_ = stats[0].gram;
      return;
    }
    stacked_.resize(d_, d_ * T);
    for (Index t = 0; t < T; ++t) stacked_.middleCols(t * d_, d_) = weights_[t] * *stats[t].gram;
  }

  Index n_features() const { return d_; }
  Index n_tasks() const { return weights_.size(); }
  bool shared() const { return shared_; }

  /// out_t = G_t v_t for every column t of V (d, T).
  Matrix<Scalar> apply(const Matrix<Scalar>& V) const {
    if (shared_) return *shared_gram_ * (V * weights_.asDiagonal());
    Matrix<Scalar> out(d_, n_tasks());
    for (Index t = 0; t < n_tasks(); ++t) out.col(t).noalias() = stacked_.middleCols(t * d_, d_) * V.col(t);
    return out;
  }

  /// [(G_1 U)^T ... (G_T U)^T] = U^T [G_1 ... G_T]   (r, d T), the Grams being symmetric.
  Matrix<Scalar> transposed_times(const Matrix<Scalar>& U) const {
    if (!shared_) return U.transpose() * stacked_;
    const Matrix<Scalar> GU_t = U.transpose() * *shared_gram_;
    Matrix<Scalar> out(U.cols(), d_ * n_tasks());
    for (Index t = 0; t < n_tasks(); ++t) out.middleCols(t * d_, d_) = weights_[t] * GU_t;
    return out;
  }

  /// sum_t P(t, j) G_t for every column j of P (T, m), side by side: (d, d m).
  Matrix<Scalar> weighted_sums(const Matrix<Scalar>& P) const {
    const Index m = P.cols();
    Matrix<Scalar> out(d_, d_ * m);
    if (shared_) {
      const Vector<Scalar> totals = P.transpose() * weights_;
      for (Index j = 0; j < m; ++j) out.middleCols(j * d_, d_) = totals[j] * *shared_gram_;
      return out;
    }
    Eigen::Map<Matrix<Scalar>>(out.data(), d_ * d_, m).noalias() =
        Eigen::Map<const Matrix<Scalar>>(stacked_.data(), d_ * d_, n_tasks()) * P;
    return out;
  }

  /// diag(G_t) for every task   (d, T)
  Matrix<Scalar> diagonals() const {
    Matrix<Scalar> out(d_, n_tasks());
    for (Index t = 0; t < n_tasks(); ++t)
      out.col(t) = shared_ ? Vector<Scalar>(weights_[t] * shared_gram_->diagonal())
                           : Vector<Scalar>(stacked_.middleCols(t * d_, d_).diagonal());
    return out;
  }

 private:
  Index d_ = 0;
  bool shared_ = false;
  std::shared_ptr<const Matrix<Scalar>> shared_gram_;  // shared design: X~^T X~, unscaled
  Matrix<Scalar> stacked_;                              // otherwise [G_1 ... G_T]   (d, d T)
  Vector<Scalar> weights_;
};

/// A point U of the reduced function with everything its derivatives reuse:
/// the optimal heads A(U), G_t U, the inverses of M_t + alpha K_tt I and F.
template <typename Scalar>
struct SubspacePoint {
  Matrix<Scalar> U;                          // (d, r)
  Matrix<Scalar> A;                          // (r, T) the optimal heads for U
  Matrix<Scalar> GU_t;                       // (r, d T): block t is (G_t U)^T
  std::vector<Matrix<Scalar>> M;             // T x (r, r): U^T G_t U
  Matrix<Scalar> block_inverses;             // (r, r T): block t is (M_t + alpha K_tt I)^-1
  Matrix<Scalar> residual_gradient;          // (d, T): G_t w_t - c_t, the data term's gradient in W
  double value = 0;                          // F(U, A(U))
};

template <typename Scalar>
class SubspaceObjective {
 public:
  /// Relative residual at which the heads' conjugate gradient stops (non-diagonal K only).
  static constexpr double kHeadsTol = 1e-13;

  SubspaceObjective(const GramStack<Scalar>& grams, const Matrix<Scalar>& C, Scalar constant,
                    const Matrix<Scalar>& coupling, Scalar alpha, Scalar alpha_u)
      : grams_(grams), C_(C), constant_(constant), K_(coupling), alpha_(alpha), alpha_u_(alpha_u) {
    const Matrix<Scalar> off_diagonal = K_ - Matrix<Scalar>(K_.diagonal().asDiagonal());
    diagonal_coupling_ = off_diagonal.cwiseAbs().maxCoeff() == 0;
  }

  Index n_features() const { return grams_.n_features(); }
  Index n_tasks() const { return grams_.n_tasks(); }
  Scalar alpha() const { return alpha_; }
  Scalar alpha_u() const { return alpha_u_; }
  const Matrix<Scalar>& rhs() const { return C_; }
  const GramStack<Scalar>& grams() const { return grams_; }

  /// The point U with its optimal heads; `heads_start` (r, T) starts the heads' CG (non-diagonal K).
  SubspacePoint<Scalar> at(const Matrix<Scalar>& U, const Matrix<Scalar>* heads_start = nullptr) const {
    const Index T = n_tasks(), r = U.cols();
    SubspacePoint<Scalar> p;
    p.U = U;
    p.GU_t = grams_.transposed_times(U);
    p.M.resize(T);
    p.block_inverses.resize(r, r * T);
    Eigen::LLT<Matrix<Scalar>> factor(r);
    const Matrix<Scalar> E = U.transpose() * C_;  // (r, T): e_t = U^T c_t
    for (Index t = 0; t < T; ++t) {
      p.M[t].noalias() = task_block(p, t).lazyProduct(U);  // small: no BLAS call
      factor.compute(p.M[t] + alpha_ * K_(t, t) * Matrix<Scalar>::Identity(r, r));
      // Explicit r x r inverses: every later solve is one small product (solves are per task and per
      // Hessian product, where two triangular solves cost more in overhead than the product).
      p.block_inverses.middleCols(t * r, r) = factor.solve(Matrix<Scalar>::Identity(r, r));
      if (factor.info() != Eigen::Success)
        throw NumericalError("the heads system of SharedSubspaceRegressor is not positive definite: " +
                             std::string(overflow_advice()));
    }
    const bool warm = heads_start && heads_start->rows() == r && heads_start->cols() == T;
    p.A = solve_heads(p, E, warm ? heads_start : nullptr);
    p.residual_gradient.resize(n_features(), T);
    double data = 0;
    for (Index t = 0; t < T; ++t) {
      p.residual_gradient.col(t).noalias() = task_block(p, t).transpose() * p.A.col(t) - C_.col(t);
      // 1/2 a^T M a - e^T a, with M a = U^T (G U a)
      data += 0.5 * static_cast<double>(p.A.col(t).dot(p.M[t] * p.A.col(t))) -
              static_cast<double>(E.col(t).dot(p.A.col(t)));
    }
    p.value = data + static_cast<double>(constant_) +
              0.5 * static_cast<double>(alpha_) * static_cast<double>((p.A * K_).cwiseProduct(p.A).sum()) +
              0.5 * static_cast<double>(alpha_u_) * static_cast<double>(U.squaredNorm());
    return p;
  }

  /// grad f(U) = sum_t (G_t w_t - c_t) a_t^T + alpha_U U   (d, r)
  Matrix<Scalar> gradient(const SubspacePoint<Scalar>& p) const {
    Matrix<Scalar> g = p.residual_gradient * p.A.transpose();
    g.noalias() += alpha_u_ * p.U;
    return g;
  }

  /// The Hessian of f at p applied to V (d, r).
  Matrix<Scalar> hessian_product(const SubspacePoint<Scalar>& p, const Matrix<Scalar>& V) const {
    const Index T = n_tasks();
    const Matrix<Scalar> VA = V * p.A;  // (d, T): V a_t
    Matrix<Scalar> R = V.transpose() * p.residual_gradient;  // (r, T)
    for (Index t = 0; t < T; ++t) R.col(t).noalias() += task_block(p, t) * VA.col(t);
    const Matrix<Scalar> A_dot = solve_heads(p, -R, nullptr);
    Matrix<Scalar> moved = grams_.apply(VA);  // G_t V a_t
    for (Index t = 0; t < T; ++t) moved.col(t).noalias() += task_block(p, t).transpose() * A_dot.col(t);
    Matrix<Scalar> out = moved * p.A.transpose();
    out.noalias() += p.residual_gradient * A_dot.transpose();
    out.noalias() += alpha_u_ * V;
    return out;
  }

  /// argmin_U F(U, A) for the heads of p: the normal equations
  ///     sum_t G_t U a_t a_t^T + alpha_U U = C A^T,
  /// i.e. (sum_t (a_t a_t^T) (x) G_t + alpha_U I) vec(U) = vec(C A^T), solved
  /// by Cholesky when d r is at most kDenseComponents, otherwise by
  /// Jacobi-preconditioned CG from p.U.
  Matrix<Scalar> components_step(const SubspacePoint<Scalar>& p) const {
    static constexpr Index kDenseComponents = 1500;
    const Index d = n_features(), r = p.U.cols(), T = n_tasks();
    const Matrix<Scalar> rhs = C_ * p.A.transpose();
    if (d * r <= kDenseComponents) {
      // Block (k, l) of H is sum_t a_tk a_tl G_t: all the blocks k >= l from one product.
      const Index pairs = r * (r + 1) / 2;
      Matrix<Scalar> P(T, pairs);
      for (Index l = 0, j = 0; l < r; ++l)
        for (Index k = l; k < r; ++k, ++j) P.col(j) = p.A.row(k).transpose().cwiseProduct(p.A.row(l).transpose());
      const Matrix<Scalar> sums = grams_.weighted_sums(P);
      Matrix<Scalar> H(d * r, d * r);
      for (Index l = 0, j = 0; l < r; ++l)
        for (Index k = l; k < r; ++k, ++j) H.block(k * d, l * d, d, d) = sums.middleCols(j * d, d);
      H.diagonal().array() += alpha_u_;
      poll_interrupt(static_cast<double>(d * d) * static_cast<double>(T * pairs + d * r * r * r / 3));
      Eigen::LLT<Matrix<Scalar>> factor(H);  // reads the lower triangle
      if (factor.info() != Eigen::Success)
        throw NumericalError("the components system of SharedSubspaceRegressor is not positive definite: " +
                             std::string(overflow_advice()));
      const Vector<Scalar> u = factor.solve(Eigen::Map<const Vector<Scalar>>(rhs.data(), d * r));
      return Eigen::Map<const Matrix<Scalar>>(u.data(), d, r);
    }
    // Matrix-free: products V -> [G_t V a_t] A^T + alpha_U V; Jacobi preconditioner
    // diag = sum_t a_tk^2 diag(G_t) + alpha_U.
    Matrix<Scalar> diagonal = grams_.diagonals() * p.A.cwiseAbs2().transpose();
    diagonal.array() += alpha_u_;
    auto apply = [&](const Matrix<Scalar>& V) {
      Matrix<Scalar> out = grams_.apply(V * p.A) * p.A.transpose();
      out.noalias() += alpha_u_ * V;
      return out;
    };
    Matrix<Scalar> U = p.U;
    Matrix<Scalar> R = rhs - apply(U);
    const double rhs_norm = rhs.norm();
    if (rhs_norm == 0) return Matrix<Scalar>::Zero(d, r);
    Matrix<Scalar> Z = R.cwiseQuotient(diagonal), P = Z;
    Scalar rz = R.cwiseProduct(Z).sum();
    for (Index k = 0; k < 10 * d * r && R.norm() > 1e-12 * rhs_norm; ++k) {
      poll_interrupt();
      const Matrix<Scalar> HP = apply(P);
      const Scalar step = rz / P.cwiseProduct(HP).sum();
      U.noalias() += step * P;
      R.noalias() -= step * HP;
      Z = R.cwiseQuotient(diagonal);
      const Scalar rz_next = R.cwiseProduct(Z).sum();
      P = Z + (rz_next / rz) * P;
      rz = rz_next;
    }
    return U;
  }

 private:
  /// (G_t U)^T   (r, d)
  static auto task_block(const SubspacePoint<Scalar>& p, Index t) {
    const Index d = p.U.rows();
    return p.GU_t.middleCols(t * d, d);
  }

  /// Solves (M_t x_t + alpha (X K)_t) = B_t for every t with the factors of p:
  /// directly for a diagonal K, otherwise by conjugate gradient preconditioned by
  /// those blocks (M_t + alpha K_tt I)^-1, from `start` or zero.
  Matrix<Scalar> solve_heads(const SubspacePoint<Scalar>& p, const Matrix<Scalar>& B,
                             const Matrix<Scalar>* start) const {
    const Index T = n_tasks();
    Matrix<Scalar> X(B.rows(), T);
    auto precondition = [&](const Matrix<Scalar>& R) {
      Matrix<Scalar> Z(R.rows(), T);
      const Index r = R.rows();
      for (Index t = 0; t < T; ++t) Z.col(t).noalias() = p.block_inverses.middleCols(t * r, r) * R.col(t);
      return Z;
    };
    if (diagonal_coupling_) return precondition(B);
    auto apply = [&](const Matrix<Scalar>& Y) {
      Matrix<Scalar> out = alpha_ * (Y * K_);
      for (Index t = 0; t < T; ++t) out.col(t).noalias() += p.M[t] * Y.col(t);
      return out;
    };
    const double rhs_norm = B.norm();
    if (rhs_norm == 0) return Matrix<Scalar>::Zero(B.rows(), T);
    X = start ? *start : precondition(B);
    Matrix<Scalar> R = B - apply(X);
    Matrix<Scalar> Z = precondition(R), P = Z;
    Scalar rz = R.cwiseProduct(Z).sum();
    const Index max_iter = 10 * B.size();
    for (Index k = 0; k < max_iter && R.norm() > kHeadsTol * rhs_norm; ++k) {
      const Matrix<Scalar> HP = apply(P);
      const Scalar curvature = P.cwiseProduct(HP).sum();
      if (!(curvature > 0)) break;  // converged to round-off
      const Scalar step = rz / curvature;
      X.noalias() += step * P;
      R.noalias() -= step * HP;
      Z = precondition(R);
      const Scalar rz_next = R.cwiseProduct(Z).sum();
      P = Z + (rz_next / rz) * P;
      rz = rz_next;
    }
    return X;
  }

  const GramStack<Scalar>& grams_;
  Matrix<Scalar> C_;  // (d, T)
  Scalar constant_;   // sum_t q_t
  Matrix<Scalar> K_;
  Scalar alpha_, alpha_u_;
  bool diagonal_coupling_ = false;
};

}  // namespace multitask
