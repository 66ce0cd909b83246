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
#   make ort     fetch the ONNX Runtime shared library into .cache/ort/
#   make proto   regenerate onnxpb/onnx.pb.go from /usr/include/onnx/onnx.proto
#   make fuzz    brief fuzz runs of FUZZ_TARGETS

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

# Fuzz targets as package:FuzzName pairs.
FUZZ_TARGETS ?= ./compat:FuzzImport
FUZZ_TIME ?= 15s

.PHONY: deps ort proto protoc-gen-go build pipeline test-pipeline test fuzz demo cdnow compare-synth compare-cdnow bench conform-results foreign-fixtures

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

test-pipeline:
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
		pkg=$${t%%:*}; fn=$${t#*:}; \
		echo "fuzz $$pkg $$fn for $(FUZZ_TIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZ_TIME) "$$pkg"; \
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
