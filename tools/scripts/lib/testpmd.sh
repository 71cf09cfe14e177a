# shellcheck shell=bash disable=SC2034
# Sourced by tools/scripts/testpmd-*: runs one DPDK testpmd in interactive mode, fed commands
# through a FIFO, and turns its final statistics into one machine-readable line per port.
#
# Why interactive: testpmd prints its forward statistics on `stop` and the port (NIC) counters
# on `show port stats all`; driving it from a FIFO lets us start, wait, stop and read both,
# whatever the peer does. stdout goes through `stdbuf -oL` so the log is in order and the
# prompts ("testpmd> ") can be counted to know when a command has finished.
#
# Use:  tp_init NAME; tp_launch EAL_AND_APP_ARGS...; tp_wait_ready; tp_cmd start; ...;
#       tp_finish; tp_summary ROLE   (and tp_cleanup from an EXIT trap)
#
# Reading the log is Java, as all the bench's analysis (BenchReport in the tools jar, through
# bench_java): tp_require_testpmd finds a JDK 25 and builds the jar when it is missing or stale.

TP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
source "$TP_ROOT/tools/bin/lib/jdk.sh"
source "$TP_ROOT/tools/bin/lib/build.sh"
# shellcheck source=SCRIPTDIR/bench.sh
source "$TP_ROOT/tools/scripts/lib/bench.sh"

TP_PROMPT='testpmd> '

tp_die() { echo "${0##*/}: $*" >&2; exit 2; }

tp_require_testpmd() {
    command -v dpdk-testpmd >/dev/null ||
        tp_die "dpdk-testpmd not found: apt-get install -y dpdk (Debian 12 ships DPDK 22.11)"
    command -v stdbuf >/dev/null || tp_die "stdbuf not found: apt-get install -y coreutils"
    require_jdk25 || exit 2
    if jar_is_stale "$TP_ROOT" "$BENCH_JAR" vmm-core virtio devices tools; then
        build_modules "$TP_ROOT" tools
    fi
}

# tp_require_hugepages MB: enough free 2 MiB hugepages for an EAL that preallocates MB.
tp_require_hugepages() {
    local need_mb=$1 free total
    bench_machine --meminfo /proc/meminfo || tp_die "could not read /proc/meminfo"
    free=${MACHINE[hugepages_free]:-0} total=${MACHINE[hugepages_total]:-0}
    if (( free * 2 < need_mb )); then
        cat >&2 <<MSG
${0##*/}: $need_mb MiB of 2 MiB hugepages needed, only $((free * 2)) MiB free ($total pages reserved).
Reserve some as root, e.g.:   echo 512 > /proc/sys/vm/nr_hugepages
or run without hugepages:     --no-huge  (DPDK then backs its memory with a memfd)
MSG
        exit 2
    fi
}

# tp_init NAME: a work directory and a file prefix no other DPDK process uses.
tp_init() {
    TP_NAME=$1
    TP_WORK=$(mktemp -d "${TMPDIR:-/tmp}/lowmem-vnet-$TP_NAME.XXXXXX")
    TP_PREFIX="lvnet-$TP_NAME-$$"
    TP_FIFO="$TP_WORK/commands"
    TP_LOG=${TP_LOG:-"$TP_WORK/testpmd.log"}
    TP_PID=
    TP_KEEP_LOG=${TP_KEEP_LOG:-0}
    mkfifo "$TP_FIFO"
    trap '' PIPE    # a testpmd that died makes a write fail, not kill the script unseen
}

# tp_launch ARGS...: dpdk-testpmd ARGS..., in its own session (a Ctrl-C on the script must not
# reach it: the script stops it with `stop` and `quit` so that it prints its statistics).
tp_launch() {
    echo "+ dpdk-testpmd $*" >&2
    echo "+ dpdk-testpmd $*" >"$TP_LOG"
    setsid stdbuf -oL -eL dpdk-testpmd "$@" <"$TP_FIFO" >>"$TP_LOG" 2>&1 &
    TP_PID=$!
    exec {TP_FD}>"$TP_FIFO"
}

tp_alive() { [[ -n $TP_PID ]] && kill -0 "$TP_PID" 2>/dev/null; }

tp_prompts() { grep -o "$TP_PROMPT" "$TP_LOG" 2>/dev/null | wc -l; }

tp_fail() {
    echo "${0##*/}: $*" >&2
    echo "--- last lines of $TP_LOG ---" >&2
    tail -n 25 "$TP_LOG" >&2
    TP_KEEP_LOG=1
    exit 1
}

# tp_wait_prompts N TIMEOUT_S: until the log holds N prompts.
tp_wait_prompts() {
    local want=$1 deadline=$((SECONDS + $2))
    while (( $(tp_prompts) < want )); do
        tp_alive || tp_fail "testpmd exited early"
        (( SECONDS < deadline )) || return 1
        sleep 0.1
    done
}

# tp_wait_ready TIMEOUT_S: the first prompt, then port 0's link up. A virtio_user in server mode
# sits in its probe until a back-end connects, so the timeout covers that wait too.
tp_wait_ready() {
    local timeout=$1 deadline=$((SECONDS + $1))
    tp_wait_prompts 1 "$timeout" ||
        tp_fail "no testpmd prompt after ${timeout}s (a server=1 port waits there for its peer)"
    while :; do
        tp_cmd "show port info 0"
        [[ $(grep 'Link status:' "$TP_LOG" | tail -n 1) == *up* ]] && return 0
        (( SECONDS < deadline )) || tp_fail "port 0 link still down after ${timeout}s"
        sleep 0.5
    done
}

# tp_cmd COMMAND [TIMEOUT_S]: sends one command and waits for the prompt that follows it.
tp_cmd() {
    local before
    before=$(tp_prompts)
    tp_alive || tp_fail "testpmd is gone (before '$1')"
    echo "$1" >&"$TP_FD" || tp_fail "testpmd stopped reading commands"
    tp_wait_prompts $((before + 1)) "${2:-30}" || tp_fail "'$1' did not finish"
}

# tp_now_us: wall-clock microseconds (bash 5's EPOCHREALTIME).
tp_now_us() { echo $(( ${EPOCHREALTIME/./} )); }

# tp_run_for SECONDS: sleeps, or until SIGINT/SIGTERM when SECONDS is 0; returns early on either.
# Sets TP_ELAPSED to the seconds it really ran (two decimals). A script that sets TP_ON_USR1 to a
# command, and traps SIGUSR1 with TP_USR1=1 (from its start: the default action ends a process),
# has that command run here on each SIGUSR1.
TP_STOP=0 TP_USR1=0 TP_ON_USR1=''
tp_run_for() {
    local seconds=$1 start end
    start=$(tp_now_us)
    end=$((start + seconds * 1000000))
    trap 'TP_STOP=1' INT TERM
    while (( TP_STOP == 0 )) && { (( seconds == 0 )) || (( $(tp_now_us) < end )); }; do
        tp_alive || tp_fail "testpmd exited while running"
        if (( TP_USR1 )) && [[ -n $TP_ON_USR1 ]]; then
            TP_USR1=0
            $TP_ON_USR1
        fi
        sleep 0.1 & wait $! || true
    done
    tp_default_traps
    local us=$(( $(tp_now_us) - start ))
    TP_ELAPSED=$(printf '%d.%02d' $((us / 1000000)) $((us % 1000000 / 10000)))
}

# tp_default_traps: a signal ends the script, through its EXIT trap (which calls tp_cleanup).
tp_default_traps() {
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# tp_finish: stop forwarding (forward statistics), read the port counters, quit.
tp_finish() {
    tp_cmd stop
    tp_cmd "show port stats all"
    echo quit >&"$TP_FD"
    local deadline=$((SECONDS + 30))
    while tp_alive && (( SECONDS < deadline )); do sleep 0.1; done
    if tp_alive; then
        echo "${0##*/}: testpmd did not quit, killing it" >&2
        kill -KILL "$TP_PID" 2>/dev/null || true
    fi
    wait "$TP_PID" 2>/dev/null || true
    TP_PID=
}

# tp_summary ROLE [EXTRA] [NAMES]: one line per port, from the last "NIC statistics" (port
# counters since the port started) and "Forward statistics" (since `start`; its TX-dropped =
# frames the forwarding engine could not place in a full TX ring) blocks of the log
# (BenchReport testpmd-summary, TestpmdLog). NAMES, if given, is a comma-separated list of names
# for ports 0, 1, ...
tp_summary() {
    bench_java testpmd-summary "$TP_LOG" --role "$1" --extra "${2:-}" --names "${3:-}" ||
        tp_fail "no port statistics in the log"
}

# tp_feature_names HEX: the names of the virtio(-net) feature bits set in HEX.
tp_feature_names() {
    local -A names=(
        [0]=CSUM [1]=GUEST_CSUM [2]=CTRL_GUEST_OFFLOADS [3]=MTU [5]=MAC [6]=GSO
        [7]=GUEST_TSO4 [8]=GUEST_TSO6 [9]=GUEST_ECN [10]=GUEST_UFO [11]=HOST_TSO4
        [12]=HOST_TSO6 [13]=HOST_ECN [14]=HOST_UFO [15]=MRG_RXBUF [16]=STATUS [17]=CTRL_VQ
        [18]=CTRL_RX [19]=CTRL_VLAN [20]=CTRL_RX_EXTRA [21]=GUEST_ANNOUNCE [22]=MQ
        [23]=CTRL_MAC_ADDR [24]=NOTIFY_ON_EMPTY [27]=ANY_LAYOUT [28]=INDIRECT_DESC
        [29]=EVENT_IDX [30]=PROTOCOL_FEATURES [32]=VERSION_1 [33]=ACCESS_PLATFORM
        [34]=RING_PACKED [35]=IN_ORDER [36]=ORDER_PLATFORM [37]=SR_IOV
        [38]=NOTIFICATION_DATA [40]=RING_RESET [54]=GUEST_USO4 [55]=GUEST_USO6
        [56]=HOST_USO [57]=HASH_REPORT [59]=GUEST_HDRLEN [60]=RSS [61]=RSC_EXT
        [62]=STANDBY [63]=SPEED_DUPLEX)
    local value=$(( 16#${1#0x} )) bit out=()
    for (( bit = 0; bit < 64; bit++ )); do
        (( (value >> bit) & 1 )) && out+=("${names[$bit]:-bit$bit}")
    done
    local IFS=,
    echo "${out[*]}"
}

tp_cleanup() {
    if tp_alive; then
        kill -INT "$TP_PID" 2>/dev/null || true
        sleep 1
        kill -KILL "$TP_PID" 2>/dev/null || true
    fi
    if [[ -n ${TP_FD:-} ]]; then exec {TP_FD}>&-; fi
    rm -rf "/var/run/dpdk/$TP_PREFIX" "/dev/hugepages/${TP_PREFIX}"map_* 2>/dev/null || true
    if [[ $TP_KEEP_LOG == 1 && $TP_LOG == "$TP_WORK"/* ]]; then
        echo "${0##*/}: log kept in $TP_LOG" >&2
        rm -f "$TP_FIFO"
    else
        rm -rf "$TP_WORK"
    fi
}
