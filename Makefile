# xbench — plain Makefile.  `make run` and `make test` do everything on a fresh Debian 12.
#   make          build ./xbench
#   make deps     install the Debian packages that are missing (apt-get as root, else prints sudo)
#   make run      deps + build + run the default suite.yaml
#   make test     deps + build + run every Criterion test
#   make check-regress  rerun suites/smoke.yaml and compare it with results/baseline (CI)
#   make baseline       regenerate results/baseline (and its repeat) on this machine
#   make test-slurm     a one-node Slurm cluster runs suites/smoke.yaml as 2 shards + merge
#   make fuzz           libFuzzer targets of every input reader (clang; tests/fuzz/fuzz.mk)
#   make clean    remove build outputs
CC      ?= gcc
BLAS_INC = /usr/include/x86_64-linux-gnu/openblas-openmp
BLAS_LIB = /usr/lib/x86_64-linux-gnu/openblas-openmp
OPT     ?= -O3 -march=native
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) -fopenmp -Wall -Wextra -g -I. -I$(BLAS_INC)
LDLIBS  += -L$(BLAS_LIB) -Wl,-rpath,$(BLAS_LIB) -lopenblas -lyaml -ljson-c -lfftw3f -lpng -lz -lm
TEST_LDLIBS = -lcriterion
# `xbench info` and meta.json report the flags the harness was built with.
XB_BUILD_FLAGS := $(CFLAGS)
build/harness/machine.o: CFLAGS += -DXB_CFLAGS='"$(XB_BUILD_FLAGS)"'

# The commit the binary is built from ("-dirty" with uncommitted changes), recorded in every
# run's meta.json. build/version.h is rewritten only when it changes, so builds stay incremental.
GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git rev-parse HEAD >/dev/null 2>&1 && ! git diff --quiet HEAD -- 2>/dev/null && echo -dirty)
build/version.h: FORCE
	@mkdir -p build
	@echo '#define XB_GIT_COMMIT "$(GIT_COMMIT)"' > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@
	@rm -f $@.tmp
build/harness/version.o: build/version.h
FORCE:

# Debian packages xbench needs (build, tests, plots, offline data sets).
DEB_PKGS = gcc make pkg-config libyaml-dev libcriterion-dev gnuplot-nox libopenblas-openmp-dev \
           libjson-c-dev libfftw3-dev zlib1g-dev libpng-dev fortunes fortunes-min dataset-fashion-mnist

SRC_LIB  = $(wildcard core/*.c) $(wildcard harness/*.c) $(wildcard mixers/*.c) $(wildcard tasks/*.c)
SRC_CMD  = $(wildcard cmd/*.c)
SRC_TEST = $(wildcard tests/*.c)
OBJ_LIB  = $(SRC_LIB:%.c=build/%.o)
OBJ_CMD  = $(SRC_CMD:%.c=build/%.o)
OBJ_TEST = $(SRC_TEST:%.c=build/%.o)
HDRS     = $(wildcard core/*.h) $(wildcard harness/*.h) $(wildcard mixers/*.h) $(wildcard tasks/*.h) $(wildcard cmd/*.h) $(wildcard tests/*.h)

SUITE ?= suite.yaml

.PHONY: all deps run test clean check-deps check-regress baseline FORCE
all: xbench

build/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

build/libxb.a: $(OBJ_LIB)
	@rm -f $@
	ar rcs $@ $^

xbench: $(OBJ_CMD) build/libxb.a
	$(CC) $(CFLAGS) $(OBJ_CMD) build/libxb.a $(LDLIBS) -o $@

build/xbench-tests: $(OBJ_TEST) build/libxb.a
	$(CC) $(CFLAGS) $(OBJ_TEST) build/libxb.a $(LDLIBS) $(TEST_LDLIBS) -o $@

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "deps: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else \
	  echo "deps: missing packages:$$missing"; \
	  echo "deps: run: sudo apt-get update && sudo apt-get install -y$$missing"; exit 1; \
	fi

run: deps
	$(MAKE) xbench
	./xbench run $(SUITE)

# Criterion runs two tests at a time on a 2-core machine, so each test gets one OpenMP thread
# by default (tests that check thread-count behaviour set their own counts); passive waiting
# keeps idle OpenMP threads from spinning against the other test process.
TEST_JOBS ?= 2
test: deps
	$(MAKE) xbench build/xbench-tests
	OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive ./build/xbench-tests --jobs $(TEST_JOBS) $(TEST_ARGS)

# Regression check for CI: rerun the CI-sized suite into build/regress and compare it with the
# committed baseline (`xbench compare`: exit 1 on a regression, a lost or failed cell or no
# common cell; 2 on bad input). Accuracy is deterministic per seed and thread count, so it
# compares on any machine. Latency is compared only when the baseline was measured on this
# machine in this boot (meta.json machine.boot_id): `make baseline` makes one here, twice
# (results/baseline and results/baseline/repeat), so compare knows the run-to-run spread.
# CHECK_LATENCY=never compares accuracy alone (what .ci/run does on its shared VM).
REGRESS_SUITE ?= suites/smoke.yaml
REGRESS_RUN = ./xbench run $(REGRESS_SUITE) --machine quick --no-plots --quiet
CHECK_LATENCY ?= same-machine
check-regress: xbench
	rm -rf build/regress
	$(REGRESS_RUN) -o build/regress > /dev/null || [ $$? -eq 1 ]
	./xbench compare results/baseline build/regress --latency $(CHECK_LATENCY) \
	  $$( [ -f results/baseline/repeat/cells.jsonl ] && echo --repeat results/baseline/repeat )

baseline: xbench
	rm -rf results/baseline
	$(REGRESS_RUN) -o results/baseline > /dev/null || [ $$? -eq 1 ]
	$(REGRESS_RUN) -o results/baseline/repeat > /dev/null || [ $$? -eq 1 ]

clean:
	rm -rf build xbench

# A real scheduler: a one-node Slurm cluster on this machine (slurm-wlm and munge installed
# when missing, daemons started and stopped by the script) runs suites/smoke.yaml as a job
# array of 2 shards and a merge job, and the merged results must equal a one-machine run
# (tests/slurm/run.sh; a few minutes).
.PHONY: test-slurm
test-slurm: xbench build/xbench-tests
	tests/slurm/run.sh

# libFuzzer targets (clang): make fuzz, fuzz-build, fuzz-regress, fuzz-merge.
include tests/fuzz/fuzz.mk
