// The latent covariance of the multi-task Gaussian process (the linear model of
// coregionalisation, LCM; one term is the intrinsic model, ICM):
//
//     Cov(f_t(x), f_s(x')) = sum_q B_q[t, s] k_q(x, x'),   B_q = L_q L_q^T + diag(kappa_q),
//
// with L_q (T, r_q) free and kappa_q > 0. Its covariance hyperparameters, in the
// order every gradient here uses: for each term q, L_q row-major (T r_q), then
// log kappa_q (T), then the input kernel's log length-scales theta_q.
//
// The one reduction every likelihood gradient needs is the weighted sum
//     g(eta) = sum_{a,b} W_ab dK_ab/d eta
// for a weight matrix W over pairs of rows (a of one input set, b of another).
// One pass over the pairs accumulates, per term, H_q[t, s] = sum over pairs of
// tasks (t, s) of W_ab k_q(x_a, x_b) and the kernel part sum W_ab B_q[t_a, t_b]
// dk_q/d theta; then, since dB/dL[i, j] = e_i L[:, j]^T + L[:, j] e_i^T,
//     dg/dL_q = (H_q + H_q^T) L_q,   dg/dlog kappa_q[t] = kappa_q[t] H_q[t, t].
#pragma once

#include <cstdint>
#include <vector>

#include <multitask/common/parallel.hpp>
#include <multitask/common/types.hpp>
#include <multitask/gp/gp_kernels.hpp>

namespace multitask::gp {

/// Rows of inputs (n, d), row-major, each with a task id in [0, T) (the long format).
struct TaskRows {
  const double* X = nullptr;
  const std::int64_t* tasks = nullptr;
  Index n = 0;
  Index d = 0;
  const double* row(Index i) const { return X + i * d; }
};

/// One ICM term: B = L L^T + diag(kappa) times an input kernel.
struct IcmTerm {
  InputKernelParams kernel;
  Matrix<double> L;      // (T, r)
  Vector<double> kappa;  // (T), positive
  Matrix<double> B;      // (T, T)

  IcmTerm(InputKernelParams input_kernel, Matrix<double> factor, Vector<double> diagonal)
      : kernel(std::move(input_kernel)), L(std::move(factor)), kappa(std::move(diagonal)) {
    require(L.rows() == kappa.size(), "L must have one row per task");
    B = L * L.transpose();
    B.diagonal() += kappa;
  }
  Index n_parameters() const { return L.size() + kappa.size() + kernel.n_theta; }
};

struct LcmCovariance {
  std::vector<IcmTerm> terms;
  Index n_tasks = 0;
  Index n_features = 0;

  Index n_parameters() const {
    Index total = 0;
    for (const IcmTerm& term : terms) total += term.n_parameters();
    return total;
  }

  /// Cov(f_{t_a}(x_a), f_{t_b}(x_b)).
  double value(const double* xa, std::int64_t ta, const double* xb, std::int64_t tb) const {
    double sum = 0;
    for (const IcmTerm& term : terms) sum += term.B(ta, tb) * term.kernel.value(xa, xb, n_features);
    return sum;
  }
};

inline void check_rows(const LcmCovariance& covariance, const TaskRows& rows, const char* name) {
  require(rows.d == covariance.n_features, std::string(name) + " has another number of features than the model");
  for (Index i = 0; i < rows.n; ++i)
    require(rows.tasks[i] >= 0 && rows.tasks[i] < covariance.n_tasks,
            std::string("the task ids of ") + name + " must lie in [0, n_tasks)");
}

/// Columns per work item of the pair loops: the unit of parallel work and of
/// the fixed-order reduction that keeps results independent of the thread count.
constexpr Index kPairColumns = 32;

/// The rows' inputs feature-major (n, d): column j holds feature j of every row,
/// the layout of InputKernelParams::column.
inline Matrix<double> feature_major(const TaskRows& rows) {
  return Eigen::Map<const RowMatrix<double>>(rows.X, rows.n, rows.d);
}

/// B[t_a, tb] for the rows a0 .. a0 + m of A: column tb of the symmetric B gathered by task.
inline void gather_task_column(const Matrix<double>& B, const TaskRows& A, Index a0, Index m, std::int64_t tb,
                               Eigen::ArrayXd& out) {
  out.resize(m);
  const double* column = B.col(tb).data();
  for (Index i = 0; i < m; ++i) out[i] = column[A.tasks[a0 + i]];
}

/// K(A, B) (A.n, B.n). With `lower_only` (A and B the same rows) only the lower
/// triangle is written.
inline void covariance_matrix(const LcmCovariance& covariance, const TaskRows& A, const TaskRows& B,
                              bool lower_only, Matrix<double>& out, int n_threads) {
  out.resize(A.n, B.n);
  const Matrix<double> F = feature_major(A);
  const Index n_chunks = (B.n + kPairColumns - 1) / kPairColumns;
  const double work = static_cast<double>(A.n) * kPairColumns * (covariance.n_features + 10) * covariance.terms.size();
  parallel_for_interruptible(n_chunks, threads_for_work(work * n_chunks, n_threads), work, [&](Index chunk) {
    Eigen::ArrayXd k, task_factor;
    const Index last = std::min(B.n, (chunk + 1) * kPairColumns);
    for (Index b = chunk * kPairColumns; b < last; ++b) {
      const Index a0 = lower_only ? b : 0, m = A.n - a0;
      auto column = out.col(b).segment(a0, m).array();
      column.setZero();
      for (const IcmTerm& term : covariance.terms) {
        term.kernel.column(F, a0, m, B.row(b), k, nullptr, nullptr);
        gather_task_column(term.B, A, a0, m, B.tasks[b], task_factor);
        column += task_factor * k;
      }
    }
  });
}

/// diag K(A, A).
inline Vector<double> covariance_diagonal(const LcmCovariance& covariance, const TaskRows& A) {
  Vector<double> out(A.n);
  for (Index a = 0; a < A.n; ++a) out[a] = covariance.value(A.row(a), A.tasks[a], A.row(a), A.tasks[a]);
  return out;
}

namespace detail {

/// Per-chunk accumulators of the weighted-gradient pass: H_q and the kernel sums.
struct GradientSums {
  std::vector<Matrix<double>> H;
  std::vector<Vector<double>> theta;
  explicit GradientSums(const LcmCovariance& covariance) {
    for (const IcmTerm& term : covariance.terms) {
      H.push_back(Matrix<double>::Zero(covariance.n_tasks, covariance.n_tasks));
      theta.push_back(Vector<double>::Zero(term.kernel.n_theta));
    }
  }
  void add(const GradientSums& other) {
    for (std::size_t q = 0; q < H.size(); ++q) {
      H[q] += other.H[q];
      theta[q] += other.theta[q];
    }
  }
};

/// Adds the pair (a, b) with weight w: H_q[t_a, t_b] += w k_q and the kernel part.
inline void add_pair(const LcmCovariance& covariance, const double* xa, std::int64_t ta, const double* xb,
                     std::int64_t tb, double w, GradientSums& sums) {
  for (std::size_t q = 0; q < covariance.terms.size(); ++q) {
    const IcmTerm& term = covariance.terms[q];
    const double k = term.kernel.value_and_gradient(xa, xb, covariance.n_features, w * term.B(ta, tb),
                                                    sums.theta[q].data());
    sums.H[q](ta, tb) += w * k;
  }
}

/// The gradient of sum W_ab K_ab from the accumulated sums (file comment).
inline Vector<double> gradient_from_sums(const LcmCovariance& covariance, const GradientSums& sums) {
  Vector<double> gradient(covariance.n_parameters());
  Index position = 0;
  for (std::size_t q = 0; q < covariance.terms.size(); ++q) {
    const IcmTerm& term = covariance.terms[q];
    const Matrix<double> dL = (sums.H[q] + sums.H[q].transpose()) * term.L;
    for (Index i = 0; i < dL.rows(); ++i)
      for (Index j = 0; j < dL.cols(); ++j) gradient[position++] = dL(i, j);  // row-major
    for (Index t = 0; t < covariance.n_tasks; ++t) gradient[position++] = term.kappa[t] * sums.H[q](t, t);
    gradient.segment(position, term.kernel.n_theta) = sums.theta[q];
    position += term.kernel.n_theta;
  }
  return gradient;
}

}  // namespace detail

/// sum_{a, b} W(a, b) dK(A, B)_ab / d eta for every covariance hyperparameter.
/// `weight_column(b, a0, m, w)` fills w (m) with W(a0 .. a0 + m - 1, b). With
/// `symmetric` (A and B the same rows, W symmetric) only the pairs a >= b are
/// visited (a0 = b), each off-diagonal one standing for (a, b) and (b, a).
template <typename WeightColumn>
Vector<double> weighted_covariance_gradient(const LcmCovariance& covariance, const TaskRows& A, const TaskRows& B,
                                            bool symmetric, WeightColumn&& weight_column, int n_threads) {
  const Matrix<double> F = feature_major(A);
  const Index n_chunks = (B.n + kPairColumns - 1) / kPairColumns;
  std::vector<detail::GradientSums> chunk_sums(static_cast<std::size_t>(n_chunks), detail::GradientSums(covariance));
  const double work = static_cast<double>(A.n) * kPairColumns * (2 * covariance.n_features + 12) * covariance.terms.size();
  parallel_for_interruptible(n_chunks, threads_for_work(work * n_chunks, n_threads), work, [&](Index chunk) {
    detail::GradientSums& sums = chunk_sums[static_cast<std::size_t>(chunk)];
    Eigen::ArrayXd w, k, task_factor, kernel_weights;
    const Index last = std::min(B.n, (chunk + 1) * kPairColumns);
    for (Index b = chunk * kPairColumns; b < last; ++b) {
      const std::int64_t tb = B.tasks[b];
      Index a0 = symmetric ? b : 0;
      w.resize(A.n - a0);
      weight_column(b, a0, A.n - a0, w.data());
      if (symmetric) {  // the diagonal pair once; the rest of the column below stands for both orders
        detail::add_pair(covariance, A.row(b), tb, B.row(b), tb, w[0], sums);
        a0 = b + 1;
      }
      const Index m = A.n - a0;
      if (m == 0) continue;
      const auto weights = w.tail(m);
      const double both_orders = symmetric ? 2.0 : 1.0;
      for (std::size_t q = 0; q < covariance.terms.size(); ++q) {
        const IcmTerm& term = covariance.terms[q];
        gather_task_column(term.B, A, a0, m, tb, task_factor);
        kernel_weights = both_orders * weights * task_factor;
        term.kernel.column(F, a0, m, B.row(b), k, &kernel_weights, sums.theta[q].data());
        Matrix<double>& H = sums.H[q];
        for (Index i = 0; i < m; ++i) {
          const double wk = weights[i] * k[i];
          const std::int64_t ta = A.tasks[a0 + i];
          H(ta, tb) += wk;
          if (symmetric) H(tb, ta) += wk;
        }
      }
    }
  });
  detail::GradientSums total(covariance);
  for (const detail::GradientSums& sums : chunk_sums) total.add(sums);  // fixed order
  return detail::gradient_from_sums(covariance, total);
}

/// sum_a w_a dK(A, A)_aa / d eta for every covariance hyperparameter.
inline Vector<double> weighted_diagonal_gradient(const LcmCovariance& covariance, const TaskRows& A,
                                                 const Vector<double>& w) {
  detail::GradientSums sums(covariance);
  for (Index a = 0; a < A.n; ++a) detail::add_pair(covariance, A.row(a), A.tasks[a], A.row(a), A.tasks[a], w[a], sums);
  return detail::gradient_from_sums(covariance, sums);
}

}  // namespace multitask::gp
