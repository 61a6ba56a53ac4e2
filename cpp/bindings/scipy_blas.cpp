// Eigen's BLAS back-end (EIGEN_USE_BLAS) served by the BLAS that SciPy ships,
// and the LAPACK routines the core calls itself (dgesdd, thin_svd.hpp; dpotri and
// dsyevd, symmetric_lapack.hpp).
//
// With EIGEN_USE_BLAS, Eigen calls the Fortran BLAS symbols (dgemm_, dtrsm_, ...)
// for its large products and triangular solves instead of compiling its own
// kernels. This unit defines those symbols as forwarders to the function
// pointers that scipy.linalg.cython_blas exports as capsules, filled once when
// the module is imported. So:
//   - the core's dense kernels run at the speed of SciPy's BLAS (OpenBLAS in the
//     PyPI wheels, with its run-time CPU dispatch up to AVX-512), on every CPU,
//     from one baseline-compiled module;
//   - nothing is linked at build time: no BLAS headers or libraries are needed to
//     build, and the wheel vendors no BLAS (SciPy is already a dependency);
//   - the module compiles in minutes, since Eigen's GEMM kernels are not
//     instantiated for every product.
// The symbols get hidden visibility (pybind11 compiles with -fvisibility=hidden),
// so they bind inside this module and never interpose on another library's BLAS.
#include <Eigen/Core>  // declares the Fortran BLAS symbols (Eigen/src/misc/blas.h)
#include <multitask/linalg/symmetric_lapack.hpp>  // declares dpotri_, dsyevd_
#include <multitask/linalg/thin_svd.hpp>  // declares dgesdd_
#include <pybind11/pybind11.h>

#include <string>

#include "bindings.hpp"

#if !defined(EIGEN_USE_BLAS) || !defined(MULTITASK_USE_LAPACK)
#error "scipy_blas.cpp forwards Eigen's BLAS calls and dgesdd: compile with EIGEN_USE_BLAS and MULTITASK_USE_LAPACK"
#endif

namespace py = pybind11;

/// The level-3 routines Eigen's BLAS back-end calls, for float and double (its
/// level-2 bindings are left out: see CMakeLists.txt).
#define MULTITASK_BLAS_ROUTINES(X) \
  X(sgemm) X(dgemm) X(ssymm) X(dsymm) X(ssyrk) X(dsyrk) X(strmm) X(dtrmm) X(strsm) X(dtrsm)

namespace {

/// The function-pointer type of a BLAS routine, as SciPy's capsules hold it
/// (the Fortran routine's arguments, all by pointer; no result).
template <typename Function>
struct BlasPointer;
template <typename Result, typename... Args>
struct BlasPointer<Result(Args...)> {
  using type = void (*)(Args...);
};

/// One slot per routine of MULTITASK_BLAS_ROUTINES, and the LAPACK routines.
struct BlasTable {
#define MULTITASK_BLAS_SLOT(name) BlasPointer<decltype(name##_)>::type name = nullptr;
  MULTITASK_BLAS_ROUTINES(MULTITASK_BLAS_SLOT)
  MULTITASK_BLAS_SLOT(dgesdd)
  MULTITASK_BLAS_SLOT(dpotri)
  MULTITASK_BLAS_SLOT(dsyevd)
#undef MULTITASK_BLAS_SLOT
};

BlasTable blas;

/// The raw pointer in SciPy's capsule for routine `name`.
template <typename Pointer>
void load_routine(const py::dict& capsules, const char* name, Pointer& slot) {
  if (!capsules.contains(name))
    throw py::import_error(std::string("multitask: scipy.linalg.cython_blas does not export ") + name);
  py::object capsule = capsules[name];
  void* address = PyCapsule_GetPointer(capsule.ptr(), PyCapsule_GetName(capsule.ptr()));
  if (address == nullptr) throw py::error_already_set();
  slot = reinterpret_cast<Pointer>(address);
}

}  // namespace

// The forwarders, with the exact signatures Eigen declares (blas.h). The BLAS
// routines return nothing; Eigen ignores the int it declares.
extern "C" {

#define MULTITASK_FORWARD_GEMM(p, S)                                                                         \
  int p##gemm_(const char* ta, const char* tb, const int* m, const int* n, const int* k, const S* alpha,    \
               const S* a, const int* lda, const S* b, const int* ldb, const S* beta, S* c, const int* ldc) { \
    blas.p##gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);                                      \
    return 0;                                                                                                \
  }
#define MULTITASK_FORWARD_SYMM(p, S)                                                                          \
  int p##symm_(const char* side, const char* uplo, const int* m, const int* n, const S* alpha, const S* a,   \
               const int* lda, const S* b, const int* ldb, const S* beta, S* c, const int* ldc) {            \
    blas.p##symm(side, uplo, m, n, alpha, a, lda, b, ldb, beta, c, ldc);                                      \
    return 0;                                                                                                 \
  }
#define MULTITASK_FORWARD_SYRK(p, S)                                                                          \
  int p##syrk_(const char* uplo, const char* t, const int* n, const int* k, const S* alpha, const S* a,      \
               const int* lda, const S* beta, S* c, const int* ldc) {                                         \
    blas.p##syrk(uplo, t, n, k, alpha, a, lda, beta, c, ldc);                                                 \
    return 0;                                                                                                 \
  }
// trmm_ and trsm_ share their argument list: side, uplo, trans, diag, m, n, alpha, A, lda, B, ldb.
#define MULTITASK_FORWARD_TRIANGULAR_MM(routine, S)                                                             \
  int routine##_(const char* side, const char* uplo, const char* t, const char* diag, const int* m,            \
                 const int* n, const S* alpha, const S* a, const int* lda, S* b, const int* ldb) {              \
    blas.routine(side, uplo, t, diag, m, n, alpha, a, lda, b, ldb);                                             \
    return 0;                                                                                                   \
  }

#define MULTITASK_FORWARD_ALL(p, S)          \
  MULTITASK_FORWARD_GEMM(p, S)               \
  MULTITASK_FORWARD_SYMM(p, S)               \
  MULTITASK_FORWARD_SYRK(p, S)               \
  MULTITASK_FORWARD_TRIANGULAR_MM(p##trmm, S) \
  MULTITASK_FORWARD_TRIANGULAR_MM(p##trsm, S)

MULTITASK_FORWARD_ALL(s, float)
MULTITASK_FORWARD_ALL(d, double)

int dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda, double* s, double* u,
            const int* ldu, double* vt, const int* ldvt, double* work, const int* lwork, int* iwork, int* info) {
  blas.dgesdd(jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, iwork, info);
  return 0;
}

int dpotri_(const char* uplo, const int* n, double* a, const int* lda, int* info) {
  blas.dpotri(uplo, n, a, lda, info);
  return 0;
}

int dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w, double* work,
            const int* lwork, int* iwork, const int* liwork, int* info) {
  blas.dsyevd(jobz, uplo, n, a, lda, w, work, lwork, iwork, liwork, info);
  return 0;
}

}  // extern "C"

namespace multitask::bindings {

void load_scipy_blas() {
  const py::dict capsules = py::module_::import("scipy.linalg.cython_blas").attr("__pyx_capi__");
#define MULTITASK_LOAD(name) load_routine(capsules, #name, blas.name);
  MULTITASK_BLAS_ROUTINES(MULTITASK_LOAD)
#undef MULTITASK_LOAD
  const py::dict lapack = py::module_::import("scipy.linalg.cython_lapack").attr("__pyx_capi__");
  load_routine(lapack, "dgesdd", blas.dgesdd);
  load_routine(lapack, "dpotri", blas.dpotri);
  load_routine(lapack, "dsyevd", blas.dsyevd);
}

}  // namespace multitask::bindings
