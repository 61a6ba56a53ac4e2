// Log marginal likelihood of the multi-task GP on per-task inputs (the dense
// route), and its gradient, at one Cholesky factorisation per evaluation.
//
// Samples (x_i, t_i, y_i), K = LCM covariance + diag(sigma^2_{t_i}) (N, N),
// r = y - m_{t}, alpha = K^{-1} r:
//     log p(y) = -1/2 r^T alpha - 1/2 log|K| - N/2 log 2 pi,
//     d log p / d eta = 1/2 sum_ab (alpha alpha^T - K^{-1})_ab dK_ab/d eta,
//     d log p / d log sigma^2_t = 1/2 sigma^2_t sum_{i in t} (alpha_i^2 - K^{-1}_ii),
//     d log p / d m_t = sum_{i in t} alpha_i.
// With `profile_mean` the means are not parameters but their maximiser for the
// covariance at hand, the generalised least-squares means
//     m = (E^T K^{-1} E)^{-1} E^T K^{-1} y     (E: the (N, T) task indicators),
// found from Z = L^{-1} E (N^2 T flops); the gradient with respect to the other
// hyperparameters is then that of the profiled likelihood (envelope theorem:
// d log p / d m = 0 at m). Tasks without rows get m_t = 0.
// Cost: N^3/3 (Cholesky, the core's blocked parallel one) + 2N^3/3 (the inverse,
// LAPACK dpotri) + one pass over the N^2/2 pairs for every gradient entry at once.
#pragma once

#include <cmath>

#include <multitask/gp/lcm_covariance.hpp>
#include <multitask/linalg/parallel_cholesky.hpp>
#include <multitask/linalg/symmetric_lapack.hpp>

namespace multitask::gp {

/// Per-task noise variances and constant means.
struct NoiseAndMean {
  Vector<double> noise;  // (T) sigma^2_t
  Vector<double> mean;   // (T) m_t (ignored with profile_mean)
  bool profile_mean = false;
};

struct DenseLikelihood {
  bool positive_definite = true;  // false: K is not positive definite to working precision (nothing else is set)
  double value = 0;
  Vector<double> gradient;  // [covariance hyperparameters, log sigma^2 (T), m (T)]; empty unless asked
  Matrix<double> factor;    // L with K = L L^T (lower triangle); empty unless asked
  Vector<double> alpha;     // K^{-1} r
  Vector<double> mean;      // (T) the means used (the GLS means with profile_mean)
};

/// The GLS means argmax_m log p(y) from the Cholesky factor L (lower triangle of
/// `factor`): with Z = L^{-1} E and z = L^{-1} y, m solves (Z^T Z) m = Z^T z.
inline Vector<double> gls_means(const Matrix<double>& factor, const TaskRows& data, const double* y, Index T) {
  const Index N = data.n;
  Matrix<double> Z = Matrix<double>::Zero(N, T);
  for (Index i = 0; i < N; ++i) Z(i, data.tasks[i]) = 1.0;
  factor.triangularView<Eigen::Lower>().solveInPlace(Z);
  const Vector<double> z = factor.triangularView<Eigen::Lower>().solve(Eigen::Map<const Vector<double>>(y, N));
  Matrix<double> normal = Z.transpose() * Z;
  Vector<double> right = Z.transpose() * z;
  for (Index t = 0; t < T; ++t)  // a task without rows: m_t = 0
    if (normal(t, t) == 0) normal(t, t) = 1.0, right[t] = 0.0;
  return normal.llt().solve(right);
}

constexpr double kLogTwoPi = 1.8378770664093454835606594728112;

/// log p(y) and, with `with_gradient`, its gradient; with `keep_factor` the Cholesky factor of K.
inline DenseLikelihood dense_log_marginal_likelihood(const LcmCovariance& covariance, const NoiseAndMean& noise_mean,
                                                     const TaskRows& data, const double* y, bool with_gradient,
                                                     bool keep_factor, int n_threads) {
  check_rows(covariance, data, "X");
  const Index N = data.n, T = covariance.n_tasks;
  DenseLikelihood out;
  Matrix<double> K;
  covariance_matrix(covariance, data, data, true, K, n_threads);
  for (Index i = 0; i < N; ++i) K(i, i) += noise_mean.noise[data.tasks[i]];
  if (!cholesky_in_place(K, n_threads)) {
    out.positive_definite = false;
    return out;
  }
  out.mean = noise_mean.profile_mean ? gls_means(K, data, y, T) : noise_mean.mean;
  Vector<double> residual(N);
  for (Index i = 0; i < N; ++i) residual[i] = y[i] - out.mean[data.tasks[i]];
  out.alpha = K.triangularView<Eigen::Lower>().solve(residual);  // L^{-1} r
  const double quadratic = out.alpha.squaredNorm();
  K.transpose().triangularView<Eigen::Upper>().solveInPlace(out.alpha);  // L^{-T} L^{-1} r
  const double log_det = 2.0 * K.diagonal().array().log().sum();
  out.value = -0.5 * quadratic - 0.5 * log_det - 0.5 * static_cast<double>(N) * kLogTwoPi;
  if (keep_factor) out.factor = K.triangularView<Eigen::Lower>();
  if (!with_gradient) return out;

  inverse_from_cholesky(K);  // lower triangle: K^{-1}
  const Vector<double>& alpha = out.alpha;
  const Vector<double> covariance_part = weighted_covariance_gradient(
      covariance, data, data, true,
      [&](Index b, Index a0, Index m, double* w) {
        Eigen::Map<Eigen::ArrayXd>(w, m) = alpha.segment(a0, m).array() * alpha[b] - K.col(b).segment(a0, m).array();
      },
      n_threads);
  out.gradient.resize(covariance_part.size() + 2 * T);
  out.gradient.head(covariance_part.size()) = 0.5 * covariance_part;
  Vector<double> noise_part = Vector<double>::Zero(T), mean_part = Vector<double>::Zero(T);
  for (Index i = 0; i < N; ++i) {
    noise_part[data.tasks[i]] += alpha[i] * alpha[i] - K(i, i);
    mean_part[data.tasks[i]] += alpha[i];
  }
  out.gradient.segment(covariance_part.size(), T) = 0.5 * noise_mean.noise.cwiseProduct(noise_part);
  out.gradient.tail(T) = mean_part;
  return out;
}

}  // namespace multitask::gp
