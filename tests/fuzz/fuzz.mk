# tests/fuzz/fuzz.mk — libFuzzer targets for every reader of outside input (tests/fuzz/*.c;
# tests/fuzz/README.md says what each covers). Included by the Makefile. Needs clang with
# libFuzzer (Debian: clang); `make test` and the gcc build do not use any of this.
#
#   make fuzz-build    build every target: build/fuzz/<name>
#   make fuzz          run each for FUZZ_TIME seconds (default 600), FUZZ_JOBS targets at a
#                      time (default: all of them at once), one process each, which stops at
#                      its first finding; FUZZ_FORK=N runs each in libFuzzer's fork mode with
#                      N workers instead, going on past findings. New inputs go to
#                      build/fuzz/corpus/<name>, findings to tests/fuzz/crashers/<name>/; a
#                      line per target at the end (time, executions, exec/s, coverage,
#                      oom/timeout/crash counts). FUZZ_TARGETS=... picks some.
#   make fuzz-regress  run every target once over tests/fuzz/corpus/<name> and
#                      tests/fuzz/crashers/<name> (each file executed once): the regression
#                      test, seconds
#   make fuzz-merge    minimise the seed corpus and what `make fuzz` found into
#                      tests/fuzz/corpus/<name> (-merge=1 into a fresh folder)
#
# The library is compiled again with clang under build/fuzz/obj (AddressSanitizer,
# UndefinedBehaviorSanitizer that aborts, libFuzzer's coverage); no gcc object is linked.
FUZZ_CC     ?= clang
FUZZ_TIME   ?= 600
FUZZ_FORK   ?= 0
FUZZ_SAN     = -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  = -std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer -fopenmp -Wall -Wextra \
               -Wno-pass-failed -I. -I$(BLAS_INC) $(FUZZ_SAN)
FUZZ_ALL     = $(sort $(basename $(notdir $(wildcard tests/fuzz/*.c))))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_JOBS   ?= $(words $(FUZZ_TARGETS))
FUZZ_BINS    = $(FUZZ_ALL:%=build/fuzz/%)
FUZZ_OBJ     = $(SRC_LIB:%.c=build/fuzz/obj/%.o) build/fuzz/obj/gen/plot_templates.o

.PHONY: fuzz fuzz-build fuzz-regress fuzz-merge fuzz-check-cc fuzz-deps
# clang and its runtimes (libFuzzer, the sanitizers), and everything `make` needs
fuzz-deps:
	$(call install_missing,$(DEB_PKGS) clang libclang-rt-dev)
fuzz-check-cc: fuzz-deps
	@command -v $(FUZZ_CC) >/dev/null || { echo "fuzz: '$(FUZZ_CC)' not found (Debian: apt-get install clang)"; exit 1; }

build/fuzz/obj/%.o: %.c $(HDRS) | fuzz-check-cc
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
build/fuzz/obj/harness/version.o: build/version.h
build/fuzz/obj/gen/plot_templates.o: build/gen/plot_templates.c $(HDRS) | fuzz-check-cc
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

build/fuzz/libxb.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) build/fuzz/libxb.a $(HDRS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< build/fuzz/libxb.a $(LDLIBS) -o $@

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	tests/fuzz/run.sh fuzz $(FUZZ_TIME) $(FUZZ_JOBS) $(FUZZ_FORK) $(FUZZ_TARGETS)

fuzz-regress: fuzz-build
	tests/fuzz/run.sh regress 0 1 1 $(FUZZ_ALL)

fuzz-merge: fuzz-build
	tests/fuzz/run.sh merge 0 1 1 $(FUZZ_TARGETS)
