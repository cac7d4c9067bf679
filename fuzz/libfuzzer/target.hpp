#pragma once

#include <cstddef>
#include <cstdint>

// Decodes one input and checks one call (see target.cpp); aborts on a
// failed check.
int softcheck_fuzz_one(const uint8_t *data, size_t size);
