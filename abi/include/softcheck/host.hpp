// The host side of the plugin ABI: reading a plugin's description, and the
// registry of the kernel sets a run uses (the built-in set and each
// plugin's). Plugins from users are opened only in a confined worker (see
// softcheck/sandbox.hpp); open_plugin is what that worker, and
// --in-process, call.
#pragma once

#include <softcheck/plugin.h>

#include <deque>
#include <string>
#include <vector>

namespace softcheck {

// At most this many kernel sets in one run, every plugin's together.
inline constexpr size_t kMaxKernelSets = 64;

// One kernel set and where it came from.
struct KernelSetRef {
  const softcheck_kernel_set *set = nullptr;
  std::string source; // "built-in" or the plugin's path
};

// Checks a plugin description; returns "" when it is usable, otherwise one
// line naming the problem (without the "error: " prefix). Sets are read
// with the stride of their own struct_size, so plugins built against the
// first version of plugin.h load too.
std::string validate_plugin(const softcheck_plugin *plugin, const std::string &source);

// Set i of a valid plugin as this header's struct: the fields its
// struct_size covers, the rest zero.
softcheck_kernel_set plugin_set(const softcheck_plugin *plugin, size_t i);

// dlopens a shared library (a path without a slash is taken as ./path,
// never searched for), calls its entry point and validates what it
// returns. Returns "" and the description, or an error line. The library
// stays loaded for the life of the process.
std::string open_plugin(const std::string &path, const softcheck_plugin *&plugin);

// The op called `name` (as softcheck_op_name spells it); false if none is.
bool op_from_name(const std::string &name, softcheck_op &op);

// The arguments that name set `name` on softcheck's command line: --set
// NAME, or --set=NAME when the name starts with '-' (so it is not read as
// an option).
std::vector<std::string> set_arguments(const std::string &name);

// Whether a set provides op `op` for `dtype`.
bool provides(const softcheck_kernel_set &set, softcheck_dtype dtype, softcheck_op op);

class Registry {
public:
  // Adds every set of a plugin description (kept as copies); returns "" or
  // an error line.
  std::string add(const softcheck_plugin *plugin, const std::string &source);
  // Adds sets that stay where they are (proxies); returns "" or an error
  // line (a name taken by another source, more than kMaxKernelSets).
  std::string add_sets(const std::vector<const softcheck_kernel_set *> &sets,
                       const std::string &source);
  // open_plugin, then add: the plugin runs in this process.
  std::string load(const std::string &path);

  const std::vector<KernelSetRef> &sets() const { return sets_; }
  const KernelSetRef *find(const std::string &name) const;

private:
  std::vector<KernelSetRef> sets_;
  std::deque<softcheck_kernel_set> copies_;
};

} // namespace softcheck
