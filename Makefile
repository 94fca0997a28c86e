# xbench — plain Makefile.  `make run` and `make test` do everything on a fresh Debian 12.
#   make          build ./xbench
#   make deps     install the Debian packages that are missing (apt-get as root, else prints sudo)
#   make run      deps + build + run the default suite.yaml
#   make test     deps + build + run every Criterion test
#   make test SAN=1  the same with AddressSanitizer + UndefinedBehaviorSanitizer (objects in
#                 build/san; ./xbench is then the sanitized one until the next plain `make`)
#   make valgrind memcheck of a smoke run, cells included, on an AVX2 build in build/vg
#   make check-regress  rerun suites/smoke.yaml and compare it with results/baseline (CI)
#   make check-report-link  report/plot/compare linked without OpenBLAS and OpenMP (make test runs it)
#   make baseline       regenerate results/baseline (and its repeat) on this machine
#   make test-slurm     a one-node Slurm cluster runs suites/smoke.yaml as 2 shards + merge
#   make fuzz           libFuzzer targets of every input reader (clang; tests/fuzz/fuzz.mk)
#   make clean    remove build outputs
CC      ?= gcc
BLAS_INC = /usr/include/x86_64-linux-gnu/openblas-openmp
BLAS_LIB = /usr/lib/x86_64-linux-gnu/openblas-openmp
# SAN=1: AddressSanitizer + UndefinedBehaviorSanitizer (any UB report is fatal) in a build tree
# of its own. Each tree's objects are built with one set of flags (BUILD/cflags records them),
# and ./xbench is a copy of the last tree built, so switching SAN on and off never mixes them.
ifeq ($(SAN),1)
BUILD   ?= build/san
OPT     ?= -O2 -march=native
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
TEST_LDLIBS = -Wl,--wrap=criterion_internal_test_main    # tests/sanitize.c: a leak fails its test
else
BUILD   ?= build
OPT     ?= -O3 -march=native
endif
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) -fopenmp -Wall -Wextra -g -I. -I$(BLAS_INC)
LDLIBS  += -L$(BLAS_LIB) -Wl,-rpath,$(BLAS_LIB) -lopenblas -lyaml -ljson-c -lfftw3f -lpng -lz -lm
TEST_LDLIBS += -lcriterion
# `xbench info` and meta.json report the flags the harness was built with.
XB_BUILD_FLAGS := $(CFLAGS)
$(BUILD)/harness/machine.o: CFLAGS += -DXB_CFLAGS='"$(XB_BUILD_FLAGS)"'

# The commit the binary is built from ("-dirty" with uncommitted changes), recorded in every
# run's meta.json. build/version.h is rewritten only when it changes, so builds stay incremental.
GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git rev-parse HEAD >/dev/null 2>&1 && ! git diff --quiet HEAD -- 2>/dev/null && echo -dirty)
build/version.h: FORCE
	@mkdir -p build
	@echo '#define XB_GIT_COMMIT "$(GIT_COMMIT)"' > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@
	@rm -f $@.tmp
$(BUILD)/harness/version.o: build/version.h
FORCE:

# Debian packages xbench needs (build, tests, plots, offline data sets).
DEB_PKGS = gcc make pkg-config libyaml-dev libcriterion-dev gnuplot-nox libopenblas-openmp-dev \
           libjson-c-dev libfftw3-dev zlib1g-dev libpng-dev fortunes fortunes-min dataset-fashion-mnist

# Two libraries. libxbreport.a reads results back (harness/report/, the gnuplot templates, and
# the two core files it needs: core/xb.c, core/text.c); it links without OpenBLAS and OpenMP.
# libxb.a is everything else: the engine, the mixers, the tasks, the run side of harness/.
SRC_REPORT = $(wildcard harness/report/*.c) core/xb.c core/text.c
SRC_RUN  = $(filter-out $(SRC_REPORT),$(wildcard core/*.c) $(wildcard harness/*.c) $(wildcard mixers/*.c) $(wildcard tasks/*.c))
SRC_LIB  = $(SRC_RUN) $(SRC_REPORT)
SRC_CMD  = $(wildcard cmd/*.c)
SRC_TEST = $(wildcard tests/*.c)
OBJ_RUN  = $(SRC_RUN:%.c=$(BUILD)/%.o)
OBJ_REPORT = $(SRC_REPORT:%.c=$(BUILD)/%.o) $(BUILD)/gen/plot_templates.o
OBJ_CMD  = $(SRC_CMD:%.c=$(BUILD)/%.o)
OBJ_TEST = $(SRC_TEST:%.c=$(BUILD)/%.o)
HDRS     = $(wildcard core/*.h) $(wildcard harness/*.h) $(wildcard harness/report/*.h) $(wildcard mixers/*.h) $(wildcard tasks/*.h) $(wildcard cmd/*.h) $(wildcard tests/*.h)

SUITE ?= suite.yaml

.PHONY: all deps run test clean check-deps check-regress baseline FORCE
all: xbench

# BUILD/cflags holds the compiler and flags of that tree, rewritten only when they change:
# objects built with other flags (another OPT, say) are rebuilt. build/flavor names the tree and
# flags ./xbench was last copied from, so a build of another tree recopies it.
$(BUILD)/cflags: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CC) $(CFLAGS)' > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@
	@rm -f $@.tmp
build/flavor: FORCE
	@mkdir -p build
	@echo '$(BUILD) $(CC) $(CFLAGS)' > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@
	@rm -f $@.tmp

$(BUILD)/%.o: %.c $(HDRS) $(BUILD)/cflags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# The gnuplot templates (plots/*.gp) are compiled into the binary, which so never reads the
# source tree: build/gen/plot_templates.c holds each file as a byte array, written with od and
# sed (xxd is not part of a base Debian system), rewritten only when it changes.
PLOT_TEMPLATES = $(sort $(wildcard plots/*.gp))
build/gen/plot_templates.c: $(PLOT_TEMPLATES) Makefile
	@mkdir -p build/gen
	@{ echo '/* build/gen/plot_templates.c: the files plots/NAME.gp, generated by the Makefile (do not edit) */'; \
	  echo '#include "harness/report/plot_gp.h"'; \
	  i=0; for f in $(PLOT_TEMPLATES); do \
	    echo "static const unsigned char t$$i[] = {"; \
	    od -An -v -tx1 "$$f" | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	    echo '0 };'; i=$$((i + 1)); \
	  done; \
	  echo 'const xb_gp_template xb_gp_templates[] = {'; \
	  i=0; for f in $(PLOT_TEMPLATES); do \
	    echo "    { \"$$(basename "$$f")\", (const char *)t$$i, sizeof t$$i - 1 },"; i=$$((i + 1)); \
	  done; \
	  echo '};'; \
	  echo 'const int xb_gp_n_templates = (int)(sizeof xb_gp_templates / sizeof *xb_gp_templates);'; \
	} > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@
	@rm -f $@.tmp
$(BUILD)/gen/plot_templates.o: build/gen/plot_templates.c $(HDRS) $(BUILD)/cflags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libxb.a: $(OBJ_RUN)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libxbreport.a: $(OBJ_REPORT)
	@rm -f $@
	ar rcs $@ $^

# The run side calls the report side, never the other way round: libxb.a first.
LIBS_XB = $(BUILD)/libxb.a $(BUILD)/libxbreport.a

$(BUILD)/xbench: $(OBJ_CMD) $(LIBS_XB)
	$(CC) $(CFLAGS) $(OBJ_CMD) $(LIBS_XB) $(LDLIBS) -o $@

# `report`, `plot` and `compare` only read results: build/xbench-report is cmd/main.c's
# command table of those three alone (XB_REPORT_ONLY), linked against libxbreport.a without
# -fopenmp and without OpenBLAS, FFTW, libyaml, libpng or zlib. A report-side file that
# needed any of them would fail to link here; check-report-link (run by `make test`) also
# fails when the binary loads libopenblas or libgomp anyway (ldd), or when it writes other
# bytes than ./xbench from the same results folder.
REPORT_CMD = $(BUILD)/cmd/main-report.o $(BUILD)/cmd/cmd_report.o $(BUILD)/cmd/cmd_plot.o \
             $(BUILD)/cmd/cmd_compare.o
$(BUILD)/cmd/main-report.o: cmd/main.c $(HDRS) $(BUILD)/cflags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DXB_REPORT_ONLY -c $< -o $@
$(BUILD)/xbench-report: $(REPORT_CMD) $(BUILD)/libxbreport.a
	$(CC) $(filter-out -fopenmp,$(CFLAGS)) $(REPORT_CMD) $(BUILD)/libxbreport.a -ljson-c -lm -o $@

.PHONY: check-report-link
CHECK_REPORT = $(BUILD)/report-check
check-report-link: $(BUILD)/xbench-report xbench
	@if ldd $< | grep -E 'libopenblas|libgomp|libfftw|libyaml'; then \
	  echo "check-report-link: $< loads the libraries above: the report side must not need them"; exit 1; fi
	@rm -rf $(CHECK_REPORT) && mkdir -p $(CHECK_REPORT)/xbench $(CHECK_REPORT)/report
	@for b in xbench report; do \
	  bin=./xbench; [ $$b = report ] && bin=$<; d=$(CHECK_REPORT)/$$b; \
	  cp results/baseline/cells.jsonl results/baseline/meta.json $$d/ && \
	  $$bin report -q $$d && PATH= $$bin plot $$d 2> /dev/null && \
	  { $$bin compare results/baseline results/baseline/repeat --latency never > $$d/compare.out; \
	    echo "exit $$?" >> $$d/compare.out; } || exit 1; \
	done
	@diff -r $(CHECK_REPORT)/xbench $(CHECK_REPORT)/report || { \
	  echo "check-report-link: $< and ./xbench wrote different files"; exit 1; }
	@echo "check-report-link: $< (report, plot, compare) loads no OpenBLAS or OpenMP and writes what ./xbench writes"

# The tests run ./xbench, so it is the binary of the tree being built.
xbench: $(BUILD)/xbench build/flavor
	cp $< $@

$(BUILD)/xbench-tests: $(OBJ_TEST) $(LIBS_XB)
	$(CC) $(CFLAGS) $(OBJ_TEST) $(LIBS_XB) $(LDLIBS) $(TEST_LDLIBS) -o $@

# $(call install_missing,PACKAGES): apt-get install those not installed (as root), else say
# the sudo command and fail.
define install_missing
	@missing=""; for p in $(1); do \
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
endef

deps:
	$(call install_missing,$(DEB_PKGS))

run: deps
	$(MAKE) xbench
	./xbench run $(SUITE)

# Criterion runs two tests at a time on a 2-core machine, so each test gets one OpenMP thread
# by default (tests that check thread-count behaviour set their own counts); passive waiting
# keeps idle OpenMP threads from spinning against the other test process.
TEST_JOBS ?= 2
# Under SAN=1 every sanitizer report ends the process that made it: a test's own process
# (Criterion then fails that test; tests/sanitize.c fails a test that leaks), an ./xbench a test
# runs, or a cell's forked child (which checks for leaks before it exits). ASan and LSan reports
# are also written to build/san/sanlog/, and the run fails when any is there, whatever the exit
# statuses (LeakSanitizer's notes that a thread was not suspended are not reports). UBSan
# reports go to the stderr of their process, which exits 87. tests/lsan.supp names only
# uninstrumented libraries. allocator_may_return_null: cells under a memory limit must see
# malloc fail as they do without ASan. SAN_SKIP: suites left out under SAN=1 (mqar_learn's two
# 1000-step training gates take over 5 minutes each there; the code they run is checked by the
# learn, train and mixers suites); SAN_SKIP= runs every test.
# Every run also fails when the tests leave a new entry in the repository root (a test once
# made folders named by stray stack bytes there).
ROOT_LIST = ls -Ab | LC_ALL=C sort
ifeq ($(SAN),1)
SANLOG   = $(CURDIR)/$(BUILD)/sanlog
SAN_SKIP ?= mqar_learn
TEST_ENV = ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1:print_stacktrace=1:detect_stack_use_after_return=1:strict_string_checks=1:allocator_may_return_null=1:log_path=$(SANLOG)/asan \
           UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87 \
           LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0
TEST_FILTER = $(if $(SAN_SKIP),--filter '!($(subst $(eval) ,|,$(strip $(SAN_SKIP))))/*')
SAN_CHECK = bad=$$(grep -l -e 'ERROR: ' -e 'SUMMARY: ' $(SANLOG)/* 2> /dev/null); \
	if [ -n "$$bad" ]; then for f in $$bad; do echo "== $$f"; cat "$$f"; done; \
	  echo "test: sanitizer reports in $(SANLOG) (above)"; rc=1; fi;
endif
test: deps
	$(MAKE) xbench $(BUILD)/xbench-tests
	$(MAKE) check-report-link
	@$(ROOT_LIST) > $(BUILD)/root-before
ifeq ($(SAN),1)
	@rm -rf $(SANLOG) && mkdir -p $(SANLOG)
endif
	$(TEST_ENV) OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive $(BUILD)/xbench-tests --jobs $(TEST_JOBS) $(TEST_FILTER) $(TEST_ARGS); \
	rc=$$?; new=$$($(ROOT_LIST) | comm -13 $(BUILD)/root-before -); \
	if [ -n "$$new" ]; then echo "test: new in the repository root after the tests:"; echo "$$new"; rc=1; fi; \
	$(SAN_CHECK) exit $$rc

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

# valgrind memcheck of a smoke run on an AVX2 build (valgrind cannot run AVX-512) in its own
# tree, build/vg. The suite is suites/smoke.yaml cut to one seed and 10 steps (valgrind runs
# ~50x slower). Cells run in forked children, which valgrind follows (a fork is traced like its
# parent; --trace-children follows exec too). Every process writes its own log; the target
# fails unless each one says "ERROR SUMMARY: 0 errors" and every cell ran ok (exit 0: a cell
# that timed out would go unchecked). tests/valgrind.supp names only libgomp's and OpenBLAS's
# noise. VG_SUITE and VG_ARGS pick the run.
VG_OPT   = -O2 -march=x86-64-v3
VG_SUITE ?= tests/data/suites/valgrind.yaml
VG_ARGS  ?= --only softmax,gla --threads 1 --machine none --no-plots
VALGRIND = valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
           --track-origins=yes --trace-children=yes --suppressions=$(CURDIR)/tests/valgrind.supp
.PHONY: valgrind
valgrind:
	$(MAKE) SAN= BUILD=build/vg OPT='$(VG_OPT)' build/vg/xbench
	rm -rf build/vg/run build/vg/logs && mkdir -p build/vg/logs
	$(VALGRIND) --log-file=build/vg/logs/vg.%p.log build/vg/xbench run $(VG_SUITE) -o build/vg/run $(VG_ARGS); \
	rc=$$?; n=$$(ls build/vg/logs | wc -l); \
	bad=$$(grep -L 'ERROR SUMMARY: 0 errors' build/vg/logs/*.log); \
	for f in $$bad; do echo "== $$f"; cat "$$f"; done; \
	grep -h 'ERROR SUMMARY' build/vg/logs/*.log | sed 's/^==[0-9]*== //' | sort | uniq -c; \
	echo "valgrind: $$n processes, exit $$rc"; \
	[ -z "$$bad" ] && [ $$rc -eq 0 ]

# A real scheduler: a one-node Slurm cluster on this machine (slurm-wlm and munge installed
# when missing, daemons started and stopped by the script) runs suites/smoke.yaml as a job
# array of 2 shards and a merge job, and the merged results must equal a one-machine run
# (tests/slurm/run.sh; a few minutes).
.PHONY: test-slurm
test-slurm: xbench build/xbench-tests
	tests/slurm/run.sh

# libFuzzer targets (clang): make fuzz, fuzz-build, fuzz-regress, fuzz-merge.
include tests/fuzz/fuzz.mk
