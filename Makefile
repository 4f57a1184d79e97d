# The NVGRE gateway's build. Two commands for a new user (README):
#   make demo   set everything up, then run the demo fabric
#   make test   set everything up, build, lint, run every test (CI runs this)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

NODE ?= node
NPX := npx --no-install
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
TOOLCHAIN := $(NODE) dist/test/support/toolchain-cli.js

# What the registries give us; p4c and bmv2 come from p4lang's own packages (README).
APT_PACKAGES := mininet bridge-utils iputils-ping iproute2 libpcap-dev python3-scapy \
                tshark tcpdump iperf3 ethtool python3-yaml python3-cryptography systemd etcd-server \
                prometheus chromium openssl protobuf-compiler libprotobuf-dev

TS_SOURCES := $(shell find common proto softswitch controller test bench topologies -name '*.ts' -not -path '*/node_modules/*' 2>/dev/null)
TEST_FILES = $(shell find dist/test -name '*.test.js' | sort)

# Loader options in proto/load.ts must match these flags.
PROTO_GEN_FLAGS := --keepCase --longs=String --enums=String --defaults --oneofs --grpcLib=@grpc/grpc-js
PROTO_ROOTS := p4/v1/p4runtime.proto google/rpc/code.proto

.PHONY: help setup apt-packages toolchain build lint format test demo lab clean-net bench p4 p4-check p4-check-tofino tofino-stages \
        proto-types proto-types-check protobuf-es protobuf-es-check clean fabric-schema openapi goldens

help:
	@echo "make demo    set up, then run the demo fabric (README's first command)"
	@echo "             SWITCH=bmv2 runs it on simple_switch_grpc; CAPTURE=1 writes captures/*.pcap"
	@echo "             STORE=etcd runs the controller as 2 replicas on a 3-member etcd, then a failover"
	@echo "make lab     the demo fabric left up with the Mininet CLI and the controller running"
	@echo "make test    set up, build, lint and run every test (README's second command)"
	@echo "make setup   install Debian and npm dependencies, build, report the p4lang toolchain"
	@echo "make bench   run the benchmarks and print their figures"
	@echo "make p4      compile p4/ and the test fixtures with p4c into their committed build/ dirs"
	@echo "             (and p4/tna for tofino / tofino2 where bf-p4c is installed)"
	@echo "make p4-check        recompile into a temporary dir and fail if committed outputs differ"
	@echo "                     (Tofino builds: their source stamps; make p4-check-tofino recompiles them)"
	@echo "make tofino-stages   stages the TNA program needs per target (bf-p4c's dependency graph, minutes)"
	@echo "make proto-types     regenerate proto/gen (TypeScript types of the vendored protos)"
	@echo "make protobuf-es     regenerate bench/protobuf-es (@bufbuild/protobuf code of the vendored protos)"
	@echo "make toolchain       report p4c / bmv2 availability"
	@echo "make clean-net       remove what a killed fabric run left behind (namespaces, links, processes)"
	@echo "make fabric-schema   regenerate controller/intent/fabric.schema.json from the fabric file's zod schema"
	@echo "make openapi         regenerate controller/api/openapi.json from the API's zod schemas"
	@echo "make goldens         rewrite the compiler's golden files (test/fixtures/fabric/*.golden)"

setup: apt-packages node_modules/.package-lock.json dist/.built toolchain

# Installs only what is missing, so a second run changes nothing and needs no network.
apt-packages:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "setup: Debian packages present"; else \
	  echo "setup: installing Debian packages:$$missing"; \
	  $(SUDO) apt-get -o DPkg::Lock::Timeout=600 update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $$missing; \
	fi

# npm writes node_modules/.package-lock.json on every install: newer than the lock file = up to date.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-fund --no-audit
	@touch $@

# nvgre-ctl runs from an ES module bundle of the CLI (dist/controller/nvgre-ctl/: the entry and
# the chunks its lazily loaded commands share), so that starting it does not wait on the module
# loader reading a few dozen small files (bench/cli-startup). commander and picocolors are
# bundled (CommonJS, hence the `require` the banner gives every chunk); the other packages stay
# in node_modules, and `run` (the daemon) imports dist/ as tsc wrote it.
CLI_BUNDLE := dist/controller/nvgre-ctl
CLI_BUNDLED_PACKAGES := commander picocolors
CLI_EXTERNAL = $(shell $(NODE) -p 'const keep = "$(CLI_BUNDLED_PACKAGES)".split(" "); \
  Object.keys(require("./package.json").dependencies).filter((d) => !keep.includes(d)) \
  .map((d) => `--external:$${d} --external:$${d}/*`).join(" ")')

dist/.built: $(TS_SOURCES) tsconfig.json node_modules/.package-lock.json
	$(NPX) tsc -p tsconfig.json
	rm -rf $(CLI_BUNDLE)
	$(NPX) esbuild dist/controller/cli/main.js --bundle --platform=node --format=esm --splitting \
	  $(CLI_EXTERNAL) --external:../api/run.js --outdir=$(CLI_BUNDLE) --log-level=warning \
	  '--banner:js=import { createRequire as bundleRequire } from "node:module"; const require = bundleRequire(import.meta.url);'
	@touch $@

build: dist/.built

toolchain: dist/.built
	@echo "p4lang toolchain (install from p4lang's packages; see README):"
	@$(TOOLCHAIN) report

lint: node_modules/.package-lock.json
	$(NPX) biome check .

format: node_modules/.package-lock.json
	$(NPX) biome check --write .

test: setup lint
	$(NODE) --test --test-reporter=spec $(TEST_FILES)

# The demo fabric's switch target (softswitch | bmv2); CAPTURE=1 also captures a fabric link.
SWITCH ?= softswitch
# The controller's store: embedded (one daemon) | etcd (3 etcd members, 2 replicas, a failover).
STORE ?= embedded
# Mininet needs root; sudo's PATH may not hold node, so it is given by its full path.
DEMO := $(SUDO) $(shell command -v $(NODE)) dist/topologies/demo/main.js --switch $(SWITCH) --store $(STORE)

# Benchmarks print figures; they assert nothing and are never part of `make test`.
BENCHES := cli-startup p4rt-writes protobuf-codecs controller-compile address-parsing yaml-parsing move-validation controller-move apply-rss inprocess-pps leaf-scale match-kinds switch-tables veth-pps fabric store cluster

bench: setup
	@for b in $(BENCHES); do echo "== bench/$$b"; $(NODE) dist/bench/$$b.js; done

demo: setup
	$(DEMO)$(if $(filter 1,$(CAPTURE)), --capture)

lab: setup
	$(DEMO) --lab

# Repairs a machine a killed fabric run left dirty: ends the processes and deletes the
# interfaces that dead runs recorded (never another live run's), then Mininet's own cleanup.
clean-net:
	$(SUDO) /usr/bin/python3 topologies/fabric.py clean
	$(SUDO) mn -c

# Tofino (p4/build/tna, p4/build/t2na) where bf-p4c is installed, said visibly when skipped
# (compile-tofino exits 3); then v1model with p4c-bm2-ss as before.
p4: dist/.built
	@status=0; $(TOOLCHAIN) compile-tofino || status=$$?; \
	if [ $$status -ne 0 ] && [ $$status -ne 3 ]; then exit $$status; fi
	$(TOOLCHAIN) compile-p4

# Exit 3 from compile-p4 / compile-tofino means no compiler: reported as a skip, not a failure.
# p4-check recompiles v1model and the fixtures (seconds) and checks the Tofino builds' source
# stamps (no compiler needed). A Tofino compile takes most of an hour per target on 2 cores, so
# recompiling them is its own target, p4-check-tofino, outside make test.
p4-check: dist/.built
	@$(TOOLCHAIN) check-tofino-sources | sed 's/^/p4-check: /'
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	status=0; $(TOOLCHAIN) compile-p4 "$$tmp" >/dev/null || status=$$?; \
	if [ $$status -eq 3 ]; then echo "p4-check: SKIPPED v1model (p4c-bm2-ss not found)"; exit 0; fi; \
	if [ $$status -ne 0 ]; then exit $$status; fi; \
	for dir in p4/build test/fixtures/build; do \
	  if [ -d "$$dir" ] || [ -d "$$tmp/$$dir" ]; then \
	    diff -r -x tna -x t2na -x '*.p4info.bin' "$$dir" "$$tmp/$$dir" || exit 1; \
	    for bin in $$(cd "$$tmp/$$dir" && find . -path ./tna -prune -o -path ./t2na -prune -o -name '*.p4info.bin' -print); do \
	      $(TOOLCHAIN) same-p4info "$$dir/$$bin" "$$tmp/$$dir/$$bin" || exit 1; \
	    done; \
	  fi; \
	done; \
	echo "p4-check: committed P4 outputs are fresh"

# How many stages the TNA program's dependency chains need, per target, against the device's
# (bf-p4c's dependency graph, about a minute per target; the compile is stopped there).
tofino-stages: dist/.built
	@$(TOOLCHAIN) tofino-stages

# Tofino builds are compared without the binaries (build dates inside), the resource logs, the
# stamps (checked by p4-check) and context.json's build date.
p4-check-tofino: dist/.built
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	status=0; $(TOOLCHAIN) compile-tofino "$$tmp" >/dev/null || status=$$?; \
	if [ $$status -eq 3 ]; then echo "p4-check-tofino: SKIPPED tofino, tofino2 (bf-p4c not found)"; exit 0; fi; \
	if [ $$status -ne 0 ]; then exit $$status; fi; \
	for arch in tna t2na; do \
	  diff -r -x '*.bin' -x resources -x sources.json -I '"build_date"' "p4/build/$$arch" "$$tmp/p4/build/$$arch" || exit 1; \
	  $(TOOLCHAIN) same-p4info "p4/build/$$arch/nvgre.p4info.bin" "$$tmp/p4/build/$$arch/nvgre.p4info.bin" || exit 1; \
	done; echo "p4-check-tofino: committed Tofino outputs are fresh"

proto-types: node_modules/.package-lock.json
	rm -rf proto/gen
	$(call gen_proto_types,proto/gen)

proto-types-check: node_modules/.package-lock.json
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(call gen_proto_types,$$tmp/gen) >/dev/null; \
	diff -r proto/gen "$$tmp/gen" && echo "proto-types-check: proto/gen is fresh"

# The generator writes extensionless relative imports; Node's ESM resolution needs ".js".
define gen_proto_types
$(NPX) proto-loader-gen-types $(PROTO_GEN_FLAGS) -I proto -O $(1) $(PROTO_ROOTS); \
find $(1) -name '*.ts' -exec sed -E -i "s#(from '\.{1,2}/[^']*)';#\1.js';#" {} +
endef

# @bufbuild/protobuf code of the vendored protos (protoc + protoc-gen-es; google/protobuf/any.proto
# from libprotobuf-dev), for bench/protobuf-codecs.ts's comparison of the hand-written codecs.
PROTOBUF_ES_FILES := p4/v1/p4runtime.proto p4/v1/p4data.proto p4/config/v1/p4info.proto \
                     p4/config/v1/p4types.proto google/rpc/status.proto

protobuf-es: node_modules/.package-lock.json
	rm -rf bench/protobuf-es
	$(call gen_protobuf_es,bench/protobuf-es)

protobuf-es-check: node_modules/.package-lock.json
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(call gen_protobuf_es,$$tmp/gen); \
	diff -r bench/protobuf-es "$$tmp/gen" && echo "protobuf-es-check: bench/protobuf-es is fresh"

define gen_protobuf_es
mkdir -p $(1); \
protoc --plugin=protoc-gen-es=node_modules/.bin/protoc-gen-es --es_out=$(1) \
  --es_opt=target=ts,import_extension=js -I proto $(PROTOBUF_ES_FILES)
endef

fabric-schema: dist/.built
	$(NODE) dist/controller/intent/json-schema.js controller/intent/fabric.schema.json
	$(NPX) biome format --write controller/intent/fabric.schema.json

openapi: dist/.built
	$(NODE) dist/controller/api/openapi.js controller/api/openapi.json
	$(NPX) biome format --write controller/api/openapi.json

# Deliberate only: review the diff of the goldens before committing it.
goldens: dist/.built
	UPDATE_GOLDENS=1 $(NODE) --test dist/test/controller/compile/golden.test.js

clean:
	rm -rf dist
