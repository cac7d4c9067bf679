# Thin wrapper over the CMake presets. `make report` and `make test` work on
# a fresh Debian 12 machine: they install what is missing first.
.PHONY: all deps configure build test report sanitize bench-oracle format clean

PACKAGES := cmake ninja-build g++ pkg-config python3 \
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

# The whole suite again under clang-14 with ASan and UBSan (float checks on).
SANITIZE_PACKAGES := clang-14 libclang-rt-14-dev
sanitize: deps
	@tools/ensure-packages.sh $(SANITIZE_PACKAGES)
	@cmake --preset sanitize >/dev/null
	@cmake --build --preset sanitize
	@ctest --preset sanitize

# The main job. Until the accuracy report exists, it is the property suite
# on the built-in kernels and the example plugin's two sets (the textbook
# one fails, by design), written to $(REPORT_DIR).
EXAMPLE := $(BUILD)/examples/libsoftcheck_textbook.so
report: build
	@mkdir -p $(REPORT_DIR)
	@$(SOFTCHECK) kernels --plugin $(EXAMPLE) > $(REPORT_DIR)/kernels.txt.tmp
	@mv $(REPORT_DIR)/kernels.txt.tmp $(REPORT_DIR)/kernels.txt
	@$(SOFTCHECK) check --plugin $(EXAMPLE) --set softcheck --set careful --set textbook \
	  --junit $(REPORT_DIR)/check.xml > $(REPORT_DIR)/check.txt.tmp; \
	  code=$$?; if [ $$code -gt 1 ]; then cat $(REPORT_DIR)/check.txt.tmp; exit $$code; fi
	@mv $(REPORT_DIR)/check.txt.tmp $(REPORT_DIR)/check.txt
	@awk '/^softcheck check: set/ {set = $$4; order[++n] = set} \
	  /^  PASS/ {pass[set]++} /^  FAIL/ {fail[set]++} /^  SKIP/ {skip[set]++} \
	  END {for (i = 1; i <= n; i++) printf "  %-10s %3d passed, %3d failed, %3d skipped\n", \
	  order[i], pass[order[i]], fail[order[i]], skip[order[i]]}' $(REPORT_DIR)/check.txt
	@echo "softcheck: report written to $(abspath $(REPORT_DIR)) (kernels.txt, check.txt, check.xml)"

# Oracle throughput (elements/s per op, dtype and precision).
bench-oracle: build
	@$(BUILD)/bench/softcheck_bench_oracle --benchmark_repetitions=3 \
	  --benchmark_report_aggregates_only=true

format:
	@git ls-files '*.cpp' '*.hpp' '*.h' '*.c' | xargs clang-format -i

clean:
	@rm -rf $(BUILD) build-sanitize
