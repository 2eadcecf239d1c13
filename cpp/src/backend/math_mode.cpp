// The process's GPU math settings (backend/math_mode.h).
#include "backend/math_mode.h"

namespace ff {

MathMode& math_mode() {
  static MathMode mode;
  return mode;
}

}  // namespace ff
