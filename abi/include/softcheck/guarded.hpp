// Call buffers against PROT_NONE guard pages, Electric Fence style: each
// array in pages of its own, with an inaccessible page on both sides, so a
// kernel that reads or writes past an end faults at the instruction that
// does it instead of passing here and crashing in production the day a row
// ends at a page. The harness builds every call's buffers this way (see
// case.hpp's `call`), and the isolation worker reproduces them exactly:
// same offset within the page, so the same alignment, guard pages included.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace softcheck {

inline constexpr size_t kPage = 4096;

// Where an array sits in its pages: its last byte against the following
// guard page (over-reads fault at once), or its first byte `shift` bytes
// after the preceding one (under-reads fault).
enum class Edge { end, start };

class GuardedBuffers {
public:
  GuardedBuffers() = default;
  GuardedBuffers(const GuardedBuffers &) = delete;
  GuardedBuffers &operator=(const GuardedBuffers &) = delete;
  ~GuardedBuffers();

  // A copy of `bytes` bytes of `src` (zeros when src is NULL) placed at
  // `edge`, moved `shift` bytes away from it (toward the middle of the
  // pages). Valid until this object goes. Throws std::bad_alloc when the
  // pages cannot be mapped.
  void *place(const void *src, size_t bytes, Edge edge = Edge::end, size_t shift = 0);

private:
  struct Mapping {
    void *base;
    size_t size;
  };
  std::vector<Mapping> maps_;
};

} // namespace softcheck
