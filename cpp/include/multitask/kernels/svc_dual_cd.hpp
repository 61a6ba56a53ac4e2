// The multi-task SVM in the dual, by coordinate descent over samples.
//
// Primal: minimise (1/N) sum_t omega_t sum_{i in t} max(0, 1 - y_i f_t(x_i)) + (alpha/2) ||f||^2_H
// over f in the RKHS of the multi-task kernel B_st k(x, x') plus intercepts.
// Dual (LIBSVM's form, a minimisation):
//
//     min_a  (1/2) a^T Q a - 1^T a,   Q_ij = y_i y_j B_{t(i) t(j)} k(x_i, x_j),
//     0 <= a_i <= C_i = omega_{t(i)} / (alpha N),
//
// with one equality constraint sum_{i in g} y_i a_i = 0 per intercept group g:
// every task ("per_task" intercepts), all samples ("shared"), or none. Then
// f_t(x) = sum_j y_j a_j B_{t t(j)} k(x_j, x) + b_t.
//
// With G = Q a - 1 and v_i = -y_i G_i, a feasible a is optimal when, in every
// group, m_g = max_{I_up} v <= M_g = min_{I_low} v, where I_up = {a_i < C_i, y_i = 1
// or a_i > 0, y_i = -1} (a_i can move so that y_i a_i grows) and I_low the
// reverse (Keerthi et al. 2001). The solver stops when max_g (m_g - M_g) <= tol.
// Each step changes one pair (i, j) of one group along a_i += y_i l, a_j -= y_j l,
// which keeps sum y a: i maximises v over I_up of the group with the largest
// violation, j is chosen by the second-order rule of Fan, Chen & Lin (2005):
// over j in I_low with v_j < v_i, minimise -(v_i - v_j)^2 / a_ij with
// a_ij = Q_ii + Q_jj - 2 y_i y_j Q_ij, the decrease of the objective along the
// pair's direction if unclipped. Without equality constraints a step changes
// one coordinate, the one whose exact (clipped) Newton step decreases the
// objective most; it stops when the largest projected gradient is <= tol.
//
// Shrinking: a variable at a bound whose v lies beyond the other side's extreme
// (p in I_up only with v_p < M_g, or in I_low only with v_p > m_g) cannot be in
// a violating pair now and is left out of the active set; the gradient of the
// left-out variables is recomputed from the kernel expansion when the active
// problem is first within 10 tol and at the end, when every variable is checked
// again before stopping.
#pragma once

#include <cmath>
#include <limits>
#include <string>

#include <multitask/common/interrupt.hpp>
#include <multitask/common/solve_report.hpp>
#include <multitask/kernels/svc_kernel_rows.hpp>

namespace multitask {

enum class SvcIntercept { per_task, shared, none };

struct SvcProblem {
  KernelInputs<double> inputs;
  Matrix<double> B;      // (T, T) task kernel, symmetric PSD
  TaskLayout layout;
  Vector<double> y;      // (N) labels +-1, task by task
  Vector<double> upper;  // (T) C_t = omega_t / (alpha N) > 0
  SvcIntercept intercept = SvcIntercept::per_task;
};

struct SvcOptions : SolverOptions {
  SvcOptions() {
    tol = 1e-3;
    max_iter = 10000000;
  }
  double cache_bytes = 200.0 * (1 << 20);
  bool shrinking = true;
};

struct SvcResult : SolveReport {  // residual: the final max_g (m_g - M_g), or largest projected gradient
  SvcResult() { solver = "dual_cd"; }
  Vector<double> dual;       // (N) the dual variables a, task by task
  Vector<double> intercept;  // (T) b_t (zeros without intercept)
};

inline SvcIntercept svc_intercept_from_name(const std::string& name) {
  if (name == "per_task") return SvcIntercept::per_task;
  if (name == "shared") return SvcIntercept::shared;
  if (name == "none") return SvcIntercept::none;
  throw InvalidArgument("fit_intercept must be 'per_task', 'shared' or False, got '" + name + "'");
}

class SvcDualSolver {
 public:
  SvcDualSolver(const SvcProblem& problem, const SvcOptions& options)
      : problem_(problem),
        options_(options),
        rows_(problem.inputs, problem.B, problem.layout, problem.y, options.cache_bytes) {
    const Index N = problem.layout.n_samples(), T = problem.layout.n_tasks();
    alpha_ = Vector<double>::Zero(N);
    gradient_ = Vector<double>::Constant(N, -1.0);  // Q 0 - 1
    upper_.resize(N);
    for (Index p = 0; p < N; ++p) upper_[p] = problem.upper[rows_.task()[p]];
    n_groups_ = problem.intercept == SvcIntercept::per_task ? T : 1;
    group_max_.resize(n_groups_);
    group_min_.resize(n_groups_);
    group_argmax_.resize(n_groups_);
    up_offset_.resize(N);
    low_offset_.resize(N);
    scratch_.resize(N);
    update_all_offsets();
  }

  SvcResult solve() {
    const Index N = problem_.layout.n_samples();
    const long long shrink_every = std::min<long long>(N, 1000);
    long long countdown = shrink_every;
    long long finite_countdown = shrink_every;
    bool unshrunk = false;
    SvcResult result;
    while (true) {
      // A step costs O(active): select, and the gradient update (the rows it
      // computes poll on their own).
      poll_interrupt(4.0 * static_cast<double>(rows_.n_active()));
      if (--finite_countdown == 0) {  // O(active) every min(N, 1000) steps of O(active) each
        finite_countdown = shrink_every;
        check_gradient(result.n_iter);
      }
      if (options_.shrinking && --countdown == 0) {
        countdown = shrink_every;
        if (!unshrunk && violation_ <= 10 * options_.tol) {
          unshrunk = true;
          reactivate_all();
        }
        shrink();
      }
      double violation = select();
      check_finite(violation, "dual_cd", "the KKT violation", result.n_iter);
      if (violation <= options_.tol) {
        if (rows_.n_active() == N) {
          result.converged = true;
          break;
        }
        reactivate_all();
        violation = select();
        if (violation <= options_.tol) {
          result.converged = true;
          break;
        }
        countdown = 1;  // shrink again at the next step
      }
      if (result.n_iter >= options_.max_iter) break;
      step();
      ++result.n_iter;
    }
    if (rows_.n_active() < N) reactivate_all();
    check_gradient(result.n_iter);
    result.residual = select();
    result.intercept = intercepts();
    check_finite(result.residual, "dual_cd", "the KKT violation", result.n_iter);
    check_all_finite(result.intercept, "dual_cd", "the intercepts", result.n_iter);
    check_all_finite(alpha_, "dual_cd", "the dual coefficients", result.n_iter);
    result.dual.resize(N);
    for (Index p = 0; p < N; ++p) result.dual[rows_.sample()[p]] = alpha_[p];
    return result;
  }

 private:
  bool in_up(Index p) const {
    return rows_.y()[p] > 0 ? alpha_[p] < upper_[p] : alpha_[p] > 0;
  }
  bool in_low(Index p) const {
    return rows_.y()[p] > 0 ? alpha_[p] > 0 : alpha_[p] < upper_[p];
  }
  /// The active positions of group g.
  Index group_begin(Index g) const {
    return problem_.intercept == SvcIntercept::per_task ? rows_.task_begin(g) : 0;
  }
  Index group_end(Index g) const {
    return problem_.intercept == SvcIntercept::per_task ? rows_.task_begin(g + 1) : rows_.n_active();
  }

  /// Chooses the working set (i_, j_ or the coordinate i_) over the active set and
  /// returns the violation of optimality there.
  double select() {
    violation_ = problem_.intercept == SvcIntercept::none ? select_coordinate() : select_pair();
    return violation_;
  }

  /// v_p = -y_p G_p over the positions [begin, begin + n).
  auto signed_v(Index begin, Index n) const {
    return -(rows_.y().segment(begin, n).array() * gradient_.segment(begin, n).array());
  }

  /// m_g, M_g and argmax_{I_up} v of every group over the active set; returns the
  /// group with the largest violation m_g - M_g (-1 when no group can move).
  Index group_extremes() {
    constexpr double inf = std::numeric_limits<double>::infinity();
    double worst = -inf;
    Index worst_group = -1;
    for (Index g = 0; g < n_groups_; ++g) {
      const Index begin = group_begin(g), n = group_end(g) - begin;
      // v + (0 or -inf): v where p is in I_up; v + (0 or +inf): v where p is in I_low.
      auto up = scratch_.head(n).array();
      up = signed_v(begin, n) + up_offset_.segment(begin, n).array();
      const double largest = n > 0 ? up.maxCoeff() : -inf;
      const double smallest = n > 0 ? (signed_v(begin, n) + low_offset_.segment(begin, n).array()).minCoeff() : inf;
      Index argmax = -1;
      if (largest > -inf) argmax = begin + first_index_of(scratch_.data(), n, largest);
      group_max_[g] = largest;
      group_min_[g] = smallest;
      group_argmax_[g] = argmax;
      if (argmax >= 0 && largest - smallest > worst) {
        worst = largest - smallest;
        worst_group = g;
      }
    }
    return worst_group;
  }

  /// NumericalError unless the gradient Q a - 1 of the active variables is
  /// finite (it overflows when C_i Q_ij does, e.g. a tiny alpha with a huge kernel).
  void check_gradient(long long iteration) const {
    check_all_finite(gradient_.head(rows_.n_active()), "dual_cd", "the gradient of the dual", iteration);
  }

  static Index first_index_of(const double* values, Index n, double value) {
    Index k = 0;
    while (k < n - 1 && values[k] != value) ++k;
    return k;
  }

  /// I_up / I_low membership of position p as an additive offset (0 or -inf, 0 or +inf).
  void update_offsets(Index p) {
    constexpr double inf = std::numeric_limits<double>::infinity();
    up_offset_[p] = in_up(p) ? 0.0 : -inf;
    low_offset_[p] = in_low(p) ? 0.0 : inf;
  }
  void update_all_offsets() {
    for (Index p = 0; p < alpha_.size(); ++p) update_offsets(p);
  }

  double select_pair() {
    const auto& y = rows_.y();
    constexpr double inf = std::numeric_limits<double>::infinity();
    const Index worst_group = group_extremes();
    if (worst_group < 0) return 0.0;
    const double worst = group_max_[worst_group] - group_min_[worst_group];
    if (worst <= options_.tol) return worst;
    // Second-order choice of j within the group: minimise -(v_i - v_p)^2 / a_ip over
    // p in I_low with v_p < v_i (others get +inf).
    const Index i = group_argmax_[worst_group];
    const double v_i = group_max_[worst_group];
    const Index begin = group_begin(worst_group), n = group_end(worst_group) - begin;
    const Eigen::Map<const Eigen::ArrayXf> Q_i(rows_.row(i) + begin, n);
    const auto y_seg = y.segment(begin, n).array();
    const auto curvature =
        (rows_.diagonal()[i] + rows_.diagonal().segment(begin, n).array() - 2.0 * y[i] * y_seg * Q_i.cast<double>())
            .max(1e-12);
    const auto v = signed_v(begin, n);
    const auto gap = v_i - v;
    auto score = scratch_.head(n).array();
    score = (v + low_offset_.segment(begin, n).array() < v_i).select(-gap * gap / curvature, inf);
    const double best = score.minCoeff();
    i_ = i;
    j_ = begin + first_index_of(scratch_.data(), n, best);
    return worst;
  }

  double select_coordinate() {
    const Vector<double>& diag = rows_.diagonal();
    double worst = 0, best = 0;
    Index chosen = -1;
    for (Index p = 0; p < rows_.n_active(); ++p) {
      const double g = gradient_[p], a = alpha_[p], C = upper_[p];
      const double projected = a <= 0 ? std::min(g, 0.0) : (a >= C ? std::max(g, 0.0) : g);
      worst = std::max(worst, std::abs(projected));
      if (projected == 0) continue;
      const double curvature = curvature_floor(diag[p]);
      const double delta = std::clamp(a - g / curvature, 0.0, C) - a;
      const double decrease = g * delta + 0.5 * diag[p] * delta * delta;  // < 0: the objective's change
      if (decrease < best) {
        best = decrease;
        chosen = p;
      }
    }
    i_ = chosen;
    return chosen < 0 ? 0.0 : worst;
  }

  /// a_ij as used by the step: tiny or negative curvature (a kernel that is not
  /// PSD to round-off) is replaced by a small positive one, as in LIBSVM.
  static double curvature_floor(double curvature) { return curvature > 1e-12 ? curvature : 1e-12; }

  void step() {
    const Index A = rows_.n_active();
    if (problem_.intercept == SvcIntercept::none) {
      const Index i = i_;
      const double curvature = curvature_floor(rows_.diagonal()[i]);
      const double updated = std::clamp(alpha_[i] - gradient_[i] / curvature, 0.0, upper_[i]);
      const double delta = updated - alpha_[i];
      alpha_[i] = updated;
      gradient_.head(A).array() += delta * Eigen::Map<const Eigen::ArrayXf>(rows_.row(i), A).cast<double>();
      return;
    }
    const auto& y = rows_.y();
    const Index i = i_, j = j_;
    const float* Q_i = rows_.row(i);
    const float* Q_j = rows_.row(j);
    // Along a_i += y_i l, a_j -= y_j l the objective is f - gap l + (curvature / 2) l^2.
    const double gap = -y[i] * gradient_[i] + y[j] * gradient_[j];
    const double curvature = curvature_floor(rows_.diagonal()[i] + rows_.diagonal()[j] - 2.0 * y[i] * y[j] * Q_i[j]);
    const double room_i = y[i] > 0 ? upper_[i] - alpha_[i] : alpha_[i];
    const double room_j = y[j] > 0 ? alpha_[j] : upper_[j] - alpha_[j];
    const double length = std::min({gap / curvature, room_i, room_j});
    const double old_i = alpha_[i], old_j = alpha_[j];
    alpha_[i] = length == room_i ? (y[i] > 0 ? upper_[i] : 0.0) : old_i + y[i] * length;
    alpha_[j] = length == room_j ? (y[j] > 0 ? 0.0 : upper_[j]) : old_j - y[j] * length;
    const double delta_i = alpha_[i] - old_i, delta_j = alpha_[j] - old_j;
    gradient_.head(A).array() += delta_i * Eigen::Map<const Eigen::ArrayXf>(Q_i, A).cast<double>() +
                                 delta_j * Eigen::Map<const Eigen::ArrayXf>(Q_j, A).cast<double>();
    update_offsets(i);
    update_offsets(j);
  }

  /// Leaves out the variables at a bound that cannot take part in a violating pair.
  void shrink() {
    const Index A = rows_.n_active();
    const auto& y = rows_.y();
    std::vector<char> keep(static_cast<size_t>(A), 1);
    Index n_keep = 0;
    if (problem_.intercept == SvcIntercept::none) {
      for (Index p = 0; p < A; ++p) {
        const double g = gradient_[p];
        keep[p] = !((alpha_[p] <= 0 && g > violation_) || (alpha_[p] >= upper_[p] && g < -violation_));
        n_keep += keep[p];
      }
    } else {
      group_extremes();  // m_g, M_g at the current gradient
      for (Index g = 0; g < n_groups_; ++g)
        for (Index p = group_begin(g); p < group_end(g); ++p) {
          const double v = -y[p] * gradient_[p];
          const bool up = in_up(p), low = in_low(p);
          keep[p] = !((up && !low && v < group_min_[g]) || (low && !up && v > group_max_[g]));
          n_keep += keep[p];
        }
    }
    if (n_keep < A) rows_.shrink_to(keep, alpha_, gradient_, upper_, up_offset_, low_offset_);
  }

  /// Every variable active again, the gradient of the left-out ones recomputed:
  /// G_p = y_p f_{t(p)}(x_p) - 1 (f without intercept).
  void reactivate_all() {
    const Index A = rows_.n_active(), N = problem_.layout.n_samples();
    if (A == N) return;
    std::vector<Index> left_out;
    for (Index p = A; p < N; ++p) left_out.push_back(p);
    const Vector<double> f = rows_.expansion_at(left_out, alpha_, options_.n_threads);
    for (Index k = 0; k < static_cast<Index>(left_out.size()); ++k)
      gradient_[left_out[k]] = rows_.y()[left_out[k]] * f[k] - 1.0;
    rows_.unshrink(alpha_, gradient_, upper_, up_offset_, low_offset_);
  }

  /// b_g: the mean of v over the free variables of the group (where the KKT
  /// conditions make y_p f(x_p) = 1 exact), else the middle of [m_g, M_g].
  Vector<double> intercepts() {
    const Index T = problem_.layout.n_tasks();
    Vector<double> b = Vector<double>::Zero(T);
    if (problem_.intercept == SvcIntercept::none) return b;
    const auto& y = rows_.y();
    for (Index g = 0; g < n_groups_; ++g) {
      double sum = 0;
      Index n_free = 0;
      for (Index p = group_begin(g); p < group_end(g); ++p)
        if (alpha_[p] > 0 && alpha_[p] < upper_[p]) {
          sum += -y[p] * gradient_[p];
          ++n_free;
        }
      const double value = n_free > 0 ? sum / static_cast<double>(n_free) : 0.5 * (group_max_[g] + group_min_[g]);
      if (problem_.intercept == SvcIntercept::per_task)
        b[g] = value;
      else
        b.setConstant(value);
    }
    return b;
  }

  const SvcProblem& problem_;
  SvcOptions options_;
  SvcKernelRows rows_;
  Vector<double> alpha_, gradient_, upper_;  // (N) per position
  Vector<double> up_offset_, low_offset_;    // (N) per position: 0 in I_up / I_low, -inf / +inf otherwise
  Vector<double> scratch_;                   // (N) values of the current selection
  Index n_groups_ = 1;
  std::vector<double> group_max_, group_min_;  // m_g, M_g of the last selection
  std::vector<Index> group_argmax_;
  Index i_ = -1, j_ = -1;
  double violation_ = std::numeric_limits<double>::infinity();
};

/// Solves the multi-task SVM dual (see the top of this file).
inline SvcResult solve_svc_dual(const SvcProblem& problem, const SvcOptions& options) {
  require(problem.layout.n_tasks() >= 1, "at least one task is needed");
  require(problem.y.size() == problem.layout.n_samples(), "y must have one label per sample");
  require(problem.upper.size() == problem.layout.n_tasks(), "the box bounds need one value per task");
  require(options.tol > 0, "tol must be positive");
  return SvcDualSolver(problem, options).solve();
}

}  // namespace multitask
