# odmn build, test and tooling. GNU make.
#
#   make deps    install what odmn needs (apt packages, ONNX Runtime, Go modules)
#   make test    deps, brief fuzz runs, go test ./... with the pure-Go and
#                the OpenBLAS kernels
#   make bench   build, bin/odmn bench (throughput, GFLOP/s, memory)
#   make build   bin/odmn
#   make pipeline  bin/odmn-pipeline: the Beam pipelines (own Go module, pipeline/)
#   make test-pipeline  go test in the pipeline module (embedded prism, a prism job server)
#   make demo    deps, build, bin/odmn demo (synthetic users)
#   make cdnow   deps, build, the demo on CDNOW (fixtures/cdnow)
#   make compare-synth  deps, build, odmn compare on 200,000 synthetic users (README tables)
#   make compare-cdnow  deps, build, odmn compare on CDNOW (README tables)
#   make results-compare  build, odmn compare over 5 seeds on CDNOW and on
#                synthetic revenue users into docs/results/compare-*.md
#   make ort     fetch the ONNX Runtime shared library into .cache/ort/
#   make proto   regenerate onnxpb/onnx.pb.go from /usr/include/onnx/onnx.proto
#   make fuzz    brief fuzz runs of FUZZ_TARGETS
#   make lint    gofmt, go vet and staticcheck (both kernel builds)
#   make docs-check  every make target and odmn command in README.md and
#                docs/ exists with its flags; the quick ones run
#   make ci      what CI runs (.ci/run): lint, test, docs-check
#   make results-bench  odmn bench twice (odmn's AVX-512 GEMM where the CPU
#                has it, then OpenBLAS's) into docs/results/bench*.
#   make results-deploy  pipeline score vs score (interleaved, 1M users) and
#                serve-bench into docs/results/deploy.md
#   make results every docs/results/ file: results-demo, results-cdnow,
#                results-compare, conform-results, results-deploy

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

GO ?= go
TEST_TIMEOUT ?= 20m
TEST_FLAGS ?=

# runtime/ort and its tests find the ONNX Runtime library here.
ODMN_ORT_LIB ?= $(CURDIR)/.cache/ort/libonnxruntime.so.1
export ODMN_ORT_LIB

# protoc-gen-go is pinned to the google.golang.org/protobuf version in go.mod
# and installed into a git-ignored local bin directory.
LOCALBIN := $(CURDIR)/.cache/bin
PROTOC_GEN_GO := $(LOCALBIN)/protoc-gen-go
ONNX_PROTO_DIR := /usr/include/onnx

# Fuzz targets as package:FuzzName:executions, each count about 15 s on a
# 2-core CI machine. A count, not a duration: with a duration -fuzztime,
# go1.26's fuzzing coordinator can report "context deadline exceeded" as a
# failure when the deadline meets a busy worker (go.dev/issue/75804, fixed
# in go1.27). FUZZ_TIME (say 5m) overrides every count for longer runs.
FUZZ_TARGETS ?= ./compat:FuzzImport:60000 ./compat:FuzzRun:200000 ./runtime/native:FuzzFoldEmbedding:120000 ./train:FuzzDecodeFused:25000 ./data:FuzzRecordReader:100000
FUZZ_TIME ?=
# Minimizing a new input defaults to 60s, which would take a brief run.
FUZZ_MINIMIZE_TIME ?= 2s

.PHONY: deps ort proto protoc-gen-go build pipeline test-pipeline test fuzz demo cdnow compare-synth compare-cdnow bench lint docs-check ci results results-demo results-cdnow conform-results foreign-fixtures results-compare results-deploy results-bench

deps:
	scripts/deps.sh

ort:
	scripts/fetch-ort.sh

protoc-gen-go:
	@want=$$($(GO) list -m -f '{{.Version}}' google.golang.org/protobuf); \
	have=$$($(PROTOC_GEN_GO) --version 2>/dev/null | awk '{print $$2}' || true); \
	if [[ "$$have" != "$$want" ]]; then \
		echo "installing protoc-gen-go $$want into $(LOCALBIN)"; \
		GOBIN=$(LOCALBIN) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$$want; \
	fi

proto: protoc-gen-go
	protoc --plugin=protoc-gen-go=$(PROTOC_GEN_GO) -I$(ONNX_PROTO_DIR) \
		--go_out=onnxpb --go_opt=paths=source_relative \
		--go_opt=Monnx.proto=github.com/odmn/odmn/onnxpb onnx.proto
	$(GO) build ./onnxpb/

build:
	$(GO) build -o bin/odmn ./cmd/odmn

# The Beam pipelines live in their own module (pipeline/go.mod) so that odmn
# and its packages do not depend on Beam; odmn pipeline ... runs this binary.
pipeline:
	cd pipeline && $(GO) build -o ../bin/odmn-pipeline ./cmd/odmn-pipeline

# It also builds bin/odmn-pipeline, which the daily tests run (make test
# runs this target before go test).
test-pipeline: pipeline
	cd pipeline && $(GO) vet ./... && $(GO) test -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) ./...

# Fuzz first, so that go test's summary is the last thing CI prints. The
# suite runs twice: with the pure-Go kernels (gonum GEMM, Go loops; build
# tag noopenblas), then with the default OpenBLAS and C kernels (cgo).
test: deps
	$(MAKE) --no-print-directory fuzz
	$(MAKE) --no-print-directory test-pipeline
	@echo "go test -tags noopenblas (pure-Go kernels)"
	$(GO) test -tags noopenblas -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) ./...
	@echo "go test (OpenBLAS and C kernels)"
	$(GO) test -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) ./...

fuzz:
	@if [[ -z "$(strip $(FUZZ_TARGETS))" ]]; then echo "fuzz: no FUZZ_TARGETS yet"; exit 0; fi; \
	for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; fn=$${rest%%:*}; n=$${rest#*:}; \
		budget="$(FUZZ_TIME)"; if [[ -z "$$budget" ]]; then budget="$${n}x"; fi; \
		echo "fuzz $$pkg $$fn for $$budget"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime "$$budget" -fuzzminimizetime $(FUZZ_MINIMIZE_TIME) "$$pkg" || exit 1; \
	done

demo: deps build
	bin/odmn demo

bench: deps build
	bin/odmn bench

# CDNOW: the real transaction log shipped in fixtures/cdnow (MIT, with its
# provenance README and SHA256SUMS).
CDNOW ?= fixtures/cdnow/CDNOW_master.txt

cdnow: deps build
	mkdir -p out/cdnow
	bin/odmn dataset from-transactions --in $(CDNOW) --customer customer_id \
		--time date --value dollar_value --count number_of_cds --out out/cdnow/cdnow.csv
	bin/odmn demo --data out/cdnow/cdnow.csv --out out/cdnow

# The README's comparison tables: ODMN, its baselines and ablations over seeds.
compare-synth: deps build
	bin/odmn compare --users 200000 --seeds 5 --ablations --out out/compare-synth

compare-cdnow: deps build
	mkdir -p out/compare-cdnow
	bin/odmn dataset from-transactions --in $(CDNOW) --customer customer_id \
		--time date --value dollar_value --count number_of_cds --out out/compare-cdnow/cdnow.csv
	bin/odmn compare --data out/compare-cdnow/cdnow.csv --seeds 5 --ablations --out out/compare-cdnow

# ONNX backend node tests on the native runtime, into docs/results/
# (docs/conformance.md quotes the counts).
conform-results: deps build
	mkdir -p docs/results
	{ echo "# made by 'make conform-results' (bin/odmn conform nodes) on $$(date -u +%Y-%m-%d)"; \
	  bin/odmn conform nodes; } > docs/results/node-tests.txt
	bin/odmn conform nodes --json docs/results/node-tests.json > /dev/null

# The foreign-model fixtures (PyTorch and onnx.helper exports).
foreign-fixtures: deps
	/usr/bin/python3 fixtures/foreign/make_fixtures.py

# ---------- lint, documented commands, CI ----------

# staticcheck is run as a module at a pinned version (no install step);
# staticcheck.conf holds its configuration.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint:
	@echo "gofmt -l"; bad=$$(gofmt -l $$($(GO) list -f '{{.Dir}}' ./...)); \
	if [[ -n "$$bad" ]]; then echo "not gofmt-ed:"; echo "$$bad"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags noopenblas ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) run $(STATICCHECK) -tags noopenblas ./...

# docs-check reads README.md and docs/*.md (internal/docscheck): every
# `make X` must be a target here, every `odmn ...` command must name a real
# subcommand and real flags, and the blocks marked ```sh {run} run for real
# (quick ones only) from the repository root with bin/ on PATH.
docs-check: build
	$(GO) run ./internal/docscheck README.md docs

ci: deps
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test
	$(MAKE) --no-print-directory docs-check

# ---------- docs/results ----------

# Every file in docs/results/ is made by one of these targets and starts
# with the command and the date that made it.
results: results-demo results-cdnow results-compare conform-results results-deploy results-bench

# odmn bench as the environment configures OpenBLAS (some machines force an
# older core type through OPENBLAS_CORETYPE), then with OpenBLAS choosing its
# kernels for this CPU; both reports and a Markdown summary.
results-bench: build
	bin/odmn bench --json > docs/results/bench.json.tmp
	mv docs/results/bench.json.tmp docs/results/bench.json
	ODMN_GEMM=openblas bin/odmn bench --json > docs/results/bench-openblas.json.tmp
	mv docs/results/bench-openblas.json.tmp docs/results/bench-openblas.json
	$(call stamp,docs/results/bench.md.tmp,make results-bench)
	{ echo; scripts/bench-md.sh docs/results/bench.json docs/results/bench-openblas.json; } >> docs/results/bench.md.tmp
	mv docs/results/bench.md.tmp docs/results/bench.md

# Deployment figures: odmn pipeline score against odmn score on the same
# users (interleaved rounds, outputs compared by score-diff), then
# serve-bench against a private redis-server. USERS, ROUNDS, DURATION.
results-deploy: build pipeline
	scripts/results-deploy.sh

# stamp FILE CMD: write the header line of a results file.
stamp = echo "Made by \`$(2)\` on $$(date -u +%Y-%m-%d)." > $(1)

results-demo: build
	bin/odmn demo --out out/results-demo -q
	mkdir -p docs/results/demo
	$(call stamp,docs/results/demo.md.tmp,make results-demo)
	{ echo; echo "Command: \`bin/odmn demo --out out/results-demo\` (200,000 synthetic users, seed 1)."; echo; \
	  sed 's|(plots/|(demo/|g' out/results-demo/results.md; } >> docs/results/demo.md.tmp
	cp out/results-demo/plots/*.png docs/results/demo/
	mv docs/results/demo.md.tmp docs/results/demo.md

results-cdnow: build
	mkdir -p out/results-cdnow-demo docs/results/cdnow
	bin/odmn dataset from-transactions --in $(CDNOW) --customer customer_id \
		--time date --value dollar_value --count number_of_cds --out out/results-cdnow-demo/cdnow.csv
	bin/odmn demo --data out/results-cdnow-demo/cdnow.csv --out out/results-cdnow-demo -q
	$(call stamp,docs/results/cdnow.md.tmp,make results-cdnow)
	{ echo; echo "Command: \`bin/odmn demo --data out/results-cdnow-demo/cdnow.csv\` on the table \`odmn dataset from-transactions\` builds from fixtures/cdnow."; echo; \
	  sed 's|(plots/|(cdnow/|g' out/results-cdnow-demo/results.md; } >> docs/results/cdnow.md.tmp
	cp out/results-cdnow-demo/plots/*.png docs/results/cdnow/
	mv docs/results/cdnow.md.tmp docs/results/cdnow.md

# docs/results/compare-cdnow.md and compare-synth.md (docs/decodes.md quotes
# them): every model and decode over RESULTS_SEEDS seeds, each file headed by
# its command and date. RESULTS_SYNTH_USERS synthetic users with revenue labels.
RESULTS_SEEDS ?= 5
RESULTS_SYNTH_USERS ?= 50000
RESULTS_FLAGS ?=

results-compare: build
	mkdir -p docs/results out/results-cdnow out/results-synth
	bin/odmn dataset from-transactions --in $(CDNOW) --customer customer_id \
		--time date --value dollar_value --count number_of_cds --out out/results-cdnow/cdnow.csv
	@for set in cdnow synth; do \
		if [[ $$set == cdnow ]]; then src="--data out/results-cdnow/cdnow.csv"; \
		else src="--users $(RESULTS_SYNTH_USERS) --labels revenue"; fi; \
		cmd="bin/odmn compare $$src --seeds $(RESULTS_SEEDS) $(RESULTS_FLAGS) --out out/results-$$set -q"; \
		echo "$$cmd"; $$cmd; \
		{ echo "<!-- generated by make results-compare; do not edit -->"; \
		  echo "Command: \`$$cmd\` (after \`make build\`), run $$(date -u +%Y-%m-%d)."; echo; \
		  sed '1s/^# odmn compare/# odmn compare: '$$set'/' out/results-$$set/results.md; } > docs/results/compare-$$set.md.tmp; \
		mv docs/results/compare-$$set.md.tmp docs/results/compare-$$set.md; \
	done
