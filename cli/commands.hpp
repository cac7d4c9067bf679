#pragma once

#include <softcheck/host.hpp>

#include <string>
#include <vector>

namespace softcheck::cli {

// The registry with the built-in set and every --plugin loaded; on a load
// error prints one "error:" line and returns false.
bool load_registry(Registry &registry, const std::vector<std::string> &plugins);

struct KernelsArgs {
  std::vector<std::string> plugins;
};
int run_kernels(const KernelsArgs &args);

} // namespace softcheck::cli
