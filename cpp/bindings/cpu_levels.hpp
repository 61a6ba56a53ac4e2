// Which x86-64 micro-architecture levels this CPU and its operating system run,
// from CPUID (through the compiler's builtins, or MSVC's intrinsics): the same
// answer on Linux, macOS and Windows. The baseline module answers for all the
// modules of an installation (python/multitask/_core.py).
#pragma once

#include <string>
#include <vector>

#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_AMD64))
#include <immintrin.h>
#include <intrin.h>
#endif

namespace multitask::bindings {

/// "baseline", then "x86-64-v3" (AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE) and
/// "x86-64-v4" (AVX-512 F/BW/CD/DQ/VL) where the CPU has them and the OS saves
/// their registers.
inline std::vector<std::string> cpu_isa_levels() {
  std::vector<std::string> levels{"baseline"};
  bool v3 = false, v4 = false;
#if (defined(__x86_64__) || defined(__amd64__)) && (defined(__GNUC__) || defined(__clang__))
  // libgcc's / compiler-rt's CPUID reading, which also checks XGETBV for the
  // OS's support of the AVX and AVX-512 register states.
  __builtin_cpu_init();
  v3 = __builtin_cpu_supports("avx") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
       __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt") &&
       __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("ssse3");
  v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
       __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_AMD64))
  int leaf1[4], leaf7[4], extended[4];
  __cpuid(leaf1, 1);
  __cpuidex(leaf7, 7, 0);
  __cpuid(extended, 0x80000001);
  auto bit = [](int reg, int n) { return ((static_cast<unsigned>(reg) >> n) & 1u) != 0; };
  const bool osxsave = bit(leaf1[2], 27);
  const unsigned long long xcr0 = osxsave ? _xgetbv(0) : 0;
  const bool avx_state = (xcr0 & 0x6) == 0x6, avx512_state = (xcr0 & 0xe6) == 0xe6;
  v3 = avx_state && bit(leaf1[2], 28) /* avx */ && bit(leaf7[1], 5) /* avx2 */ && bit(leaf1[2], 12) /* fma */ &&
       bit(leaf7[1], 3) /* bmi1 */ && bit(leaf7[1], 8) /* bmi2 */ && bit(leaf1[2], 29) /* f16c */ &&
       bit(leaf1[2], 22) /* movbe */ && bit(extended[2], 5) /* lzcnt */ && bit(leaf1[2], 20) /* sse4.2 */ &&
       bit(leaf1[2], 23) /* popcnt */;
  v4 = v3 && avx512_state && bit(leaf7[1], 16) /* f */ && bit(leaf7[1], 30) /* bw */ && bit(leaf7[1], 28) /* cd */ &&
       bit(leaf7[1], 17) /* dq */ && bit(leaf7[1], 31) /* vl */;
#endif
  if (v3) levels.push_back("x86-64-v3");
  if (v4) levels.push_back("x86-64-v4");
  return levels;
}

}  // namespace multitask::bindings
