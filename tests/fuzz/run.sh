#!/usr/bin/env bash
# tests/fuzz/run.sh MODE SECONDS JOBS FORK TARGET... — the fuzz, fuzz-regress and fuzz-merge
# rules of tests/fuzz/fuzz.mk (run from the repository root, targets built in build/fuzz/).
#   fuzz     run each target for SECONDS, JOBS targets at a time; FORK 0: one process per
#            target, which stops at its first finding; FORK N: libFuzzer's fork mode with N
#            workers, where crashes, timeouts and OOMs are written and the run goes on (each
#            worker replays part of the corpus when it starts: slow targets lose time to
#            it); logs in build/fuzz/logs/<name>.log; then one line per target
#   regress  run each target once over every file of its corpus and crashers (fails on the
#            first input that crashes, leaks, trips a sanitizer or runs past 10 s)
#   merge    minimise tests/fuzz/corpus/<name> + build/fuzz/corpus/<name> into a fresh folder
#            (-merge=1) and put it in place of tests/fuzz/corpus/<name>
set -u
mode=$1 secs=$2 jobs=$3 fork=$4
shift 4
F=tests/fuzz B=build/fuzz

# Options every run of target $1 gets: a 10 s limit per input, 2 GiB of memory and no
# single allocation of 256 MiB or more (no reader needs one for an input this size), its
# dictionary, and an input size that fits its format.
opts() {
    local t=$1 o="-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256"
    [ -f "$F/dict/$t.dict" ] && o="$o -dict=$F/dict/$t.dict"
    case $t in
        cifar) o="$o -max_len=20000" ;;
        cells|meta) o="$o -max_len=16384" ;;
        *) o="$o -max_len=8192" ;;
    esac
    echo "$o"
}

run_one() {
    local t=$1
    mkdir -p "$B/corpus/$t" "$F/crashers/$t" "$B/logs"
    local start=$SECONDS
    local mode=""
    [ "$fork" -gt 0 ] && mode="-fork=$fork -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1"
    # shellcheck disable=SC2046,SC2086
    "$B/$t" $(opts "$t") $mode -max_total_time="$secs" -print_final_stats=1 \
        -artifact_prefix="$F/crashers/$t/" "$B/corpus/$t" "$F/corpus/$t" > "$B/logs/$t.log" 2>&1
    echo $((SECONDS - start)) > "$B/logs/$t.wall"
}

# Totals of a run from its log. Fork mode: the parent's last progress line "#EXECS: cov: C
# ft: F corp: N exec/s E oom/timeout/crash: O/T/X time: Ss ...". One process: the
# stat::number_of_executed_units line of -print_final_stats, the last "cov:" of the progress
# lines, and the findings written ("Test unit written to .../crash-...").
report() {
    printf '%-10s %7s %12s %9s %6s %5s %8s %7s %5s\n' target time_s executions exec/s cov oom timeout crashes slow
    local t log line execs cov oom to cr slow tm rate bad=0
    for t in "$@"; do
        log=$B/logs/$t.log
        line=$(grep -E '^#[0-9]+: cov: ' "$log" | tail -1)
        if [ -n "$line" ]; then
            execs=$(sed -E 's/^#([0-9]+):.*/\1/' <<< "$line")
            cov=$(sed -E 's/.* cov: ([0-9]+) .*/\1/' <<< "$line")
            IFS=/ read -r oom to cr <<< "$(sed -E 's|.*oom/timeout/crash: ([0-9]+/[0-9]+/[0-9]+).*|\1|' <<< "$line")"
        else
            execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -1)
            cov=$(grep -oE ' cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
            oom=$(grep -cE 'Test unit written to .*/oom-' "$log")
            to=$(grep -cE 'Test unit written to .*/timeout-' "$log")
            cr=$(grep -cE 'Test unit written to .*/(crash|leak)-' "$log")
            if [ -z "$execs" ]; then
                # a finding ends the process before the final stats: count the progress lines
                execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
            fi
        fi
        if [ -z "$execs" ]; then
            printf '%-10s no statistics: see %s\n' "$t" "$log"
            bad=1
            continue
        fi
        # an input slower than -report_slow_units (10 s) that still ended: written as slow-unit-*
        slow=$(grep -cE 'Test unit written to .*/slow-unit-' "$log")
        tm=$(cat "$B/logs/$t.wall")
        rate=$(( tm > 0 ? execs / tm : execs ))
        printf '%-10s %7s %12s %9s %6s %5s %8s %7s %5s\n' "$t" "$tm" "$execs" "$rate" "${cov:-?}" "$oom" "$to" "$cr" "$slow"
        [ $((oom + to + cr + slow)) -gt 0 ] && bad=1
    done
    if [ $bad -ne 0 ]; then
        echo "fuzz: findings are in $F/crashers/<target>/ (reproduce: $B/<target> FILE; logs: $B/logs/)"
        return 1
    fi
}

case $mode in
fuzz)
    for t in "$@"; do
        while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
        echo "fuzz: $t for ${secs}s (log: $B/logs/$t.log)"
        run_one "$t" &
    done
    wait
    report "$@"
    ;;
regress)
    status=0
    for t in "$@"; do
        files=()
        while IFS= read -r f; do files+=("$f"); done < <(find "$F/corpus/$t" "$F/crashers/$t" -type f 2>/dev/null | sort)
        if [ ${#files[@]} -eq 0 ]; then echo "fuzz-regress: $t: no inputs"; continue; fi
        mkdir -p "$B/logs"
        start=$SECONDS
        # shellcheck disable=SC2046
        if "$B/$t" $(opts "$t") "${files[@]}" > "$B/logs/$t.regress.log" 2>&1; then
            echo "fuzz-regress: $t: ${#files[@]} inputs ok ($((SECONDS - start)) s)"
        else
            echo "fuzz-regress: $t: FAILED (log: $B/logs/$t.regress.log)"
            grep -E 'ERROR|runtime error|Running:|xb-fuzz' "$B/logs/$t.regress.log" | tail -5
            status=1
        fi
    done
    exit $status
    ;;
merge)
    for t in "$@"; do
        rm -rf "$B/merge/$t"
        mkdir -p "$B/merge/$t" "$B/corpus/$t"
        # shellcheck disable=SC2046
        if "$B/$t" $(opts "$t") -merge=1 "$B/merge/$t" "$F/corpus/$t" "$B/corpus/$t" > "$B/logs/$t.merge.log" 2>&1; then
            rm -rf "$F/corpus/$t"
            cp -r "$B/merge/$t" "$F/corpus/$t"
            echo "fuzz-merge: $t: $(find "$F/corpus/$t" -type f | wc -l) files, $(du -sk "$F/corpus/$t" | cut -f1) KiB"
        else
            echo "fuzz-merge: $t: FAILED (log: $B/logs/$t.merge.log)"
            exit 1
        fi
    done
    ;;
*)
    echo "usage: $0 fuzz|regress|merge SECONDS JOBS FORK TARGET..." >&2
    exit 2
    ;;
esac
