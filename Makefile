# SPDX-License-Identifier: GPL-2.0
# uml-vfio: PCI passthrough for User-Mode Linux through the host's VFIO.
#
# `make` builds UML with our driver from a bare Debian 12; `make check` runs
# the tests. Downloads and the base repository are cached in $(CACHE), so a
# fresh clone reuses them.

CACHE ?= $(or $(UML_VFIO_CACHE),$(HOME)/.cache/uml-vfio)
# Every script (the rig's, the tests', the benchmark's) uses this cache.
export UML_VFIO_CACHE := $(CACHE)
BASE_VERSION ?= 7.3.4-1~bpo13+1
# The L1 kernel of the rig is pinned in tools/testing/uml-vfio/rig/fetch-l1.sh;
# L1_KERNEL_VERSION=VERSION (a linux-image-6.12 of bookworm) overrides it.

TOP := $(CURDIR)
T := $(TOP)/tools/testing/uml-vfio
S := $(T)/scripts
BUILD := $(TOP)/build
TREE := $(BUILD)/linux
OUT := $(BUILD)/uml
UML := $(OUT)/linux

BUILD_DEPS := gcc make bc flex bison libelf-dev libssl-dev ccache git \
	python3 perl xz-utils ca-certificates

.PHONY: all deps fetch tree config build w1 patches check debug demo shell bench irqtrace help clean distclean
.DEFAULT_GOAL := all

all: build
	@echo "UML with our driver: $(UML)"

help:
	@echo "uml-vfio targets:"
	@echo "  make             build UML with our driver (deps, fetch, tree, config, build)"
	@echo "  make demo        boot the QEMU rig and show what UML sees of the passed-through devices"
	@echo "  make shell       an interactive shell inside UML with the devices passed through"
	@echo "  make check       run the tests: static checks, local boots, the rig (TAP; N passed, N failed)"
	@echo "  make debug       build the debug UML (KASAN, lockdep) in build/uml-debug, run the rig's tests with it"
	@echo "  make bench       native vs our UML vs upstream's UML driver in the rig: build/bench/ (~25 min)"
	@echo "  make irqtrace    where a device interrupt's time goes, ours vs upstream's, from L1's ftrace: build/irqtrace/"
	@echo "  make patches     export the tree's changes as a git format-patch series in build/patches"
	@echo "  make w1          rebuild our driver files with W=1"
	@echo "  make deps        install missing build dependencies (apt-get)"
	@echo "  make fetch       fetch Debian's linux-source $(BASE_VERSION) into $(CACHE)"
	@echo "  make tree        prepare the git tree in build/linux"
	@echo "  make clean       remove build/ (the cache stays)"
	@echo "  make distclean   remove build/ and the cached base repository"
	@echo "Variables: CACHE=$(CACHE) (or UML_VFIO_CACHE), BASE_VERSION=$(BASE_VERSION),"
	@echo "  L1_KERNEL_VERSION (the rig's L1 kernel; pinned: $$($(T)/rig/fetch-l1.sh pin))"

deps:
	@$(S)/deps.sh "needed to fetch and build UML" $(BUILD_DEPS)

fetch: deps
	@$(S)/fetch-base.sh $(CACHE) '$(BASE_VERSION)' >/dev/null
	@echo "base: $$(cat $(CACHE)/base-version)"

tree: fetch
	@$(S)/base-repo.sh $(CACHE) >/dev/null
	@$(S)/prepare-tree.sh $(CACHE)/base.git $(TREE) $(TOP)

build: tree
	@$(S)/build.sh $(TREE) $(OUT) $(T)/config
	@$(S)/verify-build.sh $(TOP) $(TREE) $(OUT)

# The driver's objects: one per C file of ours in arch/um/drivers.
DRIVER_OBJS := $(patsubst %.c,%.o,$(sort $(wildcard arch/um/drivers/vfio_*.c)))

w1: tree
	@$(S)/build.sh $(TREE) $(OUT) $(T)/config W=1 $(DRIVER_OBJS)

patches: tree
	@rm -rf $(BUILD)/patches
	@git -C $(TREE) format-patch -q -o $(BUILD)/patches refs/tags/stripped..HEAD
	@ls $(BUILD)/patches/*.patch
	@echo "apply with: git am $(BUILD)/patches/*.patch (onto tag 'stripped' of $(CACHE)/base.git)"

check: build
	@$(T)/run-tests.sh

debug: build
	@$(T)/faults/debug.sh

demo: build
	@$(T)/demo.sh demo

shell: build
	@$(T)/demo.sh shell

bench: build
	@$(T)/bench/bench.sh

irqtrace: build
	@BENCH_MODE=irqtrace $(T)/bench/bench.sh

clean:
	rm -rf $(BUILD)

distclean: clean
	rm -rf $(CACHE)/base.git
