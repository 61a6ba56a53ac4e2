// Rows of the SVM dual matrix Q_ij = y_i y_j B_{t(i) t(j)} k(x_i, x_j), computed
// on demand over the active (unshrunk) samples and kept in an LRU cache.
//
// The solver works on samples in "position" order: positions [0, n_active) are
// the active samples, kept in their original (task-sorted) relative order, so
// every task owns a contiguous segment of the active prefix. A cached row holds
// float values for the positions of the active prefix at the time it was
// computed. When the active set shrinks, cached rows are kept: a row is
// compacted to the kept positions when it is next used (one gather per shrink
// since it was computed), so a row is not recomputed for each shrink; when
// every sample becomes active again, the cache is emptied. Rows are stored as
// float (as LIBSVM does): half the memory traffic of double, and the gradient,
// which accumulates them, is kept in double.
//
// Reproducibility: every vectorised loop here writes to storage that Eigen
// allocated (aligned to EIGEN_MAX_ALIGN_BYTES), and reads the inputs from
// positioned_X_, a copy the solver owns, never from the caller's arrays. Eigen
// computes the entries before the first aligned address of a destination with
// scalar code (e.g. std::exp instead of its vectorised exp, which differ in the
// last bit), so with buffers at arbitrary addresses (malloc's, numpy's) the
// kernel rows, hence the working-set choices and the result, would change from
// one fit of the same data to the next (seen with AVX-512's 64-byte packets).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <new>
#include <vector>

#include <multitask/common/huge_pages.hpp>
#include <multitask/common/interrupt.hpp>
#include <multitask/kernels/multitask_gram.hpp>

namespace multitask {

/// LRU cache of float rows in one preallocated arena, all of the current
/// active length; rows computed before a shrink are compacted when next used.
class SvcRowCache {
 public:
  /// An arena of about `bytes` bytes (at least two rows are always kept).
  explicit SvcRowCache(double bytes) : bytes_(bytes) {}

  /// Empty the cache and cut the arena into slots of `row_length` floats for
  /// the `n_rows` possible rows; the arena is allocated once, at its largest.
  void reset(Index n_rows, Index row_length) {
    row_length_ = stride_ = std::max<Index>(row_length, 1);
    const double capacity = bytes_ / (sizeof(float) * static_cast<double>(stride_));
    n_slots_ = std::max<Index>(2, std::min<Index>(n_rows, static_cast<Index>(capacity)));
    const size_t needed = static_cast<size_t>(n_slots_) * static_cast<size_t>(stride_);
    if (arena_size_ < needed) allocate(needed);
    slot_of_row_.assign(static_cast<size_t>(n_rows), -1);
    row_of_slot_.assign(static_cast<size_t>(n_slots_), -1);
    slot_generation_.assign(static_cast<size_t>(n_slots_), 0);
    kept_.clear();
    // Doubly linked LRU list over the slots: head_ the most, tail_ the least recently used.
    previous_.resize(static_cast<size_t>(n_slots_));
    next_.resize(static_cast<size_t>(n_slots_));
    for (Index s = 0; s < n_slots_; ++s) {
      previous_[s] = s - 1;
      next_[s] = s + 1 < n_slots_ ? s + 1 : -1;
    }
    head_ = 0;
    tail_ = n_slots_ - 1;
  }

  Index n_slots() const { return n_slots_; }

  /// The slot holding `row` and whether it was already there. A miss takes the
  /// least recently used slot, whose contents the caller must then compute.
  std::pair<float*, bool> lookup(Index row) {
    Index slot = slot_of_row_[row];
    const bool hit = slot >= 0;
    float* values = arena_.get() + static_cast<size_t>(slot >= 0 ? slot : tail_) * static_cast<size_t>(stride_);
    if (!hit) {
      slot = tail_;
      if (row_of_slot_[slot] >= 0) slot_of_row_[row_of_slot_[slot]] = -1;
      row_of_slot_[slot] = row;
      slot_of_row_[row] = slot;
    } else {
      // Computed before the last shrinks: gather the kept columns of each shrink
      // in turn (kept positions are increasing, so the gather runs in place).
      for (size_t g = static_cast<size_t>(slot_generation_[slot]); g < kept_.size(); ++g) {
        const std::vector<Index>& kept = kept_[g];
        for (size_t k = 0; k < kept.size(); ++k) values[k] = values[kept[k]];
      }
    }
    slot_generation_[slot] = static_cast<Index>(kept_.size());
    move_to_front(slot);
    return {values, hit};
  }

  /// The active prefix shrinks to the positions `kept` (increasing, below the
  /// current length), which become positions 0, 1, ...: the cached rows of kept
  /// positions are renamed (and compacted when next used), the others freed.
  void shrink(const std::vector<Index>& kept) {
    std::vector<Index> new_position(static_cast<size_t>(row_length_), -1);
    for (size_t k = 0; k < kept.size(); ++k) new_position[kept[k]] = static_cast<Index>(k);
    std::fill(slot_of_row_.begin(), slot_of_row_.end(), -1);
    for (Index s = 0; s < n_slots_; ++s) {
      const Index row = row_of_slot_[s];
      if (row < 0) continue;
      row_of_slot_[s] = new_position[row];
      if (row_of_slot_[s] >= 0)
        slot_of_row_[row_of_slot_[s]] = s;
      else
        move_to_back(s);
    }
    kept_.push_back(kept);
    row_length_ = std::max<Index>(static_cast<Index>(kept.size()), 1);
  }

 private:
  /// An uninitialised arena of `size` floats: a page is faulted in only when a
  /// row is computed into it. Large arenas are asked for transparent huge pages
  /// (Linux), which cuts the page faults of first touch by 512.
  void allocate(size_t size) {
    constexpr size_t huge = size_t(1) << 21;
    const size_t bytes = (size * sizeof(float) + huge - 1) / huge * huge;
    arena_.reset(static_cast<float*>(aligned_allocate(huge, bytes)));
    advise_huge_pages(arena_.get(), bytes);
    arena_size_ = size;
  }

  void move_to_back(Index slot) {
    if (slot == tail_) return;
    if (slot == head_)
      head_ = next_[slot];
    else
      next_[previous_[slot]] = next_[slot];
    previous_[next_[slot]] = previous_[slot];
    previous_[slot] = tail_;
    next_[slot] = -1;
    next_[tail_] = slot;
    tail_ = slot;
  }

  void move_to_front(Index slot) {
    if (slot == head_) return;
    next_[previous_[slot]] = next_[slot];
    if (next_[slot] >= 0)
      previous_[next_[slot]] = previous_[slot];
    else
      tail_ = previous_[slot];
    previous_[slot] = -1;
    next_[slot] = head_;
    previous_[head_] = slot;
    head_ = slot;
  }

  struct Free {
    void operator()(float* p) const { aligned_release(p); }
  };
  double bytes_;
  Index row_length_ = 1, stride_ = 1, n_slots_ = 0, head_ = 0, tail_ = 0;
  std::unique_ptr<float, Free> arena_;
  size_t arena_size_ = 0;
  std::vector<Index> slot_of_row_, row_of_slot_, previous_, next_;
  std::vector<Index> slot_generation_;      // shrinks already applied to each slot's row
  std::vector<std::vector<Index>> kept_;    // the kept positions of every shrink since the reset
};

/// The samples of an SVM problem in position order and the rows of Q over the
/// active prefix. Samples are stacked task by task (layout); sample i uses the
/// input u(i): i itself for per-task inputs, i mod n for a shared design.
class SvcKernelRows {
  /// body(rows) with the inputs in position order, dense or sparse (defined
  /// first: the constructor uses it, and its return type is deduced).
  template <typename Body>
  decltype(auto) with_positioned_rows(Body&& body) const {
    return inputs_.sparse() ? body(positioned_sparse_) : body(positioned_X_);
  }

 public:
  SvcKernelRows(const KernelInputs<double>& inputs, const Matrix<double>& B, const TaskLayout& layout,
                const Vector<double>& y, double cache_bytes)
      : inputs_(inputs), B_(B), layout_(layout), cache_(cache_bytes) {
    const Index N = layout.n_samples();
    const std::vector<Index> task = layout.task_of();
    sample_.resize(N);
    task_.resize(N);
    input_.resize(N);
    y_ = y;
    const Index n = layout.n_inputs();
    for (Index i = 0; i < N; ++i) {
      sample_[i] = i;
      task_[i] = task[i];
      input_[i] = layout.shared ? i % n : i;
    }
    // Per-task inputs with a kernel: the active inputs, copied in position order
    // so that a row is one pass over contiguous memory. A shared design keeps its
    // n inputs: one kernel row over them serves all T tasks.
    if (inputs_.sparse())
      positioned_sparse_ = inputs_.X_sparse;  // (n_u, d), CSR
    else if (!inputs_.precomputed())
      positioned_X_ = inputs_.X;  // (n_u, d), column-major
    if (!inputs_.precomputed() && inputs_.kernel.kind == KernelKind::rbf)
      positioned_sq_ = with_positioned_rows([](const auto& rows) { return squared_row_norms<double>(rows); });
    diagonal_.resize(N);
    const Vector<double> k_diag =
        inputs_.precomputed()
            ? Vector<double>(inputs_.gram.diagonal())
            : inputs_.with_rows([&](const auto& X) { return kernel_diagonal<double>(inputs_.kernel, X); });
    for (Index i = 0; i < N; ++i) diagonal_[i] = B_(task_[i], task_[i]) * k_diag[input_[i]];
    if (!diagonal_.allFinite())
      throw NumericalError(std::string("MultiTaskSVC: the multi-task kernel B_tt k(x, x) is inf or NaN on the "
                                       "training inputs (an overflow of the input kernel: scale of X, gamma, coef0, "
                                       "degree; or a huge task_kernel); ") +
                           overflow_advice());
    values_.resize(n);
    if (!inputs_.precomputed() && inputs_.kernel.kind == KernelKind::rbf)
      float_values_.resize((n + kExpBlock - 1) / kExpBlock * kExpBlock);
    set_active(N);
  }

  Index n_active() const { return n_active_; }
  /// Original sample index, task, label and input of every position (N).
  const std::vector<Index>& sample() const { return sample_; }
  const std::vector<Index>& task() const { return task_; }
  const Vector<double>& y() const { return y_; }
  /// Q_ii of every position (N).
  const Vector<double>& diagonal() const { return diagonal_; }
  /// The active positions of task t: [task_begin(t), task_begin(t + 1)).
  Index task_begin(Index t) const { return task_begin_[t]; }

  /// Row p of Q over the active positions [0, n_active), as float.
  const float* row(Index p) {
    auto [values, hit] = cache_.lookup(p);
    if (!hit) compute_row(p, values);
    return values;
  }

  /// Keep the positions with keep[p] (p < n_active) active, moved to the front in
  /// their order, followed by the others; permutes `arrays` (each of length N,
  /// position-indexed) alike. Cached rows of kept positions stay cached.
  template <typename... Arrays>
  void shrink_to(const std::vector<char>& keep, Arrays&... arrays) {
    const Index N = static_cast<Index>(sample_.size());
    std::vector<Index> order;
    order.reserve(N);
    for (Index p = 0; p < n_active_; ++p)
      if (keep[p]) order.push_back(p);
    const Index n_keep = static_cast<Index>(order.size());
    for (Index p = 0; p < N; ++p)
      if (p >= n_active_ || !keep[p]) order.push_back(p);
    reorder(order, arrays...);
    set_active(n_keep, false);
    order.resize(static_cast<size_t>(n_keep));
    cache_.shrink(order);
  }

  /// Every position active again, back in the original (task-sorted) order so
  /// that tasks are contiguous; permutes `arrays` alike. Empties the cache.
  template <typename... Arrays>
  void unshrink(Arrays&... arrays) {
    const Index N = static_cast<Index>(sample_.size());
    std::vector<Index> order(static_cast<size_t>(N));
    for (Index p = 0; p < N; ++p) order[sample_[p]] = p;
    reorder(order, arrays...);
    set_active(N);
  }

  /// The decision values without intercept, f_t(x_u(p)) = sum_j y_j a_j B_{t t(j)} k(x_u(p), x_u(j)),
  /// at the positions `targets` (each at its own task): out[k] for targets[k].
  /// `alpha` (N, position-indexed). The kernel expansion of input_kernels.hpp over
  /// the inputs of the support vectors, in parallel.
  Vector<double> expansion_at(const std::vector<Index>& targets, const Vector<double>& alpha, int n_threads) const {
    const Index T = layout_.n_tasks(), n_u = layout_.n_inputs();
    // W_ut = sum_{j: u(j) = u} y_j a_j B_{t(j) t}: the expansion weights of every input.
    Matrix<double> W = Matrix<double>::Zero(n_u, T);
    const Index N = static_cast<Index>(sample_.size());
    for (Index p = 0; p < N; ++p)
      if (alpha[p] != 0) W.row(input_[p]) += (y_[p] * alpha[p]) * B_.row(task_[p]);
    std::vector<Index> support;
    for (Index u = 0; u < n_u; ++u)
      if (W.row(u).squaredNorm() > 0) support.push_back(u);
    const Index m = static_cast<Index>(targets.size());
    Vector<double> out = Vector<double>::Zero(m);
    if (support.empty() || m == 0) return out;
    std::vector<Index> target_inputs(static_cast<size_t>(m));
    for (Index k = 0; k < m; ++k) target_inputs[k] = input_[targets[k]];
    const Matrix<double> W_support = W(support, Eigen::all);
    Matrix<double> F;  // (m, T)
    if (inputs_.precomputed()) {
      const RowMatrix<double> rows = inputs_.gram(target_inputs, support);
      F.resize(m, T);
      parallel_product<double>(rows, W_support, F, n_threads);
    } else {
      // Over chunks of the support vectors, so that each (256, chunk) block of
      // kernel values that kernel_expansion forms stays in cache between its passes
      // (a block over all support vectors is megabytes, streamed from memory).
      constexpr Index chunk = 256;
      F = Matrix<double>::Zero(m, T);
      Matrix<double> F_chunk;
      const Index n_support = static_cast<Index>(support.size());
      inputs_.with_rows([&](const auto& X) {
        const auto X_targets = rows_of<double>(X, target_inputs);
        for (Index first = 0; first < n_support; first += chunk) {
          const Index count = std::min(chunk, n_support - first);
          const std::vector<Index> members(support.begin() + first, support.begin() + first + count);
          kernel_expansion<double>(inputs_.kernel, X_targets, rows_of<double>(X, members), W_support.middleRows(first, count),
                                   F_chunk, n_threads);
          F += F_chunk;
        }
      });
    }
    for (Index k = 0; k < m; ++k) out[k] = F(k, task_[targets[k]]);
    return out;
  }

 private:
  void set_active(Index n_active, bool reset_cache = true) {
    n_active_ = n_active;
    const Index T = layout_.n_tasks();
    task_begin_.assign(static_cast<size_t>(T + 1), n_active);
    for (Index p = n_active - 1; p >= 0; --p) task_begin_[task_[p]] = p;
    for (Index t = T - 1; t >= 0; --t) task_begin_[t] = std::min(task_begin_[t], task_begin_[t + 1]);
    if (reset_cache) cache_.reset(static_cast<Index>(sample_.size()), n_active);
  }

  /// k(x, row q of positioned_X_) for q < count: in float_values_ for the rbf
  /// kernel, else in values_. The rbf exponent -gamma ||x - x_q||^2 is formed in
  /// double as kernel_block forms it and exponentiated in float: the row is
  /// stored as float anyway, and Eigen's vectorised float exp is many times
  /// faster than a scalar exp (its error is below the rounding of the stored value).
  /// The exp runs over a whole number of blocks of kExpBlock floats from an
  /// aligned start (the padding exponentiates zeros), so that every entry goes
  /// through the same vectorised code: with a scalar tail, k(x_p, x_q) would
  /// round differently depending on the active length when the row is computed.
  template <typename Positioned>
  void kernel_row(const Positioned& positioned, Index u, double x_sq, Index count) {
    Eigen::Map<RowMatrix<double>> values(values_.data(), 1, count);
    const auto x = positioned.row(u);
    const auto rows = positioned.topRows(count);
    if (inputs_.kernel.kind != KernelKind::rbf) {
      kernel_block<double>(inputs_.kernel, x, rows, Vector<double>(), Vector<double>(), values);
      return;
    }
    InputKernel inner_product;
    inner_product.kind = KernelKind::linear;
    kernel_block<double>(inner_product, x, rows, Vector<double>(), Vector<double>(), values);
    const double gamma = inputs_.kernel.gamma;
    const double* inner = values_.data();
    const double* sq = positioned_sq_.data();
    float* exponent = float_values_.data();
    for (Index q = 0; q < count; ++q)
      exponent[q] = static_cast<float>(-gamma * std::max(x_sq + sq[q] - 2.0 * inner[q], 0.0));
    const Index padded = (count + kExpBlock - 1) / kExpBlock * kExpBlock;
    for (Index q = count; q < padded; ++q) exponent[q] = 0.0f;
    Eigen::Map<Eigen::ArrayXf, Eigen::AlignedMax> kernel(exponent, padded);
    kernel = kernel.exp();  // a pure float expression, so that Eigen vectorises the exp
  }

  /// out[q] = y_p y_q B_{t(p) t(q)} k(x_u(p), x_u(q)) for the active positions q.
  void compute_row(Index p, float* out) {
    const Index A = n_active_;
    const Index u = input_[p];
    // kernel values k(x_u(p), x_u(q)): over the active positions (per-task
    // inputs), or over all n inputs and read through u(q) (shared, precomputed).
    const bool rbf = !inputs_.precomputed() && inputs_.kernel.kind == KernelKind::rbf;
    if (inputs_.precomputed()) {
      scale_row(p, inputs_.gram.row(u).data(), true, out);
    } else if (layout_.shared) {
      with_positioned_rows([&](const auto& rows) { kernel_row(rows, u, rbf ? positioned_sq_[u] : 0.0, rows.rows()); });
      if (rbf)
        scale_row(p, float_values_.data(), true, out);
      else
        scale_row(p, values_.data(), true, out);
    } else {
      with_positioned_rows([&](const auto& rows) { kernel_row(rows, p, rbf ? positioned_sq_[p] : 0.0, A); });
      // distance 0 exactly, as kernel_diagonal has it
      if (rbf) {
        float_values_[p] = 1.0f;
        scale_row(p, float_values_.data(), false, out);
      } else {
        if (inputs_.kernel.kind == KernelKind::laplacian) values_[p] = 1.0;
        scale_row(p, values_.data(), false, out);
      }
    }
    // Rows are stored in float: beyond ~3.4e38 a value overflows even when the
    // double kernel does not. O(A), next to the O(A d) of computing the row.
    if (!Eigen::Map<const Eigen::ArrayXf>(out, A).allFinite())
      throw NumericalError(std::string("MultiTaskSVC: a value of the multi-task kernel B_st k(x, x') is inf or NaN, "
                                       "or beyond the float range (3.4e38) in which the solver stores kernel rows "
                                       "(scale of X, gamma, coef0, degree, or task_kernel); ") +
                           overflow_advice());
    poll_interrupt(static_cast<double>(A) * static_cast<double>(inputs_.n_features() + 2));
  }

  /// out[q] = y_p y_q B_{t(p) t(q)} kernel[q] (or kernel[u(q)] when `by_input`),
  /// one task segment at a time (constant B there); the product in double.
  template <typename Value>
  void scale_row(Index p, const Value* kernel, bool by_input, float* out) const {
    const double* y = y_.data();
    for (Index t = 0; t < layout_.n_tasks(); ++t) {
      const double scale = y[p] * B_(task_[p], t);
      const Index begin = task_begin_[t], end = task_begin_[t + 1];
      if (by_input)
        for (Index q = begin; q < end; ++q)
          out[q] = static_cast<float>(scale * y[q] * static_cast<double>(kernel[input_[q]]));
      else
        for (Index q = begin; q < end; ++q) out[q] = static_cast<float>(scale * y[q] * static_cast<double>(kernel[q]));
    }
  }

  /// Position k takes what position order[k] held.
  template <typename... Arrays>
  void reorder(const std::vector<Index>& order, Arrays&... arrays) {
    permute(order, sample_, task_, input_, y_, diagonal_, arrays...);
    if (!inputs_.precomputed() && !layout_.shared) {
      if (inputs_.sparse())
        positioned_sparse_ = select_rows<double>(positioned_sparse_, order);
      else
        positioned_X_ = Matrix<double>(positioned_X_(order, Eigen::all));
      if (positioned_sq_.size()) positioned_sq_ = Vector<double>(positioned_sq_(order));
    }
  }

  template <typename First, typename... Rest>
  static void permute(const std::vector<Index>& order, First& first, Rest&... rest) {
    First copy = first;
    for (size_t k = 0; k < order.size(); ++k) first[static_cast<Index>(k)] = copy[order[k]];
    if constexpr (sizeof...(Rest) > 0) permute(order, rest...);
  }

  KernelInputs<double> inputs_;
  Matrix<double> B_;  // (T, T)
  TaskLayout layout_;
  SvcRowCache cache_;
  std::vector<Index> sample_, task_, input_;  // (N) per position
  Vector<double> y_, diagonal_;               // (N) per position: labels +-1, Q_pp
  Matrix<double> positioned_X_;  // per-task inputs: (N, d) in position order; shared: the (n, d) inputs
  SparseRows<double> positioned_sparse_;  // the same for sparse inputs (positioned_X_ is then empty)
  Vector<double> positioned_sq_; // rbf: squared norms of positioned_X_'s rows
  std::vector<Index> task_begin_;  // (T + 1) task segments of the active prefix
  /// A multiple of every float packet size (16 floats: AVX-512).
  static constexpr Index kExpBlock = 16;
  // Eigen-allocated (aligned), see the top of the file.
  Vector<double> values_;          // kernel values of the row being computed (rbf: inner products)
  Eigen::ArrayXf float_values_;    // rbf: kernel values of the row being computed
  Index n_active_ = 0;
};

}  // namespace multitask
