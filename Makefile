# Thin wrapper over the CMake presets. `make report` and `make test` work on
# a fresh Debian 12 machine: they install what is missing first.
.PHONY: all deps configure build test report bench-oracle format clean

PACKAGES := cmake ninja-build g++ pkg-config \
  librapidcheck-dev catch2 libboost-dev libmpfr-dev libeigen3-dev libhwy-dev \
  libcli11-dev nlohmann-json3-dev libfmt-dev libbenchmark-dev

BUILD := build
SOFTCHECK := $(BUILD)/cli/softcheck
REPORT_DIR := $(BUILD)/report

all: build

deps:
	@tools/ensure-packages.sh $(PACKAGES)

configure: deps
	@cmake --preset default >/dev/null

build: configure
	@cmake --build --preset default

test: build
	@ctest --preset default

# The main job. Until the accuracy report exists, the honest main job is the
# inventory of kernel sets and their declared contracts.
report: build
	@mkdir -p $(REPORT_DIR)
	@$(SOFTCHECK) kernels --plugin $(BUILD)/examples/libsoftcheck_textbook.so \
	  > $(REPORT_DIR)/kernels.txt.tmp && mv $(REPORT_DIR)/kernels.txt.tmp $(REPORT_DIR)/kernels.txt
	@cat $(REPORT_DIR)/kernels.txt
	@echo "softcheck: report written to $(abspath $(REPORT_DIR))/kernels.txt"

# Oracle throughput (elements/s per op, dtype and precision).
bench-oracle: build
	@$(BUILD)/bench/softcheck_bench_oracle --benchmark_repetitions=3 \
	  --benchmark_report_aggregates_only=true

format:
	@git ls-files '*.cpp' '*.hpp' '*.h' '*.c' | xargs clang-format -i

clean:
	@rm -rf $(BUILD)
