# shellcheck shell=bash
# Sourced by tools/bench, the stress scripts and lib/testpmd.sh: what a benchmark script needs
# beside its contenders. Processes it starts and stops (all of them stopped by bench_cleanup, from
# an EXIT trap), network namespaces it makes and deletes, a results file with one line a run; what
# reads the runs' output and makes reports of them is Java (dev.lowmem.tools.bench.BenchReport, in
# the tools jar), run by bench_java.

# --- processes ---------------------------------------------------------------------------------

declare -A BENCH_LIVE=()   # pid -> what it is, for every process started and not yet reaped
BENCH_PID=

# bench_start LOG COMMAND...: COMMAND in the background, stdout to LOG.out, stderr to LOG.err;
# its pid in BENCH_PID. Its stdin is /dev/null: nothing it runs may read the terminal.
bench_start() {
    local log=$1
    shift
    "$@" </dev/null >"$log.out" 2>"$log.err" &
    BENCH_PID=$!
    BENCH_LIVE[$BENCH_PID]=$log
}

# bench_wait PID: waits for PID and returns its exit status. A signal to the script (its trap)
# interrupts the wait at once, where a foreground child would have held it up.
bench_wait() {
    local rc=0
    wait "$1" || rc=$?
    unset "BENCH_LIVE[$1]"
    return "$rc"
}

# bench_run LOG COMMAND...: bench_start, then bench_wait.
bench_run() {
    bench_start "$@"
    bench_wait "$BENCH_PID"
}

# bench_stop PID [GRACE_S]: SIGTERM (the scripts and our command print their counters on it),
# SIGKILL after GRACE_S seconds (default 20); returns the exit status. Nothing if PID is gone.
bench_stop() {
    local pid=$1 grace=${2:-20} deadline
    [[ -n $pid && -n ${BENCH_LIVE[$pid]:-} ]] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + grace))
    while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        echo "${0##*/}: ${BENCH_LIVE[$pid]} ($pid) still running ${grace}s after SIGTERM: SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    bench_wait "$pid"
}

# bench_await WHAT TIMEOUT_S PID COMMAND...: until COMMAND succeeds; fails when PID (the process
# that should bring it about) exits first, or TIMEOUT_S pass.
bench_await() {
    local what=$1 deadline=$((SECONDS + $2)) pid=$3
    shift 3
    until "$@"; do
        if ! kill -0 "$pid" 2>/dev/null; then echo "${0##*/}: no $what: ${BENCH_LIVE[$pid]:-$pid} exited" >&2; return 1; fi
        if (( SECONDS >= deadline )); then echo "${0##*/}: no $what after $2 s" >&2; return 1; fi
        sleep 0.1
    done
}

# --- network namespaces ------------------------------------------------------------------------

declare -A BENCH_NETNS=()

bench_netns_add() {
    ip netns add "$1"
    BENCH_NETNS[$1]=1
    ip -n "$1" link set lo up
}

bench_netns_del() {
    ip netns del "$1" 2>/dev/null || true
    unset "BENCH_NETNS[$1]"
}

# bench_cleanup: stops every process still running (all at once, then waits), deletes the
# namespaces. For the EXIT trap.
bench_cleanup() {
    local pid ns
    for pid in "${!BENCH_LIVE[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${!BENCH_LIVE[@]}"; do bench_stop "$pid" 10 || true; done
    for ns in "${!BENCH_NETNS[@]}"; do bench_netns_del "$ns"; done
}

# --- results -----------------------------------------------------------------------------------
# One line a run, tab-separated: part, case, contender, round, value, second value, raw output
# directory, pinning. A failed run has "-" for both values.

BENCH_RESULTS=
BENCH_JAR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/tools/target/vhost-user-net.jar

bench_record() {
    local IFS=$'\t'
    echo "$*" >>"$BENCH_RESULTS"
}

# bench_java COMMAND ARG...: the bench's parsers, statistics, reports and charts (BenchReport
# --help; its Javadoc says what each does). Needs JAVA_HOME (require_jdk25) and the tools jar.
bench_java() {
    "$JAVA_HOME/bin/java" -cp "$BENCH_JAR" dev.lowmem.tools.bench.BenchReport "$@"
}

# bench_machine [OPTION...]: the facts BenchReport machine reads (the CPU model, the RAM, the free
# hugepages; QEMU's, iperf3's and the guest's versions from what its OPTIONs give it) in MACHINE[KEY].
declare -A MACHINE=()
bench_machine() {
    local facts key value
    facts=$(bench_java machine "$@") || return 1
    # shellcheck disable=SC2034 # MACHINE is for the scripts that source this
    while IFS=$'\t' read -r key value; do MACHINE[$key]=$value; done <<<"$facts"
}

