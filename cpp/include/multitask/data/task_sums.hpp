// Per-task sums over a chunk of rows labelled by task, for the fits that never
// hold all the rows (partial_fit, Dask partitions):
//
// * the centred Gram statistics of the squared loss, per task t with n_t rows,
//     x_mean_t, y_mean_t,  S_t = sum (x - x_mean)(x - x_mean)^T,
//     c_t = sum (x - x_mean)(y - y_mean),  q_t = sum (y - y_mean)^2
//   (two passes over the task's rows: the means, then the centred sums, so the
//   precision is that of centred data whatever the means);
// * the sums Newton's method needs for a pointwise loss l at the models
//   (w_t, b_t), with f = <w_t, x> + b_t:
//     L_t = sum l(y, f),  g_t = sum l'(y, f) (x, 1),  H_t = sum l''(y, f) (x, 1)(x, 1)^T
//   (l'' the generalised second derivative where l' has a kink).
//
// Rows are visited by task through index lists (a counting sort of the labels)
// and gathered a panel at a time into a thread-local buffer, so the chunk is
// never copied whole; tasks run in parallel.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <multitask/common/parallel.hpp>
#include <multitask/objectives/pointwise_losses.hpp>

namespace multitask {

/// The rows of every task, in increasing order: a counting sort of task[0..n) in [0, n_tasks).
inline std::vector<std::vector<Index>> rows_by_task(const std::int64_t* task, Index n, Index n_tasks) {
  std::vector<Index> counts(static_cast<std::size_t>(n_tasks), 0);
  for (Index i = 0; i < n; ++i) {
    require(task[i] >= 0 && task[i] < n_tasks, "task index out of range [0, n_tasks)");
    ++counts[static_cast<std::size_t>(task[i])];
  }
  std::vector<std::vector<Index>> rows(static_cast<std::size_t>(n_tasks));
  for (Index t = 0; t < n_tasks; ++t) rows[static_cast<std::size_t>(t)].reserve(static_cast<std::size_t>(counts[t]));
  for (Index i = 0; i < n; ++i) rows[static_cast<std::size_t>(task[i])].push_back(i);
  return rows;
}

/// Rows per gathered panel: about 2e5 entries, as centred_gram's panels (cache-sized, long enough for BLAS-3).
inline Index panel_rows(Index n_columns) { return std::max<Index>(256, 204800 / std::max<Index>(n_columns, 1)); }

/// Per-task centred Gram statistics of a chunk (see the file comment). Outputs
/// (k tasks, d features), row-major: counts (k), x_mean (k, d), y_mean (k),
/// xx (k, d, d), xy (k, d), yy (k).
template <typename Scalar>
void centred_task_statistics(const Eigen::Ref<const RowMatrix<Scalar>>& X, const Eigen::Ref<const Vector<Scalar>>& y,
                             const std::int64_t* task, Index n_tasks, int n_threads, double* counts, double* x_mean,
                             double* y_mean, double* xx, double* xy, double* yy) {
  const Index n = X.rows(), d = X.cols();
  const auto rows = rows_by_task(task, n, n_tasks);
  const double work = static_cast<double>(n) * static_cast<double>(d) * static_cast<double>(d);
  parallel_for(n_tasks, threads_for_work(work, n_threads), [&](Index t) {
    const auto& mine = rows[static_cast<std::size_t>(t)];
    Eigen::Map<Vector<double>> mean(x_mean + t * d, d);
    Eigen::Map<Matrix<double>> gram(xx + t * d * d, d, d);
    Eigen::Map<Vector<double>> cross(xy + t * d, d);
    mean.setZero();
    gram.setZero();
    cross.setZero();
    double y_sum = 0;
    for (const Index i : mine) {
      mean += X.row(i).transpose().template cast<double>();
      y_sum += static_cast<double>(y[i]);
    }
    const double count = static_cast<double>(mine.size());
    counts[t] = count;
    if (mine.empty()) {
      y_mean[t] = yy[t] = 0;
      return;
    }
    mean /= count;
    y_mean[t] = y_sum / count;
    double squares = 0;
    const Index chunk = panel_rows(d);
    thread_local RowMatrix<double> panel;
    thread_local Vector<double> targets;
    for (std::size_t start = 0; start < mine.size(); start += static_cast<std::size_t>(chunk)) {
      const Index m = std::min<Index>(chunk, static_cast<Index>(mine.size() - start));
      panel.resize(m, d);
      targets.resize(m);
      for (Index r = 0; r < m; ++r) {
        const Index i = mine[start + static_cast<std::size_t>(r)];
        panel.row(r) = X.row(i).template cast<double>() - mean.transpose();
        targets[r] = static_cast<double>(y[i]) - y_mean[t];
      }
      gram.template selfadjointView<Eigen::Lower>().rankUpdate(panel.transpose());
      cross.noalias() += panel.transpose() * targets;
      squares += targets.squaredNorm();
    }
    gram.template triangularView<Eigen::StrictlyUpper>() = gram.transpose();
    yy[t] = squares;
  });
}

/// Per-task loss, gradient and Hessian sums of a chunk at the models
/// (coef (k, d) row-major, intercept (k)), labels y as the loss takes them
/// (+-1 for the classification losses). Outputs: loss (k), gradient (k, d + 1)
/// and hessian (k, d + 1, d + 1), the intercept last; without `fit_intercept`
/// the intercept's entries are 0.
template <typename Scalar>
void task_newton_sums(const Eigen::Ref<const RowMatrix<Scalar>>& X, const Eigen::Ref<const Vector<Scalar>>& y,
                      const std::int64_t* task, Index n_tasks, const double* coef, const double* intercept,
                      const PointwiseLoss& loss, bool fit_intercept, int n_threads, double* loss_sum,
                      double* gradient, double* hessian) {
  const Index n = X.rows(), d = X.cols(), p = d + 1;
  const auto rows = rows_by_task(task, n, n_tasks);
  const double work = static_cast<double>(n) * static_cast<double>(d) * static_cast<double>(d);
  with_loss(loss, [&](const auto& l) {
    parallel_for(n_tasks, threads_for_work(work, n_threads), [&](Index t) {
      const auto& mine = rows[static_cast<std::size_t>(t)];
      const Eigen::Map<const Vector<double>> w(coef + t * d, d);
      const double b = fit_intercept ? intercept[t] : 0.0;
      Eigen::Map<Vector<double>> g(gradient + t * p, p);
      Eigen::Map<Matrix<double>> H(hessian + t * p * p, p, p);
      g.setZero();
      H.setZero();
      double total = 0;
      const Index chunk = panel_rows(d);
      thread_local RowMatrix<double> panel;
      thread_local Vector<double> first, second;
      for (std::size_t start = 0; start < mine.size(); start += static_cast<std::size_t>(chunk)) {
        const Index m = std::min<Index>(chunk, static_cast<Index>(mine.size() - start));
        panel.resize(m, d);
        first.resize(m);
        second.resize(m);
        for (Index r = 0; r < m; ++r) panel.row(r) = X.row(mine[start + static_cast<std::size_t>(r)]).template cast<double>();
        const Vector<double> f = (panel * w).array() + b;
        for (Index r = 0; r < m; ++r) {
          const double label = static_cast<double>(y[mine[start + static_cast<std::size_t>(r)]]);
          total += l.value_and_derivative(label, f[r], first[r]);
          second[r] = l.curvature(label, f[r]);
        }
        g.head(d).noalias() += panel.transpose() * first;
        H.col(d).head(d).noalias() += panel.transpose() * second;  // sum l'' x
        if (fit_intercept) {
          g[d] += first.sum();
          H(d, d) += second.sum();
        }
        // sum l'' x x^T as a rank update with the rows scaled by sqrt(l'') (l'' >= 0).
        panel.array().colwise() *= second.array().sqrt();
        H.topLeftCorner(d, d).template selfadjointView<Eigen::Lower>().rankUpdate(panel.transpose());
      }
      auto H_ww = H.topLeftCorner(d, d);
      H_ww.template triangularView<Eigen::StrictlyUpper>() = H_ww.transpose();
      if (fit_intercept)
        H.row(d).head(d) = H.col(d).head(d).transpose();
      else
        H.col(d).head(d).setZero();
      loss_sum[t] = total;
    });
  });
}

}  // namespace multitask
