// In-place blocked Cholesky factorisation A = L L^T with the trailing updates
// in parallel (OpenMP), for the dense kernel systems (N up to about 10^4).
// Eigen's own LLT is sequential under EIGEN_DONT_PARALLELIZE.
#pragma once

#include <algorithm>
#include <Eigen/Cholesky>

#include <multitask/common/parallel.hpp>

namespace multitask {

/// Columns per panel of the blocked factorisation: the depth k of the trailing
/// GEMMs. Measured at n = 5000 on one AVX-512 core, 128 (to 160) factorises
/// about 20% faster than 256: a deeper panel makes each GEMM call stream a
/// longer packed block of L_jk through the caches for the same flops, and the
/// extra triangular-solve flops of a narrower panel (n^2 kb / 2) stay small.
constexpr Index cholesky_panel = 128;

/// Factorises the symmetric positive definite A (n, n), of which only the lower
/// triangle is read, in place: on return the lower triangle holds L with
/// A = L L^T (the strictly upper triangle is overwritten with scratch values).
/// Right-looking blocked algorithm, for each panel k of columns:
///     A_kk = L_kk L_kk^T                   (Eigen's LLT of a diagonal block)
///     L_ik = A_ik L_kk^{-T}                (triangular solves, parallel over row blocks i > k)
///     A_ij -= L_ik L_jk^T  for i >= j > k  (parallel over column blocks j: the
///                                          lower triangle of A_jj, then a GEMM below it)
/// Every entry is updated by one thread in a fixed order, so the factor does not
/// depend on the thread count. Returns false when a pivot is not positive (A is
/// not positive definite to working precision); pivots are the diagonal of L.
template <typename Scalar>
bool cholesky_in_place(Matrix<Scalar>& A, int n_threads) {
  const Index n = A.rows();
  const Index n_panels = (n + cholesky_panel - 1) / cholesky_panel;
  for (Index panel = 0; panel < n_panels; ++panel) {
    poll_interrupt();  // between panels, outside the parallel regions
    const Index k = panel * cholesky_panel, kb = std::min(cholesky_panel, n - k);
    Eigen::Ref<Matrix<Scalar>> A_kk = A.block(k, k, kb, kb);
    Eigen::LLT<Eigen::Ref<Matrix<Scalar>>> diagonal(A_kk);  // in place
    if (diagonal.info() != Eigen::Success) return false;
    const Index below = n - k - kb;
    if (below == 0) break;
    const auto L_kk = A.block(k, k, kb, kb).template triangularView<Eigen::Lower>();
    const Index n_below = (below + cholesky_panel - 1) / cholesky_panel;
    const double work = static_cast<double>(below) * static_cast<double>(below) * static_cast<double>(kb);
    const int threads = threads_for_work(work, n_threads);
    // Polled between batches of blocks: one panel's updates are ~n^2 kb flops, seconds at n ~ 10^4.
    const double solve_work = static_cast<double>(cholesky_panel) * static_cast<double>(kb) * static_cast<double>(kb);
    parallel_for_interruptible(n_below, threads, solve_work, [&](Index block) {
      const Index i = k + kb + block * cholesky_panel, rows = std::min(cholesky_panel, n - i);
      // L_ik = A_ik L_kk^{-T}, i.e. L_kk L_ik^T = A_ik^T.
      auto A_ik = A.block(i, k, rows, kb);
      L_kk.transpose().template solveInPlace<Eigen::OnTheRight>(A_ik);
    });
    const double update_work = 2.0 * static_cast<double>(cholesky_panel) * static_cast<double>(below) *
                               static_cast<double>(kb);  // an upper bound per column block
    parallel_for_interruptible(n_below, threads, update_work, [&](Index block) {
      const Index j = k + kb + block * cholesky_panel, cols = std::min(cholesky_panel, n - j);
      // Rows i >= j of column block j, the lower part of the trailing matrix, in
      // one GEMM (one BLAS call). It also writes the strict upper triangle of the
      // diagonal block A_jj, which is scratch: only the lower triangle is ever
      // read. (The triangular product alone would save half of A_jj's flops, but
      // it is not a BLAS routine and would run in Eigen's portable kernel.)
      const auto L_jk = A.block(j, k, cols, kb);
      A.block(j, j, n - j, cols).noalias() -= A.block(j, k, n - j, kb) * L_jk.transpose();
    });
  }
  return true;
}

/// Solves L L^T X = RHS in place for the factor of cholesky_in_place; RHS (n, m).
template <typename Scalar, typename Rhs>
void cholesky_solve_in_place(const Matrix<Scalar>& L, Rhs& rhs) {
  L.template triangularView<Eigen::Lower>().solveInPlace(rhs);
  L.template triangularView<Eigen::Lower>().transpose().solveInPlace(rhs);
}

}  // namespace multitask
