#include <softcheck/host.hpp>

#include <dlfcn.h>

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

bool provides(const softcheck_kernel_set &set, softcheck_dtype dtype, softcheck_op op) {
  return op_pointer(dtype == SOFTCHECK_F32 ? set.f32 : set.f64, op) != nullptr;
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
  if (plugin->set_count > 4096)
    return who + " reports " + std::to_string(plugin->set_count) + " kernel sets (at most 4096)";
  for (size_t i = 0; i < plugin->set_count; ++i) {
    const softcheck_kernel_set &set = plugin->sets[i];
    const std::string where = who + ", kernel set #" + std::to_string(i);
    if (set.struct_size < sizeof(softcheck_kernel_set))
      return where + ": struct_size is " + std::to_string(set.struct_size) +
             ", expected at least " + std::to_string(sizeof(softcheck_kernel_set));
    if (!valid_name(set.name)) return where + ": name must be 1-64 characters of [A-Za-z0-9_.-]";
    bool any = false;
    for (int d = 0; d < 2 && !any; ++d)
      for (int op = 0; op < SOFTCHECK_OP_COUNT && !any; ++op)
        any = provides(set, softcheck_dtype(d), softcheck_op(op));
    if (!any) return who + ": kernel set '" + set.name + "' provides no ops";
    for (size_t j = 0; j < i; ++j)
      if (std::strcmp(plugin->sets[j].name, set.name) == 0)
        return who + ": kernel set name '" + set.name + "' appears twice";
  }
  return "";
}

std::string Registry::add(const softcheck_plugin *plugin, const std::string &source) {
  if (std::string err = validate_plugin(plugin, source); !err.empty()) return err;
  for (size_t i = 0; i < plugin->set_count; ++i)
    if (const KernelSetRef *other = find(plugin->sets[i].name))
      return "kernel set '" + std::string(plugin->sets[i].name) + "' from '" + source +
             "' has the same name as a set from '" + other->source + "'";
  for (size_t i = 0; i < plugin->set_count; ++i) sets_.push_back({&plugin->sets[i], source});
  return "";
}

std::string Registry::load(const std::string &path) {
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
  if (sym == nullptr) {
    dlclose(handle);
    return "plugin '" + path + "' does not export " SOFTCHECK_PLUGIN_ENTRY;
  }
  auto entry = reinterpret_cast<softcheck_plugin_entry_fn>(sym);
  std::string err = add(entry(), path);
  // The library stays loaded for the life of the process: its sets are used
  // through raw function pointers.
  if (!err.empty()) dlclose(handle);
  return err;
}

const KernelSetRef *Registry::find(const std::string &name) const {
  for (const KernelSetRef &s : sets_)
    if (name == s.set->name) return &s;
  return nullptr;
}

} // namespace softcheck
