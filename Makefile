# Thin wrapper over the CMake presets. `make report` and `make test` work on
# a fresh Debian 12 machine: they install what is missing first.
.PHONY: all deps configure build test report peers report-peers peer-findings baseline sanitize bench \
  bench-oracle bench-sandbox install package format clean

PACKAGES := cmake ninja-build g++ pkg-config python3 \
  librapidcheck-dev catch2 libboost-dev libmpfr-dev libeigen3-dev libhwy-dev \
  libcli11-dev nlohmann-json3-dev libfmt-dev libbenchmark-dev python3-jsonschema python3-yaml

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

# The page test opens the report in headless Chromium; the peer plugins
# (PyTorch, oneDNN) are built and tested when their packages are there.
# Both are installed when root, and skipped (said so) where they cannot be.
TEST_PACKAGES := chromium fonts-dejavu-core
PEER_PACKAGES := libtorch-dev libdnnl-dev
test: deps
	@tools/ensure-packages.sh --optional $(TEST_PACKAGES) $(PEER_PACKAGES)
	@cmake --preset default >/dev/null
	@cmake --build --preset default
	@ctest --preset default

# The whole suite again under clang-14 with ASan and UBSan (float checks on).
SANITIZE_PACKAGES := clang-14 libclang-rt-14-dev
sanitize: deps
	@tools/ensure-packages.sh $(SANITIZE_PACKAGES)
	@cmake --preset sanitize >/dev/null
	@cmake --build --preset sanitize
	@ctest --preset sanitize

# The main job: the accuracy report of the built-in kernels, with the
# example plugin's textbook set for contrast (report.json, report.md,
# index.html in $(REPORT_DIR)).
EXAMPLE := $(BUILD)/examples/libsoftcheck_textbook.so
report: build
	@$(SOFTCHECK) report --plugin $(EXAMPLE) --set softcheck --set textbook --out $(REPORT_DIR)

# Our kernels, PyTorch's and oneDNN's side by side: installs the two
# packages (root), builds the peer plugins and writes the report to
# $(BUILD)/report-peers. `make bench` measures the peers once they are built.
PEERS := $(BUILD)/peers/libsoftcheck_torch.so $(BUILD)/peers/libsoftcheck_onednn.so
peers: deps
	@tools/ensure-packages.sh $(PEER_PACKAGES)
	@cmake --preset default >/dev/null
	@cmake --build --preset default

# Exit 1 (a peer's kernel faulted: PyTorch's bf16 losses read past their
# weight) is a finding the report shows, not a failure of the target.
report-peers: peers
	@$(SOFTCHECK) report $(addprefix --plugin ,$(PEERS)) --set softcheck --set pytorch \
	  --set onednn --out $(BUILD)/report-peers || [ $$? -eq 1 ]

# README's "What softcheck finds in popular kernels", written anew from
# `softcheck check` on the peer plugins (fixed seed).
peer-findings: peers
	@python3 tools/peer_findings.py --softcheck $(SOFTCHECK) $(addprefix --plugin ,$(PEERS)) \
	  --readme README.md

# The committed accuracy baseline of the built-in kernels, which `make test`
# gates on (tests/report/CMakeLists.txt runs the same command). Write it
# anew only for a deliberate change, and say why in the commit.
baseline: build
	@$(SOFTCHECK) report --set softcheck --seed 1 --cases 100 --worst 0 \
	  --out $(BUILD)/baseline-run >/dev/null
	@cp $(BUILD)/baseline-run/report.json reports/baseline/softcheck.json
	@echo "softcheck: wrote reports/baseline/softcheck.json"

# The float32 and float64 kernels against the baselines in one run (Google
# Benchmark, medians of 5): GB/s, share of the copy roof and ratios per
# dtype x op x shape x threads, the goals met or not; the table also goes
# to $(BUILD)/bench.md. XNNPACK's softmax is a baseline when its packages
# are there (installed when root); the peer plugins when built. Then the
# half kernels against the float32 ones (runs interleaved at random, medians
# of 7), ending with the ratio table.
BENCH_PACKAGES := libxnnpack-dev libpthreadpool-dev
bench: deps
	@tools/ensure-packages.sh --optional $(BENCH_PACKAGES)
	@cmake --preset default >/dev/null
	@cmake --build --preset default
	@$(BUILD)/bench/softcheck_bench --markdown $(BUILD)/bench.md
	@$(BUILD)/bench/softcheck_bench_half --benchmark_repetitions=7 \
	  --benchmark_enable_random_interleaving=true --benchmark_min_time=0.2 \
	  --benchmark_report_aggregates_only=true

# Oracle throughput (elements/s per op, dtype and precision).
bench-oracle: build
	@$(BUILD)/bench/softcheck_bench_oracle --benchmark_repetitions=3 \
	  --benchmark_report_aggregates_only=true

# What a kernel call through the confined worker costs, against the same
# call in this process (Google Benchmark, medians of 5).
bench-sandbox: build
	@$(BUILD)/bench/softcheck_bench_sandbox --benchmark_repetitions=5 \
	  --benchmark_report_aggregates_only=true

# The command, the plugin headers, the CMake package and the docs, in
# PREFIX (default /usr/local; README, "Gate your kernels in CI").
PREFIX ?= /usr/local
install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

# The same tree as a Debian package under /usr, in $(BUILD).
package: build
	@cd $(BUILD) && cpack -G DEB

format:
	@git ls-files '*.cpp' '*.hpp' '*.h' '*.c' | xargs clang-format -i

clean:
	@rm -rf $(BUILD) build-sanitize
