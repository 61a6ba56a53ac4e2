// Checks and one-thread timings of the band reduction (linalg/band_reduction.hpp)
// against the factorisations and the tridiagonal reduction it competes with.
//
//   band_reduction_bench check              correctness on small sizes (exit status 1 on failure)
//   band_reduction_bench time N REPEATS B1 B2 ...
//                                           median times at size N: Eigen's LLT, cholesky_in_place,
//                                           the tridiagonal reduction, the band reduction for each
//                                           bandwidth, and one shifted band factorisation + solve
//
// Checks (independent references): P B P^T = G to 1e-12 relative (Frobenius),
// B is banded, and (G + alpha I)^{-1} Y through the band route equals Eigen's
// dense LLT solve; a matrix that is not positive definite makes the shifted
// factorisation fail. Plain main (no Google Benchmark), so that it also builds
// with only a compiler and Eigen:
//   g++ -O3 -march=x86-64-v3 -fopenmp -DEIGEN_DONT_PARALLELIZE -I cpp/include -I <eigen3>
//       bench/cpp/band_reduction_bench.cpp -o /tmp/band_bench   (one line)

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <multitask/linalg/band_reduction.hpp>
#include <multitask/linalg/blocked_tridiagonalization.hpp>
#include <multitask/linalg/parallel_cholesky.hpp>
#include <multitask/linalg/tridiagonal_solve.hpp>

namespace {

using multitask::Index;
using Matrix = multitask::Matrix<double>;
using Vector = multitask::Vector<double>;

/// A Gaussian-kernel-like positive semidefinite matrix with a spread spectrum:
/// G = X X^T / d + noise on the diagonal, X (n, d) standard normal.
Matrix random_spd(Index n, std::uint64_t seed, double diagonal = 1e-3) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  const Index d = std::max<Index>(1, n / 2);
  Matrix X(n, d);
  for (Index j = 0; j < X.size(); ++j) X.data()[j] = normal(rng);
  Matrix G = X * X.transpose() / static_cast<double>(d);
  G.diagonal().array() += diagonal;
  return G;
}

/// Full symmetric B from its compact lower band storage.
Matrix dense_band(const Matrix& band) {
  const Index n = band.cols(), b = band.rows() - 1;
  Matrix B = Matrix::Zero(n, n);
  for (Index j = 0; j < n; ++j)
    for (Index d = 0; d <= b && j + d < n; ++d) B(j + d, j) = B(j, j + d) = band(d, j);
  return B;
}

bool check_one(Index n, Index b) {
  const Matrix G = random_spd(n, 1000 + static_cast<std::uint64_t>(n) * 7 + static_cast<std::uint64_t>(b));
  Matrix lower = G;
  lower.triangularView<Eigen::StrictlyUpper>().setConstant(1e300);  // the upper triangle must not be read
  const multitask::BandReduction<double> reduction(lower, b);
  const Matrix B = dense_band(reduction.band());
  const Matrix PB = reduction.from_basis(B);
  const Matrix PBPt = reduction.from_basis(Matrix(PB.transpose()));  // P (P B)^T = P B P^T
  const double reconstruction = (PBPt - G).norm() / G.norm();
  // P is orthogonal: P^T (P X) = X.
  Matrix Y(n, 3);
  std::mt19937_64 rng(static_cast<std::uint64_t>(n));
  std::normal_distribution<double> normal;
  for (Index j = 0; j < Y.size(); ++j) Y.data()[j] = normal(rng);
  const double roundtrip = (reduction.to_basis(reduction.from_basis(Y)) - Y).norm() / Y.norm();
  // Shifted solves against Eigen's dense LLT.
  double solve_error = 0;
  for (double alpha : {1e-6, 1e-2, 1.0, 100.0}) {
    multitask::ShiftedBandFactor<double> factor;
    const double floor = multitask::singular_pivot_floor(reduction.diagonal_scale() + alpha, n);
    if (!factor.factor(reduction.band(), alpha, floor)) {
      std::printf("n=%ld b=%ld alpha=%g: positive definite system rejected\n", long(n), long(b), alpha);
      return false;
    }
    Matrix Z = reduction.to_basis(Y);
    factor.solve_in_place(Z);
    const Matrix ours = reduction.from_basis(Z);
    const Matrix reference = (G + alpha * Matrix::Identity(n, n)).llt().solve(Y);
    solve_error = std::max(solve_error, (ours - reference).norm() / reference.norm());
  }
  // Not positive definite: G - 2 lambda_min... simply G - 2 I with G's smallest eigenvalue < 2.
  multitask::ShiftedBandFactor<double> indefinite;
  const bool rejected = !indefinite.factor(reduction.band(), -2.0 * G.diagonal().maxCoeff(), 0.0);
  const bool ok = reconstruction < 1e-12 && roundtrip < 1e-12 && solve_error < 1e-8 && rejected;
  std::printf("n=%5ld b=%3ld  |PBP^T-G|/|G| %.1e  |P^T P Y - Y| %.1e  solve %.1e  indefinite rejected %d  %s\n",
              long(n), long(b), reconstruction, roundtrip, solve_error, int(rejected), ok ? "ok" : "FAIL");
  return ok;
}

int check() {
  bool ok = true;
  for (Index b : {1, 2, 5, 16, 32, 64})
    for (Index n : {Index(1), Index(2), Index(3), b, b + 1, 2 * b + 3, Index(500)}) ok = check_one(n, b) && ok;
  std::printf(ok ? "all checks passed\n" : "SOME CHECKS FAILED\n");
  return ok ? 0 : 1;
}

double median_seconds(int repeats, const std::function<void()>& run) {
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    run();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

int time(Index n, int repeats, const std::vector<Index>& widths) {
  const Matrix G = random_spd(n, 42);
  volatile double sink = 0;
  const double llt = median_seconds(repeats, [&] { sink = sink + Eigen::LLT<Matrix>(G).matrixLLT()(n - 1, n - 1); });
  const double blocked = median_seconds(repeats, [&] {
    Matrix A = G;
    multitask::cholesky_in_place(A, 1);
    sink = sink + A(n - 1, n - 1);
  });
  const double tridiagonal = median_seconds(repeats, [&] {
    const multitask::TridiagonalReduction<double> reduction(G);
    sink = sink + reduction.main[0];
  });
  std::printf("n = %ld, one thread, median of %d\n", long(n), repeats);
  std::printf("  Eigen LLT            %8.3f s\n", llt);
  std::printf("  cholesky_in_place    %8.3f s\n", blocked);
  std::printf("  tridiagonal          %8.3f s  = %5.2f LLT = %5.2f cholesky_in_place\n", tridiagonal,
              tridiagonal / llt, tridiagonal / blocked);
  for (Index b : widths) {
    const double band = median_seconds(repeats, [&] {
      const multitask::BandReduction<double> reduction(G, b);
      sink = sink + reduction.band()(0, 0);
    });
    const multitask::BandReduction<double> reduction(G, b);
    Matrix rhs = Matrix::Ones(n, 5);
    const double shifted = median_seconds(repeats, [&] {
      multitask::ShiftedBandFactor<double> factor;
      factor.factor(reduction.band(), 1e-2, 0.0);
      Matrix solved = rhs;
      factor.solve_in_place(solved);
      sink = sink + solved(0, 0);
    });
    std::printf("  band b = %3ld         %8.3f s  = %5.2f LLT = %5.2f cholesky_in_place;"
                "  shifted factor + 5 solves %.4f s\n",
                long(b), band, band / llt, band / blocked, shifted);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "check";
  if (mode == "check") return check();
  if (mode == "time" && argc > 3) {
    std::vector<Index> widths;
    for (int i = 4; i < argc; ++i) widths.push_back(std::atol(argv[i]));
    if (widths.empty()) widths.push_back(multitask::band_reduction_width);
    return time(std::atol(argv[2]), std::atoi(argv[3]), widths);
  }
  std::fprintf(stderr, "usage: %s check | time N REPEATS [BANDWIDTH ...]\n", argv[0]);
  return 2;
}
