// Block-coordinate descent over feature rows with working sets ("feature_bcd": with a
// sparsity penalty) for the penalised kernel-coupled least-squares objective
//
//   F(W, b) = sum_t s_t/2 ||y_t - X_t w_t - b_t 1||^2 + alpha/2 tr(W K W^T) + Omega(W)
//
// (Omega: sparsity_penalty.hpp). Intercepts are eliminated by centring each
// task implicitly (X~ = X - 1 x_mean^T is never formed, so sparse X stays
// sparse); b_t = y_mean - <x_mean, w_t> at the end.
//
// Outer iteration (one pass of the data for X~^T r, one for X w):
//   1. the smooth gradient G = -[s_t X~_t^T r_t]_t + alpha W K (d, T) and the
//      duality gap below; stop when gap <= tol * P(0);
//   2. gap-safe screening when alpha = 0 (Ndiaye et al. 2017): rows whose
//      optimum is provably zero leave the problem;
//   3. the working set: every non-zero row plus the rows violating their
//      optimality condition most (row_kkt_violation), at least twice as many
//      rows as are non-zero (Massias et al. 2018, celer), growing by doubling;
//   4. the problem restricted to the working set, exactly (rows outside it are
//      zero): the centred Gram of the working-set columns per task (one shared
//      Gram for a shared design) and cyclic row updates, each a prox step on
//      the row's diagonal quadratic majoriser, task t's curvature
//      s_t ||x~_tj||^2 + c_t (c_t = alpha K_tt for a diagonal K, else
//      alpha lambda_max(K)), until every row's violation is below a fraction of
//      the outer one; every 20 sweeps Anderson extrapolation and an
//      orthant-wise Newton step on the non-zero rows (preconditioned conjugate
//      gradients), each kept when it lowers the objective. Per-task steps and
//      the Newton step are what make ill-conditioned tasks converge (singular
//      centred Grams, tasks of very different sizes: School with a small alpha
//      took thousands of sweeps without them; tests/test_feature_bcd_convergence.py).
//
// Duality gap (Fenchel dual of sum_t phi_t(X~_t w_t) + psi(W) + Omega(W), with
// phi_t(z) = s_t/2 ||y~_t - z||^2 and psi(W) = alpha/2 tr(W K W^T)): the dual
// point theta_t = s_t r_t / c, Xi = -alpha W K / c, with c = max(1, max_j
// Omega*(-row_j(G))) making it feasible, gives
//   D = sum_t (s_t <r_t, y~_t> / c - s_t ||r_t||^2 / (2 c^2)) - alpha tr(W K W^T) / (2 c^2),
// and gap = P(W) - D >= 0, zero at the optimum.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include <multitask/common/interrupt.hpp>
#include <multitask/common/parallel.hpp>
#include <multitask/data/task_blocks.hpp>
#include <multitask/objectives/coupling_term.hpp>
#include <multitask/objectives/sparsity_penalty.hpp>
#include <multitask/solvers/solver_result.hpp>

namespace multitask {

namespace feature_bcd_detail {

constexpr Index kInitialWorkingSet = 10;
constexpr double kInnerFraction = 0.1;  // inner tolerance: this fraction of the outer violation

/// c (T) with diag(c) - alpha K positive semidefinite: alpha K_tt for a diagonal K (exact), else
/// alpha lambda_max(K) for every task.
template <typename Scalar>
Vector<double> coupling_majoriser_diagonal(const CouplingTerm<Scalar>& coupling) {
  const Matrix<Scalar>& K = coupling.matrix();
  const Index T = K.rows();
  const double alpha = static_cast<double>(coupling.alpha());
  if (alpha == 0) return Vector<double>::Zero(T);
  const bool diagonal = (K - Matrix<Scalar>(K.diagonal().asDiagonal())).isZero(0);
  if (diagonal) return alpha * K.diagonal().template cast<double>();
  return Vector<double>::Constant(T, coupling.curvature_bound());
}

/// alpha K delta for a row change delta (T): O(T) when K = diag(a) + c 11^T (the identity,
/// mean-regularised and every diagonal coupling; checked exactly), O(T^2) otherwise. The
/// cyclic row updates need it once per row update, where the data part costs O(m T).
template <typename Scalar>
class CouplingRowChange {
 public:
  explicit CouplingRowChange(const CouplingTerm<Scalar>& coupling) : coupling_(coupling) {
    const Matrix<Scalar>& K = coupling.matrix();
    const Index T = K.rows();
    off_diagonal_ = T > 1 ? K(1, 0) : Scalar(0);
    structured_ = true;
    for (Index s = 0; s < T && structured_; ++s)
      for (Index t = 0; t < T; ++t)
        if (s != t && K(t, s) != off_diagonal_) {
          structured_ = false;
          break;
        }
    if (structured_) diagonal_ = K.diagonal().array() - off_diagonal_;
  }

  /// out += alpha D K for D (m, T).
  void add_apply(const Matrix<Scalar>& D, Matrix<Scalar>& out) const {
    const Scalar alpha = coupling_.alpha();
    if (alpha == 0) return;
    if (!structured_) {
      coupling_.add_apply(D, out);
      return;
    }
    out.noalias() += alpha * D * diagonal_.asDiagonal();
    if (off_diagonal_ != 0) out.colwise() += (alpha * off_diagonal_) * D.rowwise().sum();
  }

  template <typename Row>
  Vector<Scalar> operator()(const Row& delta) const {
    if (!structured_) return coupling_.row_change(delta);
    const Scalar alpha = coupling_.alpha();
    Vector<Scalar> out = alpha * diagonal_.cwiseProduct(delta);
    if (off_diagonal_ != 0) out.array() += alpha * off_diagonal_ * delta.sum();
    return out;
  }

 private:
  const CouplingTerm<Scalar>& coupling_;
  bool structured_ = false;
  Scalar off_diagonal_ = 0;
  Vector<Scalar> diagonal_;  // K_tt - c
};

/// Residuals and the smooth gradient at W, and what the gap needs.
template <typename Scalar>
struct OuterState {
  Matrix<Scalar> gradient;            // (d, T) G
  std::vector<double> residual_norm2; // (T) ||r_t||^2
  std::vector<double> residual_dot_y; // (T) <r_t, y~_t>
};

/// Columns `rows` of task t's centred design, as a dense (n_t, m) column-major matrix.
template <typename Scalar>
Matrix<Scalar> gather_columns(const DenseDesign<Scalar>& X, const std::vector<Index>& rows) {
  Matrix<Scalar> out(X.rows(), static_cast<Index>(rows.size()));
  for (Index k = 0; k < out.cols(); ++k) out.col(k) = X.col(rows[k]);
  return out;
}
template <typename Scalar>
Matrix<Scalar> gather_columns(const SparseDesign<Scalar>& X, const std::vector<Index>& rows) {
  std::vector<Index> position(X.cols(), -1);
  for (Index k = 0; k < static_cast<Index>(rows.size()); ++k) position[rows[k]] = k;
  Matrix<Scalar> out = Matrix<Scalar>::Zero(X.rows(), static_cast<Index>(rows.size()));
  for (Index i = 0; i < X.outerSize(); ++i)
    for (typename SparseDesign<Scalar>::InnerIterator it(X, i); it; ++it)
      if (position[it.col()] >= 0) out(i, position[it.col()]) = it.value();
  return out;
}

/// The centred Gram X~_ws^T X~_ws (m, m) of the working-set columns: entries
/// between columns of the previous Gram copied from it (previous_position: a
/// column's index there, or -1), the rest (rows/columns `new_columns`, positions
/// in working_set) computed: O(n m k) for k new columns instead of O(n m^2).
template <typename Scalar, typename Design>
Matrix<Scalar> updated_gram(const Design& X, const Vector<Scalar>& x_mean, const std::vector<Index>& working_set,
                            const std::vector<Index>& new_columns, const std::vector<Index>& previous_position,
                            const Matrix<Scalar>& previous) {
  const Index m = static_cast<Index>(working_set.size()), k = static_cast<Index>(new_columns.size());
  Matrix<Scalar> gram(m, m);
  for (Index b = 0; b < m; ++b)
    for (Index a = 0; a < m; ++a) {
      const Index pa = previous_position[working_set[a]], pb = previous_position[working_set[b]];
      if (pa >= 0 && pb >= 0) gram(a, b) = previous(pa, pb);
    }
  if (k == 0) return gram;
  std::vector<Index> fresh(k);
  for (Index i = 0; i < k; ++i) fresh[i] = working_set[new_columns[i]];
  const Matrix<Scalar> all_columns = gather_columns(X, working_set);
  const Matrix<Scalar> fresh_columns = gather_columns(X, fresh);
  Vector<Scalar> means(m);
  for (Index a = 0; a < m; ++a) means[a] = x_mean[working_set[a]];
  Matrix<Scalar> cross = all_columns.transpose() * fresh_columns;  // (m, k)
  const Scalar n = Scalar(X.rows());
  for (Index i = 0; i < k; ++i) {
    cross.col(i) -= n * means[new_columns[i]] * means;
    gram.col(new_columns[i]) = cross.col(i);
    gram.row(new_columns[i]) = cross.col(i).transpose();
  }
  return gram;
}

template <typename Scalar>
bool same_matrix(const DenseDesign<Scalar>& a, const DenseDesign<Scalar>& b) {
  return a.data() == b.data() && a.rows() == b.rows() && a.cols() == b.cols();
}
template <typename Scalar>
bool same_matrix(const SparseDesign<Scalar>& a, const SparseDesign<Scalar>& b) {
  return a.valuePtr() == b.valuePtr() && a.outerIndexPtr() == b.outerIndexPtr() && a.rows() == b.rows();
}

/// The problem restricted to the working-set rows (the others fixed at zero):
/// over V (m, T), f(V) = f(V0) + <g0, V - V0> + 1/2 <V - V0, H (V - V0)> + Omega(V),
/// H D = [s_t G_t D_t]_t + alpha D K with G_t the centred working-set Grams
/// (a single one for a shared design). Solved by cyclic prox steps on the rows
/// with Anderson extrapolation every kAndersonMemory sweeps (kept only when it
/// lowers f; Bertrand & Massias 2021), the gradient G = g0 + H (V - V0) kept
/// up to date.
template <typename Scalar>
struct WorkingSetProblem {
  const std::vector<Matrix<Scalar>>& grams;  // 1 or T of (m, m), unweighted
  const Vector<Scalar>& weight;              // (T) s_t
  const CouplingTerm<Scalar>& coupling;      // alpha/2 tr(V K V^T)
  const RowSparsePenalty& penalty;
  const Matrix<Scalar> start;     // (m, T) V0
  const Matrix<Scalar> gradient0; // (m, T) g0
  const CouplingRowChange<Scalar>& row_change;

  static constexpr int kAndersonMemory = 20;
  static constexpr int kNewtonSteps = 10;          // Newton steps in a row at most, every kAndersonMemory sweeps
  static constexpr int kNewtonIterations = 50;     // conjugate-gradient iterations per Newton step
  static constexpr double kNewtonTolerance = 1e-3; // their relative residual

  const Matrix<Scalar>& gram(Index t) const { return grams[grams.size() == 1 ? 0 : t]; }

  /// H D for D (m, T).
  Matrix<Scalar> hessian_product(const Matrix<Scalar>& D) const {
    Matrix<Scalar> out(D.rows(), D.cols());
    if (grams.size() == 1) {
      out.noalias() = grams[0] * (D * weight.asDiagonal());
    } else {
      for (Index t = 0; t < D.cols(); ++t) out.col(t).noalias() = weight[t] * (grams[t] * D.col(t));
    }
    row_change.add_apply(D, out);
    return out;
  }

  /// f(V) - f(V0) from the gradient G at V: <g0, D> + 1/2 <D, G - g0> = 1/2 <D, G + g0>, plus Omega(V).
  double objective(const Matrix<Scalar>& V, const Matrix<Scalar>& G) const {
    return 0.5 * static_cast<double>((V - start).cwiseProduct(G + gradient0).sum()) + penalty.value(V);
  }

  /// Sweeps until a sweep sees every row's violation <= tol, or max_sweeps; returns the sweeps done.
  /// coupling_diagonal (T): c_t with diag(c) >= alpha K, the coupling's share of a row's majoriser.
  int solve(double tol, int max_sweeps, const Vector<double>& coupling_diagonal, Matrix<Scalar>& V,
            Matrix<Scalar>& G) const {
    const Index m = V.rows(), T = V.cols();
    // Row k's Hessian is diag_t(s_t G_t[k, k]) + alpha K; its diagonal majoriser
    // L_kt = s_t G_t[k, k] + c_t gives every task its own step 1 / L_kt (tasks
    // with few samples have small curvature: one step for all, 1 / max_t L_kt,
    // would move them that much more slowly). Equal steps (a shared design with
    // equal weights and a scalar majoriser) use the closed-form prox.
    Matrix<Scalar> step(m, T);
    std::vector<char> equal_steps(m, 1);
    for (Index k = 0; k < m; ++k) {
      for (Index t = 0; t < T; ++t) {
        const double curvature = static_cast<double>(weight[t] * gram(t)(k, k)) + coupling_diagonal[t];
        step(k, t) = curvature > 0 ? static_cast<Scalar>(1 / curvature) : Scalar(0);
      }
      equal_steps[k] = step.row(k).maxCoeff() == step.row(k).minCoeff();
    }
    std::vector<Matrix<Scalar>> history{V};
    Vector<Scalar> row(T), delta(T);
    int sweeps = 0;
    while (sweeps < max_sweeps) {
      poll_interrupt(static_cast<double>(m) * static_cast<double>(m) * static_cast<double>(T));  // a sweep
      double sweep_violation = 0;
      for (Index k = 0; k < m; ++k) {
        sweep_violation = std::max(sweep_violation, penalty.row_kkt_violation(G.row(k), V.row(k)));
        if (step(k, 0) == 0 && equal_steps[k]) continue;  // no curvature: the row stays (at zero)
        row = V.row(k).transpose() - step.row(k).transpose().cwiseProduct(G.row(k).transpose());
        if (equal_steps[k]) {
          penalty.prox_row(static_cast<double>(step(k, 0)), row);
        } else {
          penalty.prox_row_scaled(step.row(k), row);
        }
        delta = row - V.row(k).transpose();
        if (delta.squaredNorm() == 0) continue;
        V.row(k) = row.transpose();
        // Data part: column k of each task's Gram times s_t delta_t; coupling part: row k only.
        if (grams.size() == 1) {
          G.noalias() += grams[0].col(k) * (weight.cwiseProduct(delta)).transpose();
        } else {
          for (Index t = 0; t < T; ++t) G.col(t) += (weight[t] * delta[t]) * grams[t].col(k);
        }
        if (coupling.alpha() != 0) G.row(k) += row_change(delta).transpose();
      }
      ++sweeps;
      check_finite(sweep_violation, "bcd", "the optimality violation", sweeps);
      if (sweep_violation <= tol) break;
      history.push_back(V);
      if (static_cast<int>(history.size()) == kAndersonMemory + 1) {
        extrapolate(history, V, G);
        // Newton steps while they are kept: with rho_1 > 0 each may change the support by a few
        // entries only (the step to the first entry reaching zero), so several in a row.
        for (int step = 0; step < kNewtonSteps && newton_step(V, G); ++step) {
        }
        history.assign(1, V);
      }
    }
    return sweeps;
  }

  /// An orthant-wise Newton step (the free set held fixed), where Omega is smooth: the
  /// minimiser D of the second-order model of f + Omega over the free entries,
  ///   (H + P) D = -(G + Z),  Z_k = rho_21 V_k / ||V_k|| + rho_1 sigma_k,
  ///   P D_k = rho_21 / ||V_k|| (D_k - v_k <v_k, D_k>)  (v_k = V_k / ||V_k||: the l21 norm's Hessian),
  /// with the free entries those of the non-zero rows that are non-zero (sigma = their sign) or
  /// zero with |G_kt| > rho_1 (they would leave zero with sigma = -sign(G_kt)). Solved by
  /// conjugate gradients preconditioned with every task's block s_t G_t + alpha K_tt I +
  /// diag_k(rho_21 / ||V_k||) on its free entries (exact for the data term, where tasks with
  /// fewer samples than features, or collinear columns, make the problem ill-conditioned:
  /// cyclic row updates then need sweeps of the order of the condition number, Newton a few
  /// steps). V + s D, s the first step size below that lowers f + Omega, with entries that
  /// left their orthant set to zero, replaces V. Rows that are zero stay so (their l21 term has no
  /// Hessian); the cyclic updates move them.
  /// Returns whether V moved.
  bool newton_step(Matrix<Scalar>& V, Matrix<Scalar>& G) const {
    const Index m = V.rows(), T = V.cols();
    const Vector<Scalar> row_norm = V.rowwise().norm();
    Matrix<Scalar> sigma = Matrix<Scalar>::Zero(m, T);  // the orthant; 0 off the free set
    for (Index k = 0; k < m; ++k) {
      if (row_norm[k] == 0) continue;
      for (Index t = 0; t < T; ++t) {
        if (penalty.l1 == 0) {
          sigma(k, t) = 1;  // no kink inside a non-zero row: every entry is free, no orthant
        } else if (V(k, t) != 0) {
          sigma(k, t) = V(k, t) > 0 ? Scalar(1) : Scalar(-1);
        } else if (std::abs(static_cast<double>(G(k, t))) > penalty.l1) {
          sigma(k, t) = G(k, t) > 0 ? Scalar(-1) : Scalar(1);
        }
      }
    }
    const Matrix<Scalar> mask = sigma.cwiseAbs();
    if (mask.isZero(0)) return false;
    Vector<Scalar> curvature = Vector<Scalar>::Zero(m);  // rho_21 / ||V_k|| on the non-zero rows
    Matrix<Scalar> Z = Matrix<Scalar>::Zero(m, T);
    for (Index k = 0; k < m; ++k) {
      if (row_norm[k] == 0) continue;
      curvature[k] = static_cast<Scalar>(penalty.l21) / row_norm[k];
      Z.row(k) = curvature[k] * V.row(k) + static_cast<Scalar>(penalty.l1) * sigma.row(k);
    }
    auto apply = [&](const Matrix<Scalar>& D) {
      Matrix<Scalar> out = hessian_product(D);
      for (Index k = 0; k < m; ++k) {
        if (curvature[k] == 0) continue;
        const Scalar along = V.row(k).dot(D.row(k)) / (row_norm[k] * row_norm[k]);
        out.row(k) += curvature[k] * (D.row(k) - along * V.row(k));
      }
      return Matrix<Scalar>(out.cwiseProduct(mask));
    };
    // The preconditioner: a Cholesky factor per task of its block on its support (tasks with
    // the same Gram, support and diagonal share one).
    std::vector<std::vector<Index>> support(T);
    std::vector<Eigen::LLT<Matrix<Scalar>>> factors(T);
    std::vector<Index> factor_of(T);
    const Matrix<Scalar>& K = coupling.matrix();
    for (Index t = 0; t < T; ++t) {
      for (Index k = 0; k < m; ++k)
        if (mask(k, t) != 0) support[t].push_back(k);
      if (t > 0 && grams.size() == 1 && support[t] == support[t - 1] && K(t, t) == K(t - 1, t - 1) &&
          weight[t] == weight[t - 1]) {
        factor_of[t] = factor_of[t - 1];
        continue;
      }
      factor_of[t] = t;
      const Index size = static_cast<Index>(support[t].size());
      if (size == 0) continue;
      Matrix<Scalar> block(size, size);
      for (Index b = 0; b < size; ++b)
        for (Index a = 0; a < size; ++a) block(a, b) = weight[t] * gram(t)(support[t][a], support[t][b]);
      for (Index a = 0; a < size; ++a) block(a, a) += coupling.alpha() * K(t, t) + curvature[support[t][a]];
      factors[t].compute(block);
      if (factors[t].info() != Eigen::Success) return false;
    }
    auto precondition = [&](const Matrix<Scalar>& R) {
      Matrix<Scalar> out = Matrix<Scalar>::Zero(m, T);
      for (Index t = 0; t < T; ++t) {
        const Index size = static_cast<Index>(support[t].size());
        if (size == 0) continue;
        Vector<Scalar> r(size);
        for (Index a = 0; a < size; ++a) r[a] = R(support[t][a], t);
        r = factors[factor_of[t]].solve(r);
        for (Index a = 0; a < size; ++a) out(support[t][a], t) = r[a];
      }
      return out;
    };
    Matrix<Scalar> D = Matrix<Scalar>::Zero(m, T);
    Matrix<Scalar> R = -(G + Z).cwiseProduct(mask);
    Matrix<Scalar> Y = precondition(R), P = Y;
    Scalar ry = R.cwiseProduct(Y).sum();
    const Scalar initial = R.norm();
    for (int iteration = 0; iteration < kNewtonIterations && R.norm() > kNewtonTolerance * initial; ++iteration) {
      poll_interrupt(2.0 * static_cast<double>(m) * static_cast<double>(m) * static_cast<double>(T));
      const Matrix<Scalar> AP = apply(P);
      const Scalar curvature_along = P.cwiseProduct(AP).sum();
      if (!(curvature_along > 0)) break;
      const Scalar step = ry / curvature_along;
      D += step * P;
      R -= step * AP;
      Y = precondition(R);
      const Scalar ry_next = R.cwiseProduct(Y).sum();
      P = Y + (ry_next / ry) * P;
      ry = ry_next;
    }
    if (!D.allFinite() || D.isZero(0)) return false;
    // Step sizes tried, the first that lowers f + Omega kept: the full step; with rho_1 > 0 the
    // step to the first non-zero entry that reaches zero (within the orthant f + Omega is smooth
    // and, without l21, quadratic with its minimum at 1, so it decreases up to there; that entry
    // is set to zero exactly, leaving the support); then halvings. Entries that leave their
    // orthant are set to zero.
    std::vector<Scalar> scales{Scalar(1)};
    if (penalty.l1 > 0) {
      Scalar first_zero = 1;
      for (Index t = 0; t < T; ++t)
        for (Index k = 0; k < m; ++k)
          if (V(k, t) != 0 && V(k, t) * D(k, t) < 0) first_zero = std::min(first_zero, -V(k, t) / D(k, t));
      if (first_zero < 1) scales.push_back(first_zero);
    }
    for (Scalar scale = Scalar(0.5); scale >= Scalar(1.0 / 64); scale /= 2) scales.push_back(scale);
    const double current = objective(V, G);
    for (const Scalar scale : scales) {
      Matrix<Scalar> candidate = V + scale * D;
      if (penalty.l1 > 0) {
        // the orthant; entries within round-off of zero at the ratio step are zero
        const Matrix<Scalar> tiny = (V.cwiseAbs() * Scalar(64) * std::numeric_limits<Scalar>::epsilon()).eval();
        candidate = (candidate.array() * sigma.array() > tiny.array()).select(candidate, Scalar(0));
      }
      Matrix<Scalar> candidate_gradient = gradient0 + hessian_product(candidate - start);
      if (objective(candidate, candidate_gradient) < current) {
        V.swap(candidate);
        G.swap(candidate_gradient);
        return true;
      }
    }
    return false;
  }

  /// Anderson extrapolation of the last iterates: the affine combination sum_i c_i V_{i+1}
  /// (sum c = 1) minimising ||sum_i c_i (V_{i+1} - V_i)||; replaces V, G when it lowers f.
  void extrapolate(const std::vector<Matrix<Scalar>>& history, Matrix<Scalar>& V, Matrix<Scalar>& G) const {
    const int M = static_cast<int>(history.size()) - 1;
    Matrix<double> U(V.size(), M);
    for (int i = 0; i < M; ++i)
      U.col(i) = Eigen::Map<const Vector<Scalar>>((history[i + 1] - history[i]).eval().data(), V.size()).template cast<double>();
    Matrix<double> C = U.transpose() * U;
    C.diagonal().array() += 1e-12 * C.trace() / M + std::numeric_limits<double>::min();
    const Vector<double> z = C.ldlt().solve(Vector<double>::Ones(M));
    if (!z.allFinite() || z.sum() == 0) return;
    const Vector<double> c = z / z.sum();
    Matrix<Scalar> candidate = Matrix<Scalar>::Zero(V.rows(), V.cols());
    for (int i = 0; i < M; ++i) candidate += static_cast<Scalar>(c[i]) * history[i + 1];
    Matrix<Scalar> candidate_gradient = gradient0 + hessian_product(candidate - start);
    if (objective(candidate, candidate_gradient) < objective(V, G)) {
      V.swap(candidate);
      G.swap(candidate_gradient);
    }
  }
};

}  // namespace feature_bcd_detail

/// Minimises F over W (d, T), updated in place; returns b in result.intercept.
/// The stopping rule is the relative duality gap gap / P(0) <= tol;
/// result.residual is the relative KKT residual ||dist(-G, d Omega(W))|| / ||G(0)||.
template <typename Scalar, typename Design>
void feature_bcd(const TaskBlocks<Scalar, Design>& data, const CouplingTerm<Scalar>& coupling,
                 const RowSparsePenalty& penalty, const SolverOptions& options, Matrix<Scalar>& W,
             SolverResult<Scalar>& result) {
  using namespace feature_bcd_detail;
  const Scalar alpha = coupling.alpha();
  const Index d = data.n_features(), T = data.n_tasks();
  const int n_threads = threads_for_work(4 * data.total_entries(), options.n_threads);
  require(penalty.active(), "the feature solver needs an l1 or l21 penalty");

  // A shared design (every task's X the same matrix, the multi-output form) is
  // read once for all tasks.
  const bool shared_design = [&] {
    for (Index t = 1; t < T; ++t)
      if (!same_matrix(data.X[t], data.X[0])) return false;
    return true;
  }();
  const Index n_designs = shared_design ? 1 : T;  // distinct designs: X_0 stands for all when shared
  auto design_of = [&](Index t) { return shared_design ? Index(0) : t; };

  // Centring: x_mean_t (d), y_mean_t and y~_t.
  Matrix<Scalar> x_mean = Matrix<Scalar>::Zero(d, T);
  if (data.fit_intercept) {
    parallel_for(n_designs, n_threads, [&](Index t) {
      x_mean.col(t) = column_means<Scalar>(data.X[t]);
    });
    for (Index t = 1; t < T; ++t) x_mean.col(t) = x_mean.col(design_of(t));
  }
  std::vector<Vector<Scalar>> y_centred(T);
  Vector<Scalar> y_mean = Vector<Scalar>::Zero(T);
  double primal_at_zero = 0;  // P(0)
  for (Index t = 0; t < T; ++t) {
    y_centred[t] = data.y[t];
    if (data.fit_intercept) {
      y_mean[t] = y_centred[t].mean();
      y_centred[t].array() -= y_mean[t];
    }
    primal_at_zero += 0.5 * data.sample_weight[t] * y_centred[t].squaredNorm();
  }
  double passes = 1.0 * n_designs / T;

  // Outer quantities at W: r_t = y~_t - X~_t w_t, G.
  OuterState<Scalar> state{Matrix<Scalar>(d, T), std::vector<double>(T), std::vector<double>(T)};
  // For a shared design, X W and X^T R are matrix products over column blocks
  // of tasks, one block per thread.
  const Index block_width = shared_design ? (T + options.n_threads - 1) / options.n_threads : 1;
  const Index n_blocks = (T + block_width - 1) / block_width;
  auto evaluate = [&](const Matrix<Scalar>& W) {
    parallel_for(n_blocks, shared_design ? options.n_threads : n_threads, [&](Index block) {
      const Index first = block * block_width, width = std::min(block_width, T - first);
      const auto& X = data.X[first];
      Matrix<Scalar> R = -(X * W.middleCols(first, width));
      for (Index k = 0; k < width; ++k) {
        const Index t = first + k;
        R.col(k) += y_centred[t];
        R.col(k).array() += x_mean.col(t).dot(W.col(t));
        state.residual_norm2[t] = static_cast<double>(R.col(k).squaredNorm());
        state.residual_dot_y[t] = static_cast<double>(R.col(k).dot(y_centred[t]));
      }
      // X~^T r = X^T r - x_mean (1^T r), and 1^T r = 0 when centring.
      state.gradient.middleCols(first, width).noalias() = -(X.transpose() * R);
      for (Index k = 0; k < width; ++k) state.gradient.col(first + k) *= data.sample_weight[first + k];
    });
    coupling.add_apply(W, state.gradient);
    passes += 2;
  };

  // diag(c) >= alpha K for the rows' majorisers: alpha K_tt when K is diagonal, else alpha lambda_max(K).
  const Vector<double> coupling_diagonal = coupling_majoriser_diagonal(coupling);
  const CouplingRowChange<Scalar> coupling_row_change(coupling);

  // Column norms of the centred designs, for screening (alpha = 0 only).
  const bool screening = alpha == 0;
  Vector<double> column_bound = Vector<double>::Zero(d);  // max_t ||x~_tj||
  double max_weight = 0;
  if (screening) {
    for (Index t = 0; t < n_designs; ++t) {
      Vector<Scalar> squares;
      weighted_column_squares<Scalar>(data.X[t], Vector<Scalar>::Ones(data.n_samples(t)), squares);
      const Scalar n = Scalar(data.n_samples(t));
      for (Index j = 0; j < d; ++j)
        column_bound[j] = std::max(column_bound[j],
                                   std::sqrt(std::max(0.0, static_cast<double>(squares[j] - n * x_mean(j, t) * x_mean(j, t)))));
    }
    max_weight = static_cast<double>(data.sample_weight.maxCoeff());
    passes += 1.0 * n_designs / T;
  }
  std::vector<char> screened(d, 0);

  std::vector<Index> working_set, gram_columns;  // gram_columns: the columns of `grams`
  Index working_size = kInitialWorkingSet;
  std::vector<Matrix<Scalar>> grams(n_designs);

  // ||G(0)||, the scale of the reported KKT residual.
  double gradient_scale = 0;
  if (!W.isZero(0)) {
    evaluate(Matrix<Scalar>::Zero(d, T));
    gradient_scale = static_cast<double>(state.gradient.norm());
  }
  while (true) {
    poll_interrupt();
    evaluate(W);
    if (gradient_scale == 0 && result.objective_history.empty()) gradient_scale = static_cast<double>(state.gradient.norm());
    // Primal, dual, gap.
    const Matrix<Scalar> WK = coupling.times_coupling(W);
    const double coupling_term = static_cast<double>(coupling.quadratic_form(W, WK));
    double data_term = 0, dual_linear = 0, dual_quadratic = 0;
    for (Index t = 0; t < T; ++t) {
      const double s = data.sample_weight[t];
      data_term += 0.5 * s * state.residual_norm2[t];
      dual_linear += s * state.residual_dot_y[t];
      dual_quadratic += s * state.residual_norm2[t];
    }
    const double primal = data_term + alpha / 2 * coupling_term + penalty.value(W);
    double dual_scale = 1;
    std::vector<double> violation(d);
    double violation_squared = 0, max_violation = 0;
    for (Index j = 0; j < d; ++j) {
      dual_scale = std::max(dual_scale, penalty.row_dual_norm(state.gradient.row(j)));
      violation[j] = penalty.row_kkt_violation(state.gradient.row(j), W.row(j));
      violation_squared += violation[j] * violation[j];
      max_violation = std::max(max_violation, violation[j]);
    }
    const double dual = dual_linear / dual_scale - (dual_quadratic + alpha * coupling_term) / (2 * dual_scale * dual_scale);
    check_finite(primal, "bcd", "the objective", result.n_iter);
    check_finite(dual, "bcd", "the dual objective", result.n_iter);
    const double gap = std::max(0.0, primal - dual);
    result.objective_history.push_back(primal);
    result.dual_gap = gap;
    result.dual_gap_scale = primal_at_zero;
    result.residual = gradient_scale > 0 ? std::sqrt(violation_squared) / gradient_scale : 0.0;
    const double relative_gap = primal_at_zero > 0 ? gap / primal_at_zero : 0.0;
    if (relative_gap <= options.tol) {
      result.converged = true;
      break;
    }
    if (result.n_iter >= options.max_iter) break;

    // Gap-safe screening: ||theta* - theta|| <= sqrt(2 gap max_t s_t) (D is 1/max_t s_t strongly concave).
    if (screening) {
      const double radius = std::sqrt(2 * gap * max_weight);
      for (Index j = 0; j < d; ++j) {
        if (screened[j]) continue;
        const auto v = (-state.gradient.row(j) / static_cast<Scalar>(dual_scale)).eval();
        const double slack = column_bound[j] * radius;
        const bool zero_at_optimum =
            penalty.l21 > 0 ? soft_thresholded_norm(v, penalty.l1) + slack < penalty.l21
                            : static_cast<double>(v.cwiseAbs().maxCoeff()) + slack < penalty.l1;
        if (zero_at_optimum) {
          screened[j] = 1;
          W.row(j).setZero();
          violation[j] = 0;
        }
      }
    }

    // Working set: non-zero rows, then the worst violators.
    Index nonzero = 0;
    for (Index j = 0; j < d; ++j) nonzero += !screened[j] && W.row(j).squaredNorm() > 0;
    working_size = std::min<Index>(d, std::max({working_size, 2 * nonzero, kInitialWorkingSet}));
    std::vector<Index> order(d);
    std::iota(order.begin(), order.end(), 0);
    auto priority = [&](Index j) {  // non-zero rows first, then by violation
      if (screened[j]) return -1.0;
      return W.row(j).squaredNorm() > 0 ? std::numeric_limits<double>::infinity() : violation[j];
    };
    std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) { return priority(a) > priority(b); });
    working_set.clear();
    for (Index k = 0; k < d && static_cast<Index>(working_set.size()) < working_size; ++k) {
      const Index j = order[k];
      if (priority(j) > 0) working_set.push_back(j);
    }
    std::sort(working_set.begin(), working_set.end());
    const Index m = static_cast<Index>(working_set.size());
    if (m == 0) {  // no row violates its condition: optimal up to the gap's round-off
      result.converged = true;
      break;
    }

    // Centred working-set Grams X~_ws^T X~_ws (m, m), one for a shared design;
    // entries between columns of the previous working set are kept.
    std::vector<Index> previous_position(d, -1);
    for (Index k = 0; k < static_cast<Index>(gram_columns.size()); ++k) previous_position[gram_columns[k]] = k;
    std::vector<Index> new_columns;  // positions in working_set of columns not in the previous Grams
    for (Index k = 0; k < m; ++k)
      if (previous_position[working_set[k]] < 0) new_columns.push_back(k);
    if (!new_columns.empty() || static_cast<Index>(gram_columns.size()) != m) {
      parallel_for(n_designs, n_threads, [&](Index t) {
        grams[t] = updated_gram<Scalar>(data.X[t], Vector<Scalar>(x_mean.col(t)), working_set, new_columns, previous_position, grams[t]);
      });
      passes += static_cast<double>(n_designs) / T;
      gram_columns = working_set;
    }

    // Restricted problem: rows in the working set move; gradient kept exact.
    Matrix<Scalar> Wws(m, T), Gws(m, T);
    for (Index k = 0; k < m; ++k) {
      Wws.row(k) = W.row(working_set[k]);
      Gws.row(k) = state.gradient.row(working_set[k]);
    }
    WorkingSetProblem<Scalar> problem{grams, data.sample_weight, coupling, penalty, Wws, Gws, coupling_row_change};
    result.n_iter += problem.solve(kInnerFraction * max_violation, options.max_iter - result.n_iter, coupling_diagonal, Wws, Gws);
    for (Index k = 0; k < m; ++k) W.row(working_set[k]) = Wws.row(k);
  }
  result.intercept.resize(T);
  for (Index t = 0; t < T; ++t) result.intercept[t] = y_mean[t] - x_mean.col(t).dot(W.col(t));
  result.screened = std::move(screened);
  result.data_passes = std::lround(passes);
}

}  // namespace multitask
