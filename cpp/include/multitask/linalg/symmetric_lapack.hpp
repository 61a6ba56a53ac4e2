// Dense symmetric routines of the Gaussian process: the inverse from a Cholesky
// factor and the eigendecomposition, in float64.
//
// Where the build provides LAPACK (MULTITASK_USE_LAPACK: the Python extension,
// which forwards dpotri_ and dsyevd_ to SciPy's LAPACK, see
// cpp/bindings/scipy_blas.cpp) they are LAPACK's dpotri (2n^3/3 flops) and the
// divide-and-conquer dsyevd, the routine numpy.linalg.eigh runs; otherwise
// Eigen's triangular solves and SelfAdjointEigenSolver (correct, slower beyond a
// few hundred rows: for the standalone C++ checks).
#pragma once

#include <algorithm>
#include <vector>

#include <multitask/common/types.hpp>

#ifdef MULTITASK_USE_LAPACK
extern "C" int dpotri_(const char* uplo, const int* n, double* a, const int* lda, int* info);
extern "C" int dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
                       double* work, const int* lwork, int* iwork, const int* liwork, int* info);
#else
#include <Eigen/Eigenvalues>
#endif

namespace multitask {

namespace detail {
inline int lapack_dimension(Index n) {
  require(n <= Index{2147483647}, "LAPACK needs dimensions below 2^31");
  return static_cast<int>(n);
}
}  // namespace detail

/// A^{-1} in place from the Cholesky factor A = L L^T held in the lower triangle
/// of `factor` (n, n): on return its lower triangle holds the lower triangle of
/// A^{-1}; the strict upper triangle is left as it was.
inline void inverse_from_cholesky(Matrix<double>& factor) {
  const Index n = factor.rows();
  if (n == 0) return;
#ifdef MULTITASK_USE_LAPACK
  const int m = detail::lapack_dimension(n);
  int info = 0;
  const char lower = 'L';
  dpotri_(&lower, &m, factor.data(), &m, &info);
  if (info != 0) throw NumericalError("the inverse from the Cholesky factor (LAPACK dpotri) failed");
#else
  // L^{-1} by a triangular solve, then A^{-1} = L^{-T} L^{-1}.
  Matrix<double> inverse_factor = Matrix<double>::Identity(n, n);
  factor.triangularView<Eigen::Lower>().solveInPlace(inverse_factor);
  const Matrix<double> inverse = inverse_factor.transpose() * inverse_factor.triangularView<Eigen::Lower>();
  factor.triangularView<Eigen::Lower>() = inverse;
#endif
}

/// The eigendecomposition A = V diag(w) V^T of the symmetric A (n, n), of which
/// only the lower triangle is read; eigenvalues ascending. A is overwritten by V.
inline Vector<double> symmetric_eigen_in_place(Matrix<double>& A) {
  const Index n = A.rows();
  Vector<double> eigenvalues(n);
  if (n == 0) return eigenvalues;
#ifdef MULTITASK_USE_LAPACK
  const int m = detail::lapack_dimension(n);
  const char vectors = 'V', lower = 'L';
  int lwork = -1, liwork = -1, info = 0, optimal_iwork = 0;
  double optimal_work = 0;  // workspace query first
  dsyevd_(&vectors, &lower, &m, A.data(), &m, eigenvalues.data(), &optimal_work, &lwork, &optimal_iwork, &liwork,
          &info);
  lwork = std::max(1, static_cast<int>(optimal_work));
  liwork = std::max(1, optimal_iwork);
  std::vector<double> work(static_cast<std::size_t>(lwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork));
  if (info == 0)
    dsyevd_(&vectors, &lower, &m, A.data(), &m, eigenvalues.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
  if (info != 0) throw NumericalError("the symmetric eigendecomposition (LAPACK dsyevd) did not converge");
#else
  Eigen::SelfAdjointEigenSolver<Matrix<double>> solver(A, Eigen::ComputeEigenvectors);
  if (solver.info() != Eigen::Success) throw NumericalError("the symmetric eigendecomposition did not converge");
  eigenvalues = solver.eigenvalues();
  A = solver.eigenvectors();
#endif
  return eigenvalues;
}

}  // namespace multitask
