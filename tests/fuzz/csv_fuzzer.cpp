// libFuzzer harness for the CSV reader (tokenizer, block splitting across chunks, type
// inference, typed and feature parsing, the threaded pipeline). Built by run_csv_fuzzer.sh with
// clang -fsanitize=fuzzer,address,undefined; the target itself is csv_fuzz_body.h.
#include "csv_fuzz_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  csv_fuzz::fuzz_one(data, size);
  return 0;
}
