// Check-numerics switch (ff.debugging.enable_check_numerics). While off, the only cost at a
// layer boundary is reading this flag.
#pragma once
#include <atomic>

namespace ff {

class CheckNumerics {
 public:
  static bool enabled() { return flag().load(std::memory_order_relaxed); }
  static void set(bool on) { flag().store(on, std::memory_order_relaxed); }

 private:
  static std::atomic<bool>& flag() {
    static std::atomic<bool> f{false};
    return f;
  }
};

}  // namespace ff
