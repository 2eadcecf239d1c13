// libFuzzer harness for image decoding and resizing (see image_fuzz_body.h for what one input
// does). Built and run by tests/fuzz/run_image_fuzzer.sh with AddressSanitizer and
// UndefinedBehaviorSanitizer.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "image_fuzz_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    image_fuzz::run_one(data, size);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "image fuzzer: unexpected exception: %s\n", e.what());
    std::abort();
  }
  return 0;
}
