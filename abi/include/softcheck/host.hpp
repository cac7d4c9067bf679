// The host side of the plugin ABI: loading kernel sets from shared libraries
// and keeping them, with the built-in set, in one registry.
#pragma once

#include <softcheck/plugin.h>

#include <string>
#include <vector>

namespace softcheck {

// One kernel set and where it came from.
struct KernelSetRef {
  const softcheck_kernel_set *set = nullptr;
  std::string source; // "built-in" or the plugin's path
};

// Checks a plugin description; returns "" when it is usable, otherwise one
// line naming the problem (without the "error: " prefix).
std::string validate_plugin(const softcheck_plugin *plugin, const std::string &source);

// The op called `name` (as softcheck_op_name spells it); false if none is.
bool op_from_name(const std::string &name, softcheck_op &op);

// Whether a set provides op `op` for `dtype`.
bool provides(const softcheck_kernel_set &set, softcheck_dtype dtype, softcheck_op op);

class Registry {
public:
  // Adds every set of a plugin description; returns "" or an error line.
  std::string add(const softcheck_plugin *plugin, const std::string &source);
  // dlopens a shared library and adds its sets; returns "" or an error line.
  std::string load(const std::string &path);

  const std::vector<KernelSetRef> &sets() const { return sets_; }
  const KernelSetRef *find(const std::string &name) const;

private:
  std::vector<KernelSetRef> sets_;
};

} // namespace softcheck
