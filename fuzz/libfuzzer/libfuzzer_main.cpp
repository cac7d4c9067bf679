// The libFuzzer entry point (clang, -fsanitize=fuzzer).
#include "target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return softcheck_fuzz_one(data, size);
}
