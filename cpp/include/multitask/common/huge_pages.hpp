// Allocation of large dense matrices backed by transparent huge pages.
//
// A freshly allocated N x N matrix (200 MB at N = 5000) is faulted in page by
// page on first touch: with 4 KiB pages that is ~50 000 page faults, about 60 ms
// on one core, more than forming the rbf Gram itself. Where the kernel runs
// transparent huge pages in "madvise" mode (the common default), asking for
// 2 MiB pages before the first touch cuts the faults 512-fold and the TLB misses
// of the strided column accesses of the factorisation with them.
#pragma once

#include <cstddef>
#include <cstdint>

#include <multitask/common/types.hpp>

#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif
#if defined(_WIN32)
#include <malloc.h>
#endif

namespace multitask {

/// Below this many bytes huge pages are not worth asking for.
constexpr std::size_t huge_page_min_bytes = std::size_t{8} << 20;

/// Advises the kernel to back the whole pages inside [data, data + bytes) with
/// huge pages (Linux, before the first write; madvise needs a page-aligned
/// start). A hint only: no effect where transparent huge pages are off.
inline void advise_huge_pages(void* data, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (bytes < huge_page_min_bytes) return;
  constexpr std::uintptr_t page = 4096;
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t first = (begin + page - 1) & ~(page - 1), end = (begin + bytes) & ~(page - 1);
  if (end > first) madvise(reinterpret_cast<void*>(first), end - first, MADV_HUGEPAGE);  // failure is harmless
#else
  (void)data;
  (void)bytes;
#endif
}

/// `bytes` of uninitialised memory aligned to `alignment` (a power of two, a
/// multiple of sizeof(void*)); release it with aligned_release. One helper for
/// every platform: std::aligned_alloc is missing from MSVC and from macOS < 10.15.
inline void* aligned_allocate(std::size_t alignment, std::size_t bytes) {
#if defined(_WIN32)
  void* memory = _aligned_malloc(bytes, alignment);
#else
  void* memory = nullptr;
  if (posix_memalign(&memory, alignment, bytes) != 0) memory = nullptr;
#endif
  if (memory == nullptr) throw std::bad_alloc();
  return memory;
}

/// Frees memory from aligned_allocate (nullptr is fine).
inline void aligned_release(void* memory) {
#if defined(_WIN32)
  _aligned_free(memory);
#else
  std::free(memory);
#endif
}

/// Resizes A to (rows, cols) and, for a large fresh allocation, advises huge pages.
template <typename Scalar>
void resize_with_huge_pages(Matrix<Scalar>& A, Index rows, Index cols) {
  if (A.rows() == rows && A.cols() == cols) return;  // no new allocation: nothing to advise
  A.resize(rows, cols);
  advise_huge_pages(A.data(), static_cast<std::size_t>(A.size()) * sizeof(Scalar));
}

}  // namespace multitask
