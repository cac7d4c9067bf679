// The confined worker as its API gives it: the kernel sees the buffers the
// caller built (the same offset within a page, in place stays in place),
// a plugin built against the first plugin.h loads with every set, and the
// harness's buffers end against a guard page. The test binary is its own
// sandbox process (sandbox_main.cpp), as softcheck is.
#include <catch2/catch.hpp>

#include <softcheck/case.hpp>
#include <softcheck/sandbox.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace softcheck;

namespace {

const softcheck_kernel_set &only_set(const char *plugin) {
  static std::string loaded;
  static std::vector<const softcheck_kernel_set *> sets;
  if (loaded != plugin) {
    sets = sandbox::load(plugin, sandbox::Limits{});
    loaded = plugin;
  }
  REQUIRE(!sets.empty());
  return *sets[0];
}

struct Pages {
  char *base;
  explicit Pages(size_t n) : base(static_cast<char *>(std::aligned_alloc(4096, n * 4096))) {
    std::memset(base, 0, n * 4096);
  }
  ~Pages() { std::free(base); }
  float *at(size_t page, size_t offset) {
    return reinterpret_cast<float *>(base + page * 4096 + offset);
  }
};

} // namespace

TEST_CASE("the worker calls the kernel at the caller's offsets within a page") {
  const softcheck_kernel_set &set = only_set(SOFTCHECK_PROBE_PLUGIN);
  Pages pages(4);
  for (size_t x_off : {size_t(0), size_t(4), size_t(100), size_t(2048), size_t(4080)})
    for (size_t y_off : {size_t(0), size_t(12), size_t(4084)}) {
      float *x = pages.at(0, x_off), *y = pages.at(2, y_off);
      REQUIRE(set.f32.softmax(softcheck_shape{1, 3, 1}, x, y) == SOFTCHECK_OK);
      CHECK(y[0] == 0.0f);
      CHECK(y[1] == float(x_off));
      CHECK(y[2] == float(y_off));
    }
}

TEST_CASE("a call in place stays in place in the worker") {
  const softcheck_kernel_set &set = only_set(SOFTCHECK_PROBE_PLUGIN);
  Pages pages(2);
  for (size_t off : {size_t(0), size_t(36), size_t(4084)}) {
    float *xy = pages.at(0, off);
    REQUIRE(set.f32.softmax(softcheck_shape{1, 3, 1}, xy, xy) == SOFTCHECK_OK);
    CHECK(xy[0] == 1.0f);
    CHECK(xy[1] == float(off));
    CHECK(xy[2] == float(off));
  }
}

TEST_CASE("the harness's buffers end against a guard page, and the worker keeps them so") {
  const softcheck_kernel_set &set = only_set(SOFTCHECK_PROBE_PLUGIN);
  for (int classes : {3, 5, 1000}) {
    Case<float> c;
    c.op = SOFTCHECK_OP_SOFTMAX;
    c.shape = {1, classes, 1};
    c.x.assign(size_t(classes), 0.0f);
    std::vector<float> out(static_cast<size_t>(classes));
    REQUIRE(call(set, c, out.data()) == SOFTCHECK_OK);
    const size_t bytes = size_t(classes) * sizeof(float);
    CHECK(size_t(out[1]) == (4096 - bytes % 4096) % 4096);
    CHECK(size_t(out[2]) == (4096 - bytes % 4096) % 4096);
  }
}

TEST_CASE("a plugin built against the first plugin.h loads, every set of it") {
  const std::vector<const softcheck_kernel_set *> sets =
      sandbox::load(SOFTCHECK_V1_PLUGIN, sandbox::Limits{});
  REQUIRE(sets.size() == 2);
  CHECK(std::string(sets[0]->name) == "first_v1");
  CHECK(std::string(sets[1]->name) == "second_v1");
  for (const softcheck_kernel_set *s : sets) {
    CHECK(s->input_padding_bytes == 0);
    float x = 3, y = 0;
    REQUIRE(s->f32.softmax != nullptr);
    CHECK(s->f32.softmax(softcheck_shape{1, 1, 1}, &x, &y) == SOFTCHECK_OK);
    CHECK(y == 1.0f);
  }
}
