// What the host and the worker share besides the wire format: reading and
// writing whole messages, the element counts of a call, calling one op of
// a table, and a kernel set as data.
#pragma once

#include "protocol.hpp"

#include <softcheck/plugin.h>

#include <cstdint>
#include <string>
#include <vector>

// Built with AddressSanitizer (g++ or clang): the address space is reserved
// at start-up, so no RLIMIT_AS, and ASan's own signal handlers are off in
// the worker.
#if defined(__SANITIZE_ADDRESS__)
#define SOFTCHECK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SOFTCHECK_ASAN 1
#endif
#endif

namespace softcheck::sandbox {

// Blocking, EINTR-safe; false on end of file or error.
bool write_all(int fd, const void *p, size_t n);
bool read_all(int fd, void *p, size_t n);

// A steady clock, in seconds: deadlines are now() + a timeout.
double now();

// Bytes per element of each array of a call of `dtype`.
size_t element_size(int array, uint32_t dtype);

// The element count of every array of a call from its shape, op, dtype,
// reduction and which pointers were given: 0 for an array not given, and
// for all of them when the shape is invalid (the kernel must refuse it
// without reading anything). `fits` is false when a count passes what the
// protocol carries (2^31 elements).
struct Counts {
  uint64_t n[wire::kArrays] = {};
  bool fits = true;
  uint64_t bytes(int a, uint32_t dtype) const { return n[a] * element_size(a, dtype); }
};
Counts counts_of(const wire::CallHeader &h);

// The header of a call of `op` on `shape` with `opt` (NULL: none), the
// arrays' presence and offsets not yet filled in.
wire::CallHeader header_of(uint32_t dtype, softcheck_op op, softcheck_shape shape,
                           const softcheck_loss_options *opt);

// Calls op h.op of `ops` on the arrays `p` (NULL where not given) with the
// shape and loss options of h. A NULL entry gives SOFTCHECK_ERR_UNSUPPORTED.
softcheck_status invoke(const softcheck_ops &ops, const wire::CallHeader &h,
                        void *const p[wire::kArrays]);

// A kernel set as data: what crosses from the worker, checked again by the
// host. Strings are cut to the protocol's bounds, never trusted to end.
struct SetData {
  std::string name, description, version;
  bool has_description = false, has_version = false;
  uint32_t provides[SOFTCHECK_DTYPE_COUNT] = {};
  bool has_contract = false, has_threads = false, has_half_contract = false;
  uint32_t input_padding = 0;
  uint8_t conventions[SOFTCHECK_CONVENTION_SLOTS] = {};
  softcheck_contract contract{};
  softcheck_half_contract half_contract{};
  bool operator==(const SetData &o) const;
};

// Reads a set of a plugin's table (in the process that loaded it).
SetData describe(const softcheck_kernel_set &set);

// What the worker's restrictions came to (see restrict.hpp).
struct Restrictions {
  int32_t landlock = 0; // the ABI in force, 0 none
  bool no_sockets = false;
};

// The table as a payload, and back; decode returns "" or what is wrong.
std::string encode_table(const std::string &plugin_name, const std::vector<SetData> &sets,
                         const Restrictions &r);
std::string decode_table(const std::string &payload, std::string &plugin_name,
                         std::vector<SetData> &sets, Restrictions &r);

} // namespace softcheck::sandbox
