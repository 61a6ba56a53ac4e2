// The SVD behind the trace norm (float64): see explicit_instantiations.hpp.
#include "explicit_instantiations.hpp"

namespace multitask {
MULTITASK_INSTANTIATE_SINGULAR_VALUES(, double)
}  // namespace multitask
