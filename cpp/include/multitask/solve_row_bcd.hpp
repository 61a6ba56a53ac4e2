// Block-coordinate descent over feature rows with working sets ("bcd" with a
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
//      the row's quadratic majoriser with curvature max_t s_t ||x~_tj||^2 +
//      alpha lambda_max(K), until every row's violation is below a fraction of
//      the outer one.
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
#include <numeric>
#include <vector>

#include "classification_data.hpp"
#include "parallel.hpp"
#include "solver_result.hpp"
#include "sparsity_penalty.hpp"

namespace multitask {

namespace row_bcd_detail {

constexpr Index kInitialWorkingSet = 10;
constexpr double kInnerFraction = 0.3;  // inner tolerance: this fraction of the outer violation

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

template <typename Scalar>
bool same_matrix(const DenseDesign<Scalar>& a, const DenseDesign<Scalar>& b) {
  return a.data() == b.data() && a.rows() == b.rows() && a.cols() == b.cols();
}
template <typename Scalar>
bool same_matrix(const SparseDesign<Scalar>& a, const SparseDesign<Scalar>& b) {
  return a.valuePtr() == b.valuePtr() && a.outerIndexPtr() == b.outerIndexPtr() && a.rows() == b.rows();
}

}  // namespace row_bcd_detail

/// Minimises F over W (d, T), updated in place; returns b in result.intercept.
/// The stopping rule is the relative duality gap gap / P(0) <= tol;
/// result.residual is the relative KKT residual ||dist(-G, d Omega(W))|| / ||G(0)||.
template <typename Scalar, typename Design>
void row_bcd(const ClassificationData<Scalar, Design>& data, const Matrix<Scalar>& coupling, Scalar alpha,
             const SparsityPenalty& penalty, const SolverOptions& options, Matrix<Scalar>& W,
             SolverResult<Scalar>& result) {
  using namespace row_bcd_detail;
  const Index d = data.n_features(), T = data.n_tasks();
  const int n_threads = threads_for_work(4 * data.total_entries(), options.n_threads);
  require(penalty.active(), "the row solver needs an l1 or l21 penalty");

  // Centring: x_mean_t (d), y_mean_t and y~_t.
  Matrix<Scalar> x_mean = Matrix<Scalar>::Zero(d, T);
  std::vector<Vector<Scalar>> y_centred(T);
  Vector<Scalar> y_mean = Vector<Scalar>::Zero(T);
  parallel_for(T, n_threads, [&](Index t) {
    const Index n = data.n_samples(t);
    y_centred[t] = data.y[t];
    if (data.fit_intercept) {
      x_mean.col(t) = data.X[t].transpose() * Vector<Scalar>::Ones(n) / Scalar(n);
      y_mean[t] = y_centred[t].mean();
      y_centred[t].array() -= y_mean[t];
    }
  });
  // ||G(0)|| with G(0) = -[s_t X~_t^T y~_t]_t (X^T y~ = X~^T y~ as y~ sums to 0), and P(0).
  std::vector<double> gradient_at_zero_norm2(T);
  parallel_for(T, n_threads, [&](Index t) {
    gradient_at_zero_norm2[t] = static_cast<double>((data.X[t].transpose() * y_centred[t]).squaredNorm()) *
                                data.sample_weight[t] * data.sample_weight[t];
  });
  double primal_at_zero = 0, gradient_scale = 0;
  for (Index t = 0; t < T; ++t) {
    primal_at_zero += 0.5 * data.sample_weight[t] * y_centred[t].squaredNorm();
    gradient_scale += gradient_at_zero_norm2[t];
  }
  gradient_scale = std::sqrt(gradient_scale);
  double passes = 2;

  // Outer quantities at W: r_t = y~_t - X~_t w_t, G.
  OuterState<Scalar> state{Matrix<Scalar>(d, T), std::vector<double>(T), std::vector<double>(T)};
  auto evaluate = [&]() {
    parallel_for(T, n_threads, [&](Index t) {
      Vector<Scalar> r = y_centred[t] - data.X[t] * W.col(t);
      r.array() += x_mean.col(t).dot(W.col(t));
      state.residual_norm2[t] = static_cast<double>(r.squaredNorm());
      state.residual_dot_y[t] = static_cast<double>(r.dot(y_centred[t]));
      // X~^T r = X^T r - x_mean (1^T r), and 1^T r = 0 when centring.
      state.gradient.col(t).noalias() = -data.sample_weight[t] * (data.X[t].transpose() * r);
    });
    state.gradient.noalias() += alpha * W * coupling;
    passes += 2;
  };

  const double lambda_max_K = coupling.rows() ? static_cast<double>(
      Eigen::SelfAdjointEigenSolver<Matrix<Scalar>>(coupling, Eigen::EigenvaluesOnly).eigenvalues().maxCoeff()) : 0.0;

  // Column norms of the centred designs, for screening (alpha = 0 only).
  const bool screening = alpha == 0;
  Vector<double> column_bound = Vector<double>::Zero(d);  // max_t ||x~_tj||
  double max_weight = 0;
  if (screening) {
    for (Index t = 0; t < T; ++t) {
      Vector<Scalar> squares;
      weighted_column_squares<Scalar>(data.X[t], Vector<Scalar>::Ones(data.n_samples(t)), squares);
      const Scalar n = Scalar(data.n_samples(t));
      for (Index j = 0; j < d; ++j)
        column_bound[j] = std::max(column_bound[j],
                                   std::sqrt(std::max(0.0, static_cast<double>(squares[j] - n * x_mean(j, t) * x_mean(j, t)))));
      max_weight = std::max(max_weight, static_cast<double>(data.sample_weight[t]));
    }
    passes += 1;
  }
  std::vector<char> screened(d, 0);

  std::vector<Index> working_set;
  Index working_size = kInitialWorkingSet;
  const bool shared_gram = [&] {
    for (Index t = 1; t < T; ++t)
      if (!same_matrix(data.X[t], data.X[0])) return false;
    return true;
  }();

  while (true) {
    evaluate();
    // Primal, dual, gap.
    const Matrix<Scalar> WK = W * coupling;
    const double coupling_term = static_cast<double>(W.cwiseProduct(WK).sum());
    double data_term = 0, dual_linear = 0, dual_quadratic = 0;
    for (Index t = 0; t < T; ++t) {
      const double s = data.sample_weight[t];
      data_term += 0.5 * s * state.residual_norm2[t];
      dual_linear += s * state.residual_dot_y[t];
      dual_quadratic += s * state.residual_norm2[t];
    }
    const double primal = data_term + alpha / 2 * coupling_term + penalty_value(penalty, W);
    double dual_scale = 1;
    std::vector<double> violation(d);
    double violation_squared = 0, max_violation = 0;
    for (Index j = 0; j < d; ++j) {
      dual_scale = std::max(dual_scale, row_dual_norm(penalty, state.gradient.row(j)));
      violation[j] = row_kkt_violation(penalty, state.gradient.row(j), W.row(j));
      violation_squared += violation[j] * violation[j];
      max_violation = std::max(max_violation, violation[j]);
    }
    const double dual = dual_linear / dual_scale - (dual_quadratic + alpha * coupling_term) / (2 * dual_scale * dual_scale);
    const double gap = std::max(0.0, primal - dual);
    result.objective_history.push_back(primal);
    result.dual_gap = gap;
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

    // Centred working-set Grams s_t X~_ws^T X~_ws (m, m): one for a shared design.
    const Index n_grams = shared_gram ? 1 : T;
    std::vector<Matrix<Scalar>> grams(n_grams);
    parallel_for(n_grams, n_threads, [&](Index t) {
      const Matrix<Scalar> columns = gather_columns(data.X[t], working_set);
      Vector<Scalar> means(m);
      for (Index k = 0; k < m; ++k) means[k] = x_mean(working_set[k], t);
      grams[t].noalias() = columns.transpose() * columns;
      grams[t].noalias() -= Scalar(data.n_samples(t)) * means * means.transpose();
    });
    passes += static_cast<double>(n_grams) / T;
    auto gram_entry = [&](Index t, Index a, Index b) {
      return data.sample_weight[t] * grams[shared_gram ? 0 : t](a, b);
    };

    // Restricted problem: rows in the working set move; gradient kept exact.
    Matrix<Scalar> Wws(m, T), Gws(m, T);
    for (Index k = 0; k < m; ++k) {
      Wws.row(k) = W.row(working_set[k]);
      Gws.row(k) = state.gradient.row(working_set[k]);
    }
    std::vector<double> step(m);
    for (Index k = 0; k < m; ++k) {
      double curvature = 0;
      for (Index t = 0; t < T; ++t) curvature = std::max(curvature, static_cast<double>(gram_entry(t, k, k)));
      curvature += static_cast<double>(alpha) * lambda_max_K;
      step[k] = curvature > 0 ? 1 / curvature : 0;
    }
    const double inner_tol = kInnerFraction * max_violation;
    Vector<Scalar> row(T), delta(T);
    while (result.n_iter < options.max_iter) {
      double sweep_violation = 0;
      for (Index k = 0; k < m; ++k) {
        sweep_violation = std::max(sweep_violation, row_kkt_violation(penalty, Gws.row(k), Wws.row(k)));
        if (step[k] == 0) continue;
        row = Wws.row(k).transpose() - static_cast<Scalar>(step[k]) * Gws.row(k).transpose();
        prox_row(penalty, step[k], row);
        delta = row - Wws.row(k).transpose();
        if (delta.squaredNorm() == 0) continue;
        Wws.row(k) = row.transpose();
        // Data part: column k of each task's Gram times delta_t; coupling part: row k only.
        for (Index t = 0; t < T; ++t)
          Gws.col(t) += (data.sample_weight[t] * delta[t]) * grams[shared_gram ? 0 : t].col(k);
        Gws.row(k) += (alpha * (coupling * delta)).transpose();
      }
      ++result.n_iter;
      if (sweep_violation <= inner_tol) break;
    }
    for (Index k = 0; k < m; ++k) W.row(working_set[k]) = Wws.row(k);
  }
  result.intercept.resize(T);
  for (Index t = 0; t < T; ++t) result.intercept[t] = y_mean[t] - x_mean.col(t).dot(W.col(t));
  result.n_screened = std::count(screened.begin(), screened.end(), 1);
  result.data_passes = std::lround(passes);
}

}  // namespace multitask
