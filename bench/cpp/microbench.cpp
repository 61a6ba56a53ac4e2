// Microbenchmarks of the multitask core (Google Benchmark), float64.
//
// Every benchmark generates its random problem once, with a fixed seed, outside
// the timing loop, and times only the kernel named in its comment. The core runs
// on one thread (its n_threads argument is 1 everywhere), so the numbers measure
// single-core throughput and do not depend on OMP_NUM_THREADS.
//
// Arguments are plain numbers (no ArgNames) so that a benchmark's name reads
// e.g. BM_cg_iteration/8/200/8; every benchmark has one tiny instance with 8 as
// a full path component, which CI selects with --benchmark_filter='/8/'.
//
// The FLOPS counter is a rate: floating-point operations of the timed kernel
// (counted as stated in each comment; lower-order terms dropped) per second.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <multitask/data/gram.hpp>
#include <multitask/objectives/coupled_system.hpp>
#include <multitask/solvers/block_factor.hpp>
#include <multitask/solvers/solve_exact.hpp>
#include <multitask/solvers/solve_low_rank_coupling.hpp>
#include <multitask/solvers/solve_task_bcd.hpp>
#include <multitask/solvers/solver_result.hpp>

namespace {

using multitask::Index;
using Scalar = double;
using Matrix = multitask::Matrix<Scalar>;
using RowMatrix = multitask::RowMatrix<Scalar>;
using Vector = multitask::Vector<Scalar>;

constexpr int kThreads = 1;               // n_threads given to the core
constexpr std::uint64_t kSeed = 20240501;  // fixed: the same data on every run
constexpr Scalar kAlpha = 0.1;
constexpr Scalar kMu = 0.1;

/// Mean-regularised coupling K = (1 + mu) I - 11^T / T (positive definite).   (T, T)
Matrix mean_regularized_coupling(Index T) {
  Matrix K = Matrix::Constant(T, T, -Scalar(1) / Scalar(T));
  K.diagonal().array() += Scalar(1) + kMu;
  return K;
}

/// Standard normal entries from the given generator.
template <typename Dense>
void fill_normal(Dense& m, std::mt19937_64& rng) {
  std::normal_distribution<Scalar> normal(0.0, 1.0);
  for (Index j = 0; j < m.size(); ++j) m.data()[j] = normal(rng);
}

/// Random regression data of T tasks, each n_t x d (or one shared n x d design),
/// with uniform task weights s_t = 1 / N and intercepts. The TaskData views point
/// into the matrices held here, so a problem is built in place and never moved.
class RandomProblem {
 public:
  RandomProblem(Index T, Index n_t, Index d, bool shared_design) : rng_(kSeed) {
    const Index n_designs = shared_design ? 1 : T;
    designs_.resize(n_designs);
    for (RowMatrix& X : designs_) {
      X.resize(n_t, d);
      fill_normal(X, rng_);
    }
    targets_.resize(T);
    for (Vector& y : targets_) {
      y.resize(n_t);
      fill_normal(y, rng_);
    }
    for (Index t = 0; t < T; ++t) {
      const RowMatrix& X = designs_[shared_design ? 0 : t];
      data.X.emplace_back(X.data(), X.rows(), X.cols());
      // VecMap has a run-time stride: give it (a default-constructed dynamic stride is not 1).
      data.y.emplace_back(targets_[t].data(), targets_[t].size(), Eigen::InnerStride<>(1));
    }
    data.sample_weight = Vector::Constant(T, Scalar(1) / Scalar(T * n_t));
    data.fit_intercept = true;
    data.shared_design = shared_design;
    data.validate();
    coupling = mean_regularized_coupling(T);
  }
  RandomProblem(const RandomProblem&) = delete;
  RandomProblem& operator=(const RandomProblem&) = delete;

  /// A (d, T) matrix of standard normal entries from the problem's generator.
  Matrix random_coefficients() {
    Matrix W(data.n_features(), data.n_tasks());
    fill_normal(W, rng_);
    return W;
  }

  multitask::TaskData<Scalar> data;
  Matrix coupling;  // (T, T)

 private:
  std::mt19937_64 rng_;
  std::vector<RowMatrix> designs_;  // T blocks (n_t, d), or one when shared
  std::vector<Vector> targets_;     // T vectors (n_t)
};

/// Flops of one product A_t v: 2 d^2 through the Gram, 4 n_t d through the data.
double gram_product_flops(const multitask::CoupledSystem<Scalar>& system, Index t) {
  const double d = double(system.n_features()), n = double(system.data().n_samples(t));
  return system.stats(t).has_gram() ? 2 * d * d : 4 * n * d;
}

/// Flops of one block solve (A_t + beta I)^{-1} r: two triangular solves (2 d^2)
/// on the Gram side; on the sample side (Woodbury) X~ r, the (n_t, n_t) solves
/// and X~^T u: 4 n_t d + 2 n_t^2.
double block_solve_flops(const multitask::CoupledSystem<Scalar>& system, Index t) {
  const double d = double(system.n_features()), n = double(system.data().n_samples(t));
  return system.stats(t).has_gram() ? 2 * d * d : 4 * n * d + 2 * n * n;
}

/// Sizes (T, n_t, d) of the per-task iterative solver benchmarks (CG, BCD).
void per_task_solver_sizes(benchmark::internal::Benchmark* family) {
  family->Args({8, 200, 8});     // tiny (CI)
  family->Args({50, 4000, 100});
  family->Args({50, 200, 100});
  family->Args({50, 30, 100});   // wide tasks: products through the data, Woodbury solves
  family->Args({139, 110, 28});  // the size of the school data set
}

void set_flops(benchmark::State& state, double flops_per_iteration) {
  state.counters["FLOPS"] = benchmark::Counter(flops_per_iteration, benchmark::Counter::kIsIterationInvariantRate);
}

// Per-task Gram statistics: multitask::task_statistics over T tasks of n_t x d
// (args: T, n_t, d), i.e. per-task means, centring, A_t = X~^T X~ (a symmetric
// rank update on row panels) and c_t = s_t X~^T y~. This reads the data once
// and is the floor of a squared-loss fit. Wide tasks (2 n_t < d) form no Gram.
// FLOPS: n_t d (d + 1) for the lower triangle of a Gram plus 2 n_t d for X~^T y~
// per task. Bytes: the size of the data X read (T n_t d doubles).
void BM_task_statistics(benchmark::State& state) {
  const Index T = state.range(0), n_t = state.range(1), d = state.range(2);
  RandomProblem problem(T, n_t, d, /*shared_design=*/false);
  const std::vector<char> force_gram(static_cast<std::size_t>(T), 0);
  for (auto _ : state) {
    auto stats = multitask::task_statistics(problem.data, kThreads, force_gram);
    benchmark::DoNotOptimize(stats.data());
    benchmark::ClobberMemory();
  }
  double flops = 0;
  for (Index t = 0; t < T; ++t) {
    const bool gram = !multitask::use_sample_side(problem.data, t);
    flops += (gram ? double(n_t) * d * (d + 1) : 0.0) + 2.0 * n_t * d;
  }
  set_flops(state, flops);
  state.SetBytesProcessed(state.iterations() * T * n_t * d * Index(sizeof(Scalar)));
}
BENCHMARK(BM_task_statistics)
    ->Args({8, 200, 8})  // tiny (CI)
    ->Args({50, 4000, 100})
    ->Args({50, 200, 100})
    ->Args({50, 30, 100})  // wide tasks: no Gram, only X~^T y~
    ->Unit(benchmark::kMillisecond);

// One preconditioned CG iteration (args: T, n_t, d): the two costs of an
// iteration that are not O(dT), namely one product with the coupled operator,
// CoupledSystem::apply (H(P) = [A_t p_t] + alpha P K), and one block-Jacobi
// preconditioner application Z = [(A_t + alpha K_tt I)^{-1} r_t] by
// factors[t].solve for every task. The factors (diagonal_block_factors) and the
// Grams are built outside the timing loop; the O(dT) vector updates of CG are
// not timed. solve_cg may choose the Kronecker preconditioner instead; this
// benchmark always measures block-Jacobi.
// FLOPS: 2 d T^2 for P K plus, per task, one A_t product and one block solve
// (2 d^2 each on the Gram side; see gram_product_flops / block_solve_flops).
void BM_cg_iteration(benchmark::State& state) {
  const Index T = state.range(0), n_t = state.range(1), d = state.range(2);
  RandomProblem problem(T, n_t, d, /*shared_design=*/false);
  const multitask::CoupledSystem<Scalar> system(problem.data, problem.coupling, kAlpha, kThreads,
                                                /*form_all_grams=*/false);
  const std::vector<multitask::BlockFactor<Scalar>> factors = multitask::diagonal_block_factors(system);
  const Matrix P = problem.random_coefficients();  // search direction (d, T)
  const Matrix R = problem.random_coefficients();  // residual (d, T)
  Matrix HP(d, T), Z(d, T);
  for (auto _ : state) {
    system.apply(P, HP);
    for (Index t = 0; t < T; ++t) Z.col(t) = factors[t].solve(R.col(t));
    benchmark::DoNotOptimize(HP.data());
    benchmark::DoNotOptimize(Z.data());
    benchmark::ClobberMemory();
  }
  double flops = 2.0 * d * T * T;
  for (Index t = 0; t < T; ++t) flops += gram_product_flops(system, t) + block_solve_flops(system, t);
  set_flops(state, flops);
}
BENCHMARK(BM_cg_iteration)->Apply(per_task_solver_sizes)->Unit(benchmark::kMicrosecond);

// One BCD sweep (args: T, n_t, d): bcd_sweep of solve_task_bcd.hpp, the sweep alone:
//     P = W K;  for each t:  w_t <- (A_t + alpha K_tt I)^{-1} (c_t - alpha (p_t - K_tt w_t)),
//                            P += (w_t_new - w_t) K_t.
// Factors and Grams are built outside the timing loop; each iteration is a
// further sweep from where the previous one stopped (the cost does not depend
// on W). The residual evaluation solve_task_bcd adds per sweep is not timed here; see
// BM_bcd_solve_one_sweep for the whole call.
// FLOPS: 2 d T^2 for W K plus, per task, one block solve and 2 d T for the
// rank-one update of P.
void BM_bcd_sweep(benchmark::State& state) {
  const Index T = state.range(0), n_t = state.range(1), d = state.range(2);
  RandomProblem problem(T, n_t, d, /*shared_design=*/false);
  const multitask::CoupledSystem<Scalar> system(problem.data, problem.coupling, kAlpha, kThreads,
                                                /*form_all_grams=*/false);
  const std::vector<multitask::BlockFactor<Scalar>> factors = multitask::diagonal_block_factors(system);
  Matrix W = Matrix::Zero(d, T), P(d, T);
  for (auto _ : state) {
    multitask::bcd_sweep(system, factors, W, P);
    benchmark::DoNotOptimize(W.data());
    benchmark::ClobberMemory();
  }
  double flops = 2.0 * d * T * T;
  for (Index t = 0; t < T; ++t) flops += block_solve_flops(system, t) + 2.0 * d * T;
  set_flops(state, flops);
}

// The whole call solve_task_bcd(system, {max_iter = 1, tol = 0}) from W = 0 (args:
// T, n_t, d): what one sweep costs through the solver's entry point, i.e. the
// sweep of BM_bcd_sweep plus the factorisation of every diagonal block (T
// Cholesky factorisations, d^3 / 3 each on the Gram side) and two residual
// evaluations H(W) - C (before and after the sweep). The Grams are built
// outside the timing loop. No FLOPS counter: the factorisations dominate.
void BM_bcd_solve_one_sweep(benchmark::State& state) {
  const Index T = state.range(0), n_t = state.range(1), d = state.range(2);
  RandomProblem problem(T, n_t, d, /*shared_design=*/false);
  const multitask::CoupledSystem<Scalar> system(problem.data, problem.coupling, kAlpha, kThreads,
                                                /*form_all_grams=*/false);
  multitask::SolverOptions options;
  options.max_iter = 1;
  options.tol = 0;
  options.n_threads = kThreads;
  for (auto _ : state) {
    multitask::SolverResult<Scalar> result;
    result.coef = Matrix::Zero(d, T);
    multitask::solve_task_bcd(system, options, result);
    benchmark::DoNotOptimize(result.coef.data());
    benchmark::ClobberMemory();
  }
}

BENCHMARK(BM_bcd_sweep)->Apply(per_task_solver_sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_bcd_solve_one_sweep)->Apply(per_task_solver_sizes)->Unit(benchmark::kMicrosecond);

// The exact solver of a shared design (args: n, d, T): sylvester_solver(system).solve on a
// CoupledSystem built with shared_design = true, solving G W S + alpha W K = C.
// Timed: the whole call, i.e. set-up (Householder tridiagonalisation of the
// (d, d) Gram, eigendecomposition of the (T, T) scaled coupling) and the solve
// (back and forth through both bases plus T tridiagonal solves). The Gram and
// C = X^T Y~ are formed outside the timing loop, so n only matters there.
// FLOPS (nominal): 4/3 d^3 + 9 T^3 (set-up) + 4 d^2 T + 4 d T^2 (solve).
void BM_sylvester(benchmark::State& state) {
  const Index n = state.range(0), d = state.range(1), T = state.range(2);
  RandomProblem problem(T, n, d, /*shared_design=*/true);
  const multitask::CoupledSystem<Scalar> system(problem.data, problem.coupling, kAlpha, kThreads,
                                                /*form_all_grams=*/false);
  for (auto _ : state) {
    Matrix W = multitask::sylvester_solver(system).solve(system.rhs());
    benchmark::DoNotOptimize(W.data());
    benchmark::ClobberMemory();
  }
  const double dd = double(d), tt = double(T);
  set_flops(state, 4.0 / 3.0 * dd * dd * dd + 9.0 * tt * tt * tt + 4.0 * dd * dd * tt + 4.0 * dd * tt * tt);
}
BENCHMARK(BM_sylvester)
    ->Args({8, 8, 8})  // tiny (CI)
    ->Args({5000, 300, 100})
    ->Args({2000, 100, 20})
    ->Unit(benchmark::kMillisecond);

// The exact solver of per-task designs with the mean-regularised coupling (args: n_t, d, T), diagonalised:
// LowRankCouplingSolver (Woodbury, K = c I + rank one) re-shifted to an alpha and solved,
// as each alpha of a path does; the diagonalisations of the T Grams are outside the timing.
// FLOPS (nominal): 2 T d^3 (the capacitance's symmetric rank update: T d outer products of
// length d) + 8 T d^2 (two applications of the block inverse) + 2 d T^2 (H W, the coupling).
void BM_low_rank_coupling_alpha(benchmark::State& state) {
  const Index n_t = state.range(0), d = state.range(1), T = state.range(2);
  RandomProblem problem(T, n_t, d, /*shared_design=*/false);
  multitask::CoupledSystem<Scalar> system(problem.data, problem.coupling, kAlpha, kThreads,
                                          /*form_all_grams=*/true);
  auto split = multitask::low_rank_coupling_split(problem.coupling, d);
  if (!split) {
    state.SkipWithError("the coupling has no low-rank split");
    return;
  }
  multitask::LowRankCouplingSolver<Scalar> solver(system, std::move(*split), /*diagonalise=*/true);
  Scalar alpha = kAlpha;
  for (auto _ : state) {
    alpha = alpha == kAlpha ? Scalar(2) * kAlpha : kAlpha;  // a new alpha each time, as along a path
    system.set_alpha(alpha);
    solver.set_alpha(alpha);
    Matrix W = solver.solve(system);
    benchmark::DoNotOptimize(W.data());
    benchmark::ClobberMemory();
  }
  const double dd = double(d), tt = double(T);
  set_flops(state, 2.0 * tt * dd * dd * dd + 8.0 * tt * dd * dd + 2.0 * dd * tt * tt);
}
BENCHMARK(BM_low_rank_coupling_alpha)
    ->Args({8, 4, 8})  // tiny (CI)
    ->Args({110, 27, 139})  // School's shape
    ->Unit(benchmark::kMicrosecond);


}  // namespace

BENCHMARK_MAIN();
