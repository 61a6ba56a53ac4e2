// fit_linear_model for float64 dense designs: see explicit_instantiations.hpp.
#include "explicit_instantiations.hpp"

namespace multitask {
MULTITASK_INSTANTIATE_FIT_LINEAR_MODEL(, double, DenseDesign)
}  // namespace multitask
