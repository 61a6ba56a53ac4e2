// Log marginal likelihood of the multi-task GP on a shared design (every task
// observed at the same n inputs), one ICM term, at O(n^3 + T^3 + n^2 T) per
// evaluation instead of O((nT)^3).
//
// In task-major order K = B (x) K_x + S (x) I_n, S = diag(sigma^2_t). Whitening
// the noise, K = (S^1/2 (x) I)(Bw (x) K_x + I)(S^1/2 (x) I) with
// Bw = S^-1/2 B S^-1/2 = U diag(lambda) U^T and K_x = V diag(delta) V^T, so
// Bw (x) K_x + I = (U (x) V) diag(Delta) (U (x) V)^T, Delta[j, k] = lambda_k delta_j + 1.
// With R = Y - 1 m^T, Z = V^T R S^-1/2 U, A = Z / Delta (elementwise) and
// alpha = K^{-1} vec(R) as the (n, T) matrix V A U^T S^-1/2:
//     r^T K^{-1} r = sum Z^2 / Delta,   log|K| = n sum_t log sigma^2_t + sum log Delta.
// Gradient, every trace reduced to the two eigenbases:
//   B:        G_B = 1/2 alpha^T K_x alpha - 1/2 S^-1/2 U diag(c) U^T S^-1/2, c_k = sum_j delta_j / Delta[j, k];
//             d/dL = 2 G_B L, d/dlog kappa_t = kappa_t G_B[t, t];
//   theta:    1/2 sum_ab W_ab dK_x,ab/dtheta, W = alpha B alpha^T - V diag(e) V^T, e_j = sum_k lambda_k / Delta[j, k];
//   log sigma^2_t: 1/2 sigma^2_t |alpha[:, t]|^2 - 1/2 sum_k U[t, k]^2 h_k, h_k = sum_j 1 / Delta[j, k];
//   m_t:      sum_i alpha[i, t].
// With profile_mean the means are the GLS ones: with c = V^T 1 and
// Z0 = V^T Y S^-1/2 U, Z = Z0 - c mu^T for mu = U^T S^-1/2 m, and the quadratic
// sum_jk (Z0 - c mu^T)^2 / Delta separates over k: mu_k = sum_j c_j Z0_jk / Delta_jk
// / sum_j c_j^2 / Delta_jk, m = S^1/2 U mu.
// The O(n^3) parts are the eigendecomposition of K_x (LAPACK dsyevd) and the
// rank-n update forming W; the rest is O(n^2 T + T^3).
#pragma once

#include <cmath>
#include <vector>

#include <Eigen/Eigenvalues>

#include <multitask/gp/dense_likelihood.hpp>

namespace multitask::gp {

struct KroneckerLikelihood {
  double value = 0;
  Vector<double> gradient;  // [L row-major, log kappa, theta, log sigma^2 (T), m (T)]; empty unless asked
  // The posterior's pieces (with keep_factors): K_x = V diag(delta) V^T, Bw = U diag(lambda) U^T, alpha (n, T).
  Matrix<double> V;
  Vector<double> delta;
  Matrix<double> U;
  Vector<double> lambda;
  Matrix<double> alpha;
  Vector<double> mean;  // (T) the means used (the GLS means with profile_mean)
};

/// The input kernel of `term` alone as a one-task covariance (B = 1), for K_x and its gradient.
inline LcmCovariance input_kernel_only(const IcmTerm& term, Index n_features) {
  LcmCovariance single;
  single.terms.emplace_back(term.kernel, Matrix<double>(1, 0), Vector<double>::Ones(1));
  single.n_tasks = 1;
  single.n_features = n_features;
  return single;
}

/// log p(vec Y) and, with `with_gradient`, its gradient (file comment). X (n, d)
/// row-major, Y (n, T); `covariance` must have exactly one term.
inline KroneckerLikelihood kronecker_log_marginal_likelihood(const LcmCovariance& covariance,
                                                             const NoiseAndMean& noise_mean, const double* X,
                                                             const Matrix<double>& Y, bool with_gradient,
                                                             bool keep_factors, int n_threads) {
  require(covariance.terms.size() == 1, "the Kronecker route needs exactly one ICM term");
  const IcmTerm& term = covariance.terms.front();
  const Index n = Y.rows(), T = Y.cols();
  require(T == covariance.n_tasks, "Y must have one column per task");
  const std::vector<std::int64_t> zeros(static_cast<std::size_t>(n), 0);
  const TaskRows rows{X, zeros.data(), n, covariance.n_features};
  const LcmCovariance kernel_only = input_kernel_only(term, covariance.n_features);

  Matrix<double> Kx;
  covariance_matrix(kernel_only, rows, rows, true, Kx, n_threads);
  Matrix<double> V = Kx;
  Vector<double> delta = symmetric_eigen_in_place(V).cwiseMax(0.0);  // K_x is PSD: negatives are round-off

  const Vector<double> sigma = noise_mean.noise.cwiseSqrt();
  const Matrix<double> whitened = term.B.cwiseQuotient(sigma * sigma.transpose());
  Eigen::SelfAdjointEigenSolver<Matrix<double>> task_eigen(whitened);
  if (task_eigen.info() != Eigen::Success) throw NumericalError("the eigendecomposition of the task kernel failed");
  const Vector<double> lambda = task_eigen.eigenvalues().cwiseMax(0.0);
  const Matrix<double>& U = task_eigen.eigenvectors();
  const Matrix<double> Delta = (delta * lambda.transpose()).array() + 1.0;

  KroneckerLikelihood out;
  out.mean = noise_mean.mean;
  Matrix<double> whitened_residual = Y;
  if (noise_mean.profile_mean) out.mean.setZero(T);
  for (Index t = 0; t < T; ++t)
    whitened_residual.col(t) = (whitened_residual.col(t).array() - out.mean[t]) / sigma[t];
  Matrix<double> Z = V.transpose() * whitened_residual * U;
  if (noise_mean.profile_mean) {
    const Vector<double> c = V.transpose() * Vector<double>::Ones(n);
    const Matrix<double> inverse_delta = Delta.cwiseInverse();
    const Vector<double> numerator = (Z.cwiseProduct(inverse_delta)).transpose() * c;
    const Vector<double> denominator = inverse_delta.transpose() * c.cwiseAbs2();
    const Vector<double> mu = numerator.cwiseQuotient(denominator);
    Z -= c * mu.transpose();
    out.mean = sigma.cwiseProduct(U * mu);
  }
  const double log_det = static_cast<double>(n) * noise_mean.noise.array().log().sum() + Delta.array().log().sum();
  out.value = -0.5 * (Z.array().square() / Delta.array()).sum() - 0.5 * log_det -
              0.5 * static_cast<double>(n * T) * kLogTwoPi;
  if (!with_gradient && !keep_factors) return out;

  const Matrix<double> A = Z.cwiseQuotient(Delta);
  Matrix<double> alpha = V * A * U.transpose();
  for (Index t = 0; t < T; ++t) alpha.col(t) /= sigma[t];
  if (with_gradient) {
    const Vector<double> c = (Delta.cwiseInverse().array().colwise() * delta.array()).colwise().sum().transpose();
    const Matrix<double> scaled_U = sigma.cwiseInverse().asDiagonal() * U;
    const Matrix<double> G_B = 0.5 * alpha.transpose() * (Kx.selfadjointView<Eigen::Lower>() * alpha) -
                               0.5 * scaled_U * c.asDiagonal() * scaled_U.transpose();
    const Matrix<double> dL = 2.0 * G_B * term.L;

    // W = alpha B alpha^T - V diag(e) V^T (lower triangle), e_j = sum_k lambda_k / Delta[j, k] >= 0.
    const Vector<double> e = (Delta.cwiseInverse().array().rowwise() * lambda.transpose().array()).rowwise().sum();
    const Matrix<double> scaled_V = V * e.cwiseSqrt().asDiagonal();
    Matrix<double> W = Matrix<double>::Zero(n, n);
    W.selfadjointView<Eigen::Lower>().rankUpdate(scaled_V, -1.0);
    W.triangularView<Eigen::Lower>() += alpha * term.B * alpha.transpose();
    const Vector<double> kernel_gradient = weighted_covariance_gradient(
        kernel_only, rows, rows, true,
        [&](Index b, Index a0, Index m, double* w) { Eigen::Map<Vector<double>>(w, m) = W.col(b).segment(a0, m); },
        n_threads);

    const Vector<double> h = Delta.cwiseInverse().colwise().sum().transpose();
    const Vector<double> noise_gradient = 0.5 * noise_mean.noise.cwiseProduct(alpha.colwise().squaredNorm().transpose()) -
                                          0.5 * U.cwiseAbs2() * h;
    out.gradient.resize(covariance.n_parameters() + 2 * T);
    Index position = 0;
    for (Index i = 0; i < dL.rows(); ++i)
      for (Index j = 0; j < dL.cols(); ++j) out.gradient[position++] = dL(i, j);
    for (Index t = 0; t < T; ++t) out.gradient[position++] = term.kappa[t] * G_B(t, t);
    out.gradient.segment(position, term.kernel.n_theta) = 0.5 * kernel_gradient.tail(term.kernel.n_theta);
    position += term.kernel.n_theta;
    out.gradient.segment(position, T) = noise_gradient;
    out.gradient.tail(T) = alpha.colwise().sum().transpose();
  }
  if (keep_factors) {
    out.V = std::move(V);
    out.delta = std::move(delta);
    out.U = U;
    out.lambda = lambda;
    out.alpha = std::move(alpha);
  }
  return out;
}

}  // namespace multitask::gp
