// Catch2's runner for test_sandbox, which is also the sandbox process its
// workers run in (`test_sandbox __sandbox ...`, as `softcheck __sandbox`).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <softcheck/sandbox.hpp>

#include <string>

int main(int argc, char **argv) {
  if (argc >= 2 && std::string(argv[1]) == "__sandbox")
    return softcheck::sandbox::sandbox_main(argc, argv);
  const int code = Catch::Session().run(argc, argv);
  softcheck::sandbox::shutdown();
  return code;
}
