// softcheck: the command-line tool.
//   softcheck kernels [--plugin PATH ...]
// Exit codes: 0 success, 1 a check failed, 2 usage or load error.
#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

int main(int argc, char **argv) {
  CLI::App app{"softcheck: property-based verification of softmax-family kernels"};
  app.require_subcommand(1);
  app.set_version_flag("--version", SOFTCHECK_VERSION);

  softcheck::cli::KernelsArgs kernels_args;
  CLI::App *kernels =
      app.add_subcommand("kernels", "list every kernel set and the ops it provides");
  kernels->add_option("--plugin", kernels_args.plugins, "plugin shared library to load")
      ->type_name("PATH");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }

  try {
    if (kernels->parsed()) return softcheck::cli::run_kernels(kernels_args);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 2;
}
