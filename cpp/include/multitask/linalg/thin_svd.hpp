// The thin SVD A = U diag(s) V^T of a dense matrix, behind the trace norm.
//
// Where the build provides LAPACK (MULTITASK_USE_LAPACK: the Python extension,
// which forwards dgesdd_ to SciPy's LAPACK, see cpp/bindings/scipy_blas.cpp) it
// is LAPACK's divide-and-conquer dgesdd, the routine numpy.linalg.svd runs;
// otherwise Eigen's BDCSVD, the same algorithm, which costs about a minute of
// compile time per scalar type.
#pragma once

#include <algorithm>
#include <vector>

#include <multitask/common/types.hpp>

#ifdef MULTITASK_USE_LAPACK
extern "C" int dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda, double* s, double* u,
                       const int* ldu, double* vt, const int* ldvt, double* work, const int* lwork, int* iwork,
                       int* info);
#else
#include <Eigen/SVD>
#endif

namespace multitask {

struct ThinSvd {
  Matrix<double> U;          // (m, k), k = min(m, n); empty without vectors
  Vector<double> singular;   // (k), descending
  Matrix<double> Vt;         // (k, n); empty without vectors
};

/// The thin SVD of A (m, n); the singular vectors only if `vectors`.
inline ThinSvd thin_svd(Matrix<double> A, bool vectors) {
  const Index k = std::min(A.rows(), A.cols());
  ThinSvd svd;
  svd.singular.resize(k);
  if (k == 0) return svd;
  if (vectors) {
    svd.U.resize(A.rows(), k);
    svd.Vt.resize(k, A.cols());
  }
#ifdef MULTITASK_USE_LAPACK
  require(A.rows() <= Index{2147483647} && A.cols() <= Index{2147483647}, "the SVD needs dimensions below 2^31");
  const int m = static_cast<int>(A.rows()), n = static_cast<int>(A.cols()), kk = static_cast<int>(k);
  const char job = vectors ? 'S' : 'N';
  double unused = 0;  // U and V^T are not referenced for job 'N', but their leading dimensions must be >= 1
  double* u = vectors ? svd.U.data() : &unused;
  double* vt = vectors ? svd.Vt.data() : &unused;
  const int ldu = vectors ? m : 1, ldvt = vectors ? kk : 1;
  std::vector<int> iwork(8 * static_cast<std::size_t>(k));
  int lwork = -1, info = 0;
  double optimal_work = 0;  // workspace query first
  dgesdd_(&job, &m, &n, A.data(), &m, svd.singular.data(), u, &ldu, vt, &ldvt, &optimal_work, &lwork, iwork.data(),
          &info);
  lwork = std::max(1, static_cast<int>(optimal_work));
  std::vector<double> work(static_cast<std::size_t>(lwork));
  if (info == 0)
    dgesdd_(&job, &m, &n, A.data(), &m, svd.singular.data(), u, &ldu, vt, &ldvt, work.data(), &lwork, iwork.data(),
            &info);
  if (info != 0) throw NumericalError("the SVD (LAPACK dgesdd) did not converge");
#else
  const Eigen::BDCSVD<Matrix<double>> eigen_svd(A, vectors ? Eigen::ComputeThinU | Eigen::ComputeThinV : 0);
  svd.singular = eigen_svd.singularValues();
  if (vectors) {
    svd.U = eigen_svd.matrixU();
    svd.Vt = eigen_svd.matrixV().transpose();
  }
#endif
  return svd;
}

}  // namespace multitask
