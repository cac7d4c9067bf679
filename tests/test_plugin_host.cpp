// Loading kernel sets through the plugin ABI: the built-in plugin library,
// the example, and every kind of broken plugin.
#include <softcheck/host.hpp>
#include <softcheck/kernels.hpp>

#include <catch2/catch.hpp>

#include <string>

using softcheck::Registry;

namespace {

std::string broken(const std::string &kind) {
  return std::string(SOFTCHECK_TEST_PLUGIN_DIR) + "/libbroken_" + kind + ".so";
}

// Loading `path` into a fresh registry fails with an error mentioning `text`.
void expect_load_error(const std::string &path, const std::string &text) {
  Registry r;
  std::string err = r.load(path);
  INFO("error: " << err);
  CHECK_THAT(err, Catch::Contains(text));
  CHECK(err.find('\n') == std::string::npos);
  CHECK(r.sets().empty());
}

} // namespace

TEST_CASE("the built-in kernels load as a plugin library", "[plugin]") {
  Registry r;
  REQUIRE(r.load(SOFTCHECK_BUILTIN_PLUGIN) == "");
  const softcheck::KernelSetRef *ref = r.find("softcheck");
  REQUIRE(ref != nullptr);
  for (int op = 0; op < SOFTCHECK_OP_COUNT; ++op) {
    CHECK(softcheck::provides(*ref->set, SOFTCHECK_F32, softcheck_op(op)));
    CHECK(softcheck::provides(*ref->set, SOFTCHECK_F64, softcheck_op(op)));
  }
  // The library's kernels compute what the in-process ones do.
  const float x[2] = {2, 3};
  float a[2], b[2];
  REQUIRE(ref->set->f32.softmax({1, 2, 1}, x, a) == SOFTCHECK_OK);
  REQUIRE(softcheck::softmax<float>({1, 2, 1}, x, b) == SOFTCHECK_OK);
  CHECK(a[0] == b[0]);
  CHECK(a[1] == b[1]);
}

TEST_CASE("the example plugin loads beside the built-in set", "[plugin]") {
  Registry r;
  REQUIRE(r.add(&softcheck::builtin_plugin(), "built-in") == "");
  REQUIRE(r.load(SOFTCHECK_EXAMPLE_PLUGIN) == "");
  REQUIRE(r.sets().size() == 3); // built-in, textbook, careful
  CHECK(r.find("careful") != nullptr);
  const softcheck::KernelSetRef *ref = r.find("textbook");
  REQUIRE(ref != nullptr);
  CHECK(ref->source == SOFTCHECK_EXAMPLE_PLUGIN);
  CHECK(softcheck::provides(*ref->set, SOFTCHECK_F32, SOFTCHECK_OP_SOFTMAX));
  CHECK(softcheck::provides(*ref->set, SOFTCHECK_F64, SOFTCHECK_OP_CROSS_ENTROPY));
  // NULL entries are "not provided".
  CHECK_FALSE(softcheck::provides(*ref->set, SOFTCHECK_F32, SOFTCHECK_OP_SOFTMAX_BACKWARD));
  CHECK(ref->set->contract == nullptr);
}

TEST_CASE("a set name may be registered once", "[plugin]") {
  Registry r;
  REQUIRE(r.add(&softcheck::builtin_plugin(), "built-in") == "");
  std::string err = r.load(SOFTCHECK_BUILTIN_PLUGIN);
  CHECK_THAT(err, Catch::Contains("kernel set 'softcheck'") && Catch::Contains("same name"));
  CHECK(r.sets().size() == 1);
}

TEST_CASE("broken plugins are refused with one clear line", "[plugin]") {
  expect_load_error(broken("missing_file"), "cannot load plugin");
  expect_load_error(broken("not_elf"), "cannot load plugin");
  expect_load_error(broken("no_entry"), "does not export softcheck_plugin_v1");
  expect_load_error(broken("null_entry"), "softcheck_plugin_v1() returned NULL");
  expect_load_error(broken("wrong_version"),
                    "reports ABI version 2; this softcheck supports version 1");
  expect_load_error(broken("no_sets"), "provides no kernel sets");
  expect_load_error(broken("duplicate_names"), "kernel set name 'twin' appears twice");
  expect_load_error(broken("no_ops"), "kernel set 'empty' provides no ops");
  expect_load_error(broken("bad_name"), "name must be 1-64 characters");
}
