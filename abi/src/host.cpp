#include <softcheck/host.hpp>
#include <softcheck/types.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <cstring>

namespace softcheck {
namespace {

bool valid_name(const char *name) {
  if (name == nullptr || *name == '\0') return false;
  for (const char *p = name; *p; ++p) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return std::strlen(name) <= 64;
}

// Function pointers of a table, in softcheck_op order.
const void *op_pointer(const softcheck_ops &ops, softcheck_op op) {
  switch (op) {
  case SOFTCHECK_OP_SOFTMAX: return reinterpret_cast<const void *>(ops.softmax);
  case SOFTCHECK_OP_LOG_SOFTMAX: return reinterpret_cast<const void *>(ops.log_softmax);
  case SOFTCHECK_OP_LOGSUMEXP: return reinterpret_cast<const void *>(ops.logsumexp);
  case SOFTCHECK_OP_SOFTMAX_BACKWARD: return reinterpret_cast<const void *>(ops.softmax_backward);
  case SOFTCHECK_OP_LOG_SOFTMAX_BACKWARD:
    return reinterpret_cast<const void *>(ops.log_softmax_backward);
  case SOFTCHECK_OP_NLL_LOSS: return reinterpret_cast<const void *>(ops.nll_loss);
  case SOFTCHECK_OP_NLL_LOSS_BACKWARD: return reinterpret_cast<const void *>(ops.nll_loss_backward);
  case SOFTCHECK_OP_CROSS_ENTROPY: return reinterpret_cast<const void *>(ops.cross_entropy);
  case SOFTCHECK_OP_CROSS_ENTROPY_BACKWARD:
    return reinterpret_cast<const void *>(ops.cross_entropy_backward);
  case SOFTCHECK_OP_CROSS_ENTROPY_PROB:
    return reinterpret_cast<const void *>(ops.cross_entropy_prob);
  case SOFTCHECK_OP_CROSS_ENTROPY_PROB_BACKWARD:
    return reinterpret_cast<const void *>(ops.cross_entropy_prob_backward);
  case SOFTCHECK_OP_COUNT: break;
  }
  return nullptr;
}

} // namespace

bool op_from_name(const std::string &name, softcheck_op &op) {
  for (int i = 0; i < SOFTCHECK_OP_COUNT; ++i)
    if (name == softcheck_op_name(softcheck_op(i))) {
      op = softcheck_op(i);
      return true;
    }
  return false;
}

std::vector<std::string> set_arguments(const std::string &name) {
  if (!name.empty() && name[0] == '-') return {"--set=" + name};
  return {"--set", name};
}

bool provides(const softcheck_kernel_set &set, softcheck_dtype dtype, softcheck_op op) {
  return op_pointer(ops_of(set, dtype), op) != nullptr;
}

// The second version of the struct ended with the conventions (and the
// padding to its alignment); the half tables start where it ended.
static_assert(SOFTCHECK_KERNEL_SET_V2_SIZE ==
              (offsetof(softcheck_kernel_set, conventions) + SOFTCHECK_CONVENTION_SLOTS +
               alignof(softcheck_kernel_set) - 1) /
                  alignof(softcheck_kernel_set) * alignof(softcheck_kernel_set));

softcheck_kernel_set plugin_set(const softcheck_plugin *plugin, size_t i) {
  const uint32_t stride = plugin->sets[0].struct_size;
  const char *at = reinterpret_cast<const char *>(plugin->sets) + i * size_t(stride);
  softcheck_kernel_set set{};
  std::memcpy(&set, at, std::min<size_t>(stride, sizeof set));
  return set;
}

std::string validate_plugin(const softcheck_plugin *plugin, const std::string &source) {
  const std::string who = "plugin '" + source + "'";
  if (plugin == nullptr) return who + ": " SOFTCHECK_PLUGIN_ENTRY "() returned NULL";
  if (plugin->abi_version != SOFTCHECK_ABI_VERSION)
    return who + " reports ABI version " + std::to_string(plugin->abi_version) +
           "; this softcheck supports version " + std::to_string(SOFTCHECK_ABI_VERSION);
  if (plugin->struct_size < sizeof(softcheck_plugin))
    return who + ": softcheck_plugin.struct_size is " + std::to_string(plugin->struct_size) +
           ", expected at least " + std::to_string(sizeof(softcheck_plugin));
  if (plugin->set_count == 0 || plugin->sets == nullptr) return who + " provides no kernel sets";
  if (plugin->set_count > kMaxKernelSets)
    return who + " provides " + std::to_string(plugin->set_count) +
           " kernel sets; a run takes at most " + std::to_string(kMaxKernelSets);
  // One array, one stride: every set's struct_size is the first one's.
  const uint32_t stride = plugin->sets[0].struct_size;
  if (stride < SOFTCHECK_KERNEL_SET_V1_SIZE || stride % alignof(softcheck_kernel_set) != 0 ||
      stride > (1u << 16))
    return who + ", kernel set #0: struct_size is " + std::to_string(stride) +
           ", expected at least " + std::to_string(SOFTCHECK_KERNEL_SET_V1_SIZE) +
           " (sizeof(softcheck_kernel_set) of the plugin.h it was built with)";
  for (size_t i = 0; i < plugin->set_count; ++i) {
    const std::string where = who + ", kernel set #" + std::to_string(i);
    const uint32_t size = reinterpret_cast<const softcheck_kernel_set *>(
                              reinterpret_cast<const char *>(plugin->sets) + i * size_t(stride))
                              ->struct_size;
    if (size != stride)
      return where + ": struct_size is " + std::to_string(size) + ", set #0's is " +
             std::to_string(stride) + " (one array of sets has one size)";
    const softcheck_kernel_set set = plugin_set(plugin, i);
    if (!valid_name(set.name)) return where + ": name must be 1-64 characters of [A-Za-z0-9_.-]";
    bool any = false;
    for (int d = 0; d < SOFTCHECK_DTYPE_COUNT && !any; ++d)
      for (int op = 0; op < SOFTCHECK_OP_COUNT && !any; ++op)
        any = provides(set, softcheck_dtype(d), softcheck_op(op));
    if (!any) return who + ": kernel set '" + set.name + "' provides no ops";
    if (set.input_padding_bytes > 4096)
      return where + ": input_padding_bytes is " + std::to_string(set.input_padding_bytes) +
             " (at most 4096)";
    for (int k = 0; k < SOFTCHECK_CONVENTION_SLOTS; ++k)
      if (set.conventions[k] > (k < SOFTCHECK_CLASS_COUNT ? SOFTCHECK_CONVENTION_NAN : 0))
        return where + ": conventions[" + std::to_string(k) + "] is " +
               std::to_string(set.conventions[k]) +
               (k < SOFTCHECK_CLASS_COUNT ? " (0 softcheck's, 1 nan)" : " (an unused slot: 0)");
    for (size_t j = 0; j < i; ++j)
      if (std::strcmp(plugin_set(plugin, j).name, set.name) == 0)
        return who + ": kernel set name '" + set.name + "' appears twice";
  }
  return "";
}

std::string open_plugin(const std::string &path, const softcheck_plugin *&plugin) {
  plugin = nullptr;
  // A path without a slash would make dlopen search the library path; a
  // plugin is always the file the user named.
  std::string file = path.find('/') == std::string::npos ? "./" + path : path;
  void *handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char *why = dlerror();
    return "cannot load plugin '" + path + "': " + (why ? why : "unknown dlopen error");
  }
  dlerror();
  void *sym = dlsym(handle, SOFTCHECK_PLUGIN_ENTRY);
  if (sym == nullptr) return "plugin '" + path + "' does not export " SOFTCHECK_PLUGIN_ENTRY;
  // The library stays loaded for the life of the process: its sets are used
  // through raw function pointers (and unloading runs its code again).
  const softcheck_plugin *p = reinterpret_cast<softcheck_plugin_entry_fn>(sym)();
  if (std::string err = validate_plugin(p, path); !err.empty()) return err;
  plugin = p;
  return "";
}

std::string Registry::add_sets(const std::vector<const softcheck_kernel_set *> &sets,
                               const std::string &source) {
  size_t plugin_sets = 0;
  for (const KernelSetRef &r : sets_) plugin_sets += r.source != "built-in";
  if (source != "built-in" && plugin_sets + sets.size() > kMaxKernelSets)
    return "the plugins provide more than " + std::to_string(kMaxKernelSets) +
           " kernel sets; a run takes at most " + std::to_string(kMaxKernelSets);
  for (const softcheck_kernel_set *set : sets)
    if (const KernelSetRef *other = find(set->name))
      return "kernel set '" + std::string(set->name) + "' from '" + source +
             "' has the same name as a set from '" + other->source + "'";
  for (const softcheck_kernel_set *set : sets) sets_.push_back({set, source});
  return "";
}

std::string Registry::add(const softcheck_plugin *plugin, const std::string &source) {
  if (std::string err = validate_plugin(plugin, source); !err.empty()) return err;
  std::vector<const softcheck_kernel_set *> sets;
  for (size_t i = 0; i < plugin->set_count; ++i) {
    copies_.push_back(plugin_set(plugin, i));
    sets.push_back(&copies_.back());
  }
  std::string err = add_sets(sets, source);
  if (!err.empty()) copies_.resize(copies_.size() - sets.size());
  return err;
}

std::string Registry::load(const std::string &path) {
  const softcheck_plugin *plugin = nullptr;
  if (std::string err = open_plugin(path, plugin); !err.empty()) return err;
  return add(plugin, path);
}

const KernelSetRef *Registry::find(const std::string &name) const {
  for (const KernelSetRef &s : sets_)
    if (name == s.set->name) return &s;
  return nullptr;
}

} // namespace softcheck
