#!/usr/bin/env bash
# tests/slurm/run.sh — `make test-slurm`: xbench on a real Slurm scheduler.
#
# Installs Debian's slurm-wlm and munge when missing, starts munged, slurmctld and slurmd as a
# one-node cluster on this machine (configuration from tests/slurm/slurm.conf.in, every file
# in a temporary folder, ports XB_SLURM_PORT and the next one), then:
#   1. `xbench slurm SUITE --shards N -o build/slurm/jobs` and its submit.sh: a job array of N
#      shards and a merge job after it (--dependency=afterok);
#   2. meanwhile, the same suite on this machine alone into build/slurm/single;
#   3. waits for both (XB_SLURM_TIMEOUT seconds in all at most); the merge job must end
#      COMPLETED;
#   4. checks that the merged folder has the same cells, with bit-identical accuracy and FLOP
#      columns, as the one-machine run (Criterion test slurm_cluster::merged_equals_one_machine
#      in tests/test_merge.c, then `xbench compare --latency never`).
# The daemons it started (and only those) are stopped on the way out, whatever happens.
# Settings: XB_SLURM_SUITE (suites/smoke.yaml), XB_SLURM_SHARDS (2), XB_SLURM_TIMEOUT (900),
# XB_SLURM_PORT (16817), XB_SLURM_KEEP=1 keeps the cluster's folder (logs, state).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SUITE=${XB_SLURM_SUITE:-suites/smoke.yaml}
SHARDS=${XB_SLURM_SHARDS:-2}
TIMEOUT=${XB_SLURM_TIMEOUT:-900}
PORT=${XB_SLURM_PORT:-16817}
OUT=$ROOT/build/slurm
PARTITION=xbtest
T0=$(date +%s)

say() { printf 'test-slurm [%3ds]: %s\n' "$(($(date +%s) - T0))" "$*"; }
die() { say "FAILED: $*"; exit 1; }

# ---- packages -----------------------------------------------------------------------------
missing=()
for p in slurm-wlm munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    [ "$(id -u)" = 0 ] || die "missing packages ${missing[*]}: run as root, or sudo apt-get install ${missing[*]}"
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi
for cmd in munged munge slurmctld slurmd sbatch squeue scontrol sinfo scancel; do
    command -v "$cmd" > /dev/null || die "'$cmd' not found after installing slurm-wlm and munge"
done
[ -x ./xbench ] && [ -x ./build/xbench-tests ] || die "build first: make xbench build/xbench-tests"

# ---- the cluster's folder and the clean-up ---------------------------------------------------
STATE=$(mktemp -d /tmp/xbench-slurm.XXXXXX)
chmod 755 "$STATE"    # munged wants the socket's folder searchable by all, the key's private
mkdir -m 700 "$STATE/munge"
mkdir -m 755 "$STATE/run" "$STATE/ctld" "$STATE/spool" "$STATE/log"
MUNGE_PID="" CTLD_PID="" SLURMD_PID="" SINGLE_PID="" JOBS=""
export SLURM_CONF=$STATE/slurm.conf

stop() {
    local rc=$?
    set +e
    if [ -n "$SINGLE_PID" ]; then kill "$SINGLE_PID" 2> /dev/null; wait "$SINGLE_PID" 2> /dev/null; fi
    if [ -n "$JOBS" ] && [ -n "$CTLD_PID" ]; then scancel $JOBS 2> /dev/null; sleep 2; fi
    for pid in $SLURMD_PID $CTLD_PID $MUNGE_PID; do
        kill "$pid" 2> /dev/null
    done
    for pid in $SLURMD_PID $CTLD_PID $MUNGE_PID; do
        for _ in $(seq 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2> /dev/null
        wait "$pid" 2> /dev/null
    done
    if [ "$rc" -ne 0 ]; then
        for f in "$STATE"/log/*.log "$OUT"/jobs/logs/*.log; do
            [ -f "$f" ] || continue
            echo "---- tail of $f"
            tail -n 25 "$f"
        done
    fi
    mkdir -p "$OUT" && cp -r "$STATE/log" "$OUT/cluster-logs" 2> /dev/null
    if [ "${XB_SLURM_KEEP:-0}" = 1 ]; then say "cluster folder kept: $STATE"; else rm -rf "$STATE"; fi
    say "$([ "$rc" -eq 0 ] && echo passed || echo "failed ($rc)") in $(($(date +%s) - T0)) s"
    exit "$rc"
}
trap stop EXIT
trap 'exit 130' INT TERM

# ---- munge ------------------------------------------------------------------------------------
# A key of this test's own, owned by the user that runs munged (munged refuses any other).
KEY=$STATE/munge/munge.key
if [ ! -f "$KEY" ]; then
    dd if=/dev/urandom of="$KEY" bs=1024 count=1 status=none
    chmod 400 "$KEY"
fi
munged -F --socket="$STATE/run/munge.sock" --key-file="$KEY" --pid-file="$STATE/run/munged.pid" \
    --seed-file="$STATE/munge/munged.seed" --log-file="$STATE/log/munged.log" \
    > "$STATE/log/munged.out" 2>&1 &
MUNGE_PID=$!
for _ in $(seq 50); do
    munge -S "$STATE/run/munge.sock" -n 2> /dev/null | unmunge -S "$STATE/run/munge.sock" > /dev/null 2>&1 && break
    kill -0 "$MUNGE_PID" 2> /dev/null || die "munged exited: $(cat "$STATE/log/munged.out")"
    sleep 0.1
done
munge -S "$STATE/run/munge.sock" -n | unmunge -S "$STATE/run/munge.sock" > /dev/null || die "munge does not work"
say "munged up (pid $MUNGE_PID)"

# ---- slurm ------------------------------------------------------------------------------------
HOST=$(hostname -s)
CPUS=$(nproc)
sed -e "s|@HOST@|$HOST|g" -e "s|@CPUS@|$CPUS|g" -e "s|@USER@|$(id -un)|g" -e "s|@STATE@|$STATE|g" \
    -e "s|@CTLD_PORT@|$PORT|g" -e "s|@SLURMD_PORT@|$((PORT + 1))|g" -e "s|@PARTITION@|$PARTITION|g" \
    tests/slurm/slurm.conf.in > "$SLURM_CONF"
slurmctld -D -c -f "$SLURM_CONF" > "$STATE/log/slurmctld.out" 2>&1 &
CTLD_PID=$!
slurmd -D -f "$SLURM_CONF" -N "$HOST" > "$STATE/log/slurmd.out" 2>&1 &
SLURMD_PID=$!
state=""
for _ in $(seq 120); do
    kill -0 "$CTLD_PID" 2> /dev/null || die "slurmctld exited: $(tail -n 5 "$STATE/log/slurmctld.out")"
    kill -0 "$SLURMD_PID" 2> /dev/null || die "slurmd exited: $(tail -n 5 "$STATE/log/slurmd.out")"
    state=$(sinfo -h -N -n "$HOST" -o %T 2> /dev/null | head -n 1 || true)
    case "$state" in
        idle*) break ;;
        drain* | down*) scontrol update nodename="$HOST" state=resume 2> /dev/null || true ;;
    esac
    sleep 0.5
done
[[ "$state" == idle* ]] || die "node $HOST did not become idle (state '$state')"
say "one-node cluster up: node $HOST, $CPUS CPUs, partition $PARTITION, slurmctld pid $CTLD_PID, slurmd pid $SLURMD_PID"

# ---- the job array, and meanwhile the one-machine run ------------------------------------------
rm -rf "$OUT/jobs" "$OUT/single" "$OUT/cluster-logs"
mkdir -p "$OUT"
./xbench slurm "$SUITE" --shards "$SHARDS" -o "$OUT/jobs" --partition "$PARTITION" --time 20 \
    --cpus-per-task 1 --machine quick
"$OUT/jobs/submit.sh"
ARRAY=$(cat "$OUT/jobs/array.jobid")
MERGE=$(cat "$OUT/jobs/merge.jobid")
JOBS="$ARRAY $MERGE"
say "submitted array job $ARRAY and merge job $MERGE"

say "meanwhile, a one-machine run of $SUITE into $OUT/single"
./xbench run "$SUITE" --threads 1 -o "$OUT/single" --machine quick --no-plots --quiet \
    > "$OUT/single.log" 2>&1 &
SINGLE_PID=$!

job_state() { scontrol show job "$1" -o 2> /dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -n 1; }
deadline=$((T0 + TIMEOUT))
last="" st=""
while :; do
    st=$(job_state "$MERGE")
    case "$st" in
        COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE | PREEMPTED) break ;;
    esac
    now=$(squeue -h -j "$ARRAY,$MERGE" -o '%i %T' 2> /dev/null | tr '\n' ' ')
    [ "$now" != "$last" ] && say "queue: $now"
    last=$now
    [ "$(date +%s)" -lt "$deadline" ] || die "the merge job did not end within $TIMEOUT s (state '$st')"
    sleep 2
done
say "merge job $MERGE: $st; array tasks: $(scontrol show job "$ARRAY" -o | sed -n 's/.*JobId=\([0-9]*\) .*ArrayTaskId=\([0-9]*\) .*JobState=\([A-Z_]*\).*/\2:\3/p' | tr '\n' ' ')"
[ "$st" = COMPLETED ] || die "the merge job ended $st (logs in $OUT/jobs/logs/)"
while kill -0 "$SINGLE_PID" 2> /dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || die "the one-machine run did not end within $TIMEOUT s"
    sleep 1
done
single_rc=0
wait "$SINGLE_PID" || single_rc=$?
SINGLE_PID=""
[ "$single_rc" -le 1 ] || die "the one-machine run exited $single_rc: $(tail -n 5 "$OUT/single.log")"
say "one-machine run done (exit $single_rc)"
cat "$OUT/jobs/logs/merge.log"

# ---- the merged results against the one-machine run --------------------------------------------
XB_SLURM_SINGLE=$OUT/single XB_SLURM_MERGED=$OUT/jobs/merged XB_SLURM_SHARDS=$SHARDS \
    OMP_NUM_THREADS=1 ./build/xbench-tests --filter 'slurm_cluster/*' ||
    die "the merged results differ from the one-machine run"
./xbench compare --latency never "$OUT/single" "$OUT/jobs/merged" > "$OUT/compare.txt" ||
    die "xbench compare: $(cat "$OUT/compare.txt")"
say "xbench compare --latency never: $(grep -c . "$OUT/compare.txt") lines, no regression ($OUT/compare.txt)"
