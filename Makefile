# odmn build, test and tooling. GNU make.
#
#   make deps    install what odmn needs (apt packages, ONNX Runtime, Go modules)
#   make test    deps, brief fuzz runs, go test ./...
#   make build   bin/odmn
#   make demo    deps, build, bin/odmn demo (synthetic users)
#   make cdnow   deps, build, the demo on CDNOW (../shared/datasets/cdnow)
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

.PHONY: deps ort proto protoc-gen-go build test fuzz demo cdnow

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
		--go_opt=Monnx.proto=odmn/onnxpb onnx.proto
	$(GO) build ./onnxpb/

build:
	$(GO) build -o bin/odmn ./cmd/odmn

# Fuzz first, so that go test's summary is the last thing CI prints.
test: deps
	$(MAKE) --no-print-directory fuzz
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

# CDNOW: the real transaction log is read from ../shared, never copied here.
CDNOW ?= $(CURDIR)/../shared/datasets/cdnow/CDNOW_master.txt

cdnow: deps build
	mkdir -p out/cdnow
	bin/odmn dataset from-transactions --in $(CDNOW) --customer customer_id \
		--time date --value dollar_value --count number_of_cds --out out/cdnow/cdnow.csv
	bin/odmn demo --data out/cdnow/cdnow.csv --out out/cdnow
