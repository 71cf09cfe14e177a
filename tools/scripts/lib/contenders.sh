# shellcheck shell=bash disable=SC2034  # the variables are the callers' to read and set
# Sourced by tools/bench and tools/scripts/stress-guest-memory (after lib/bench.sh, whose
# bench_start, bench_await, bench_stop and namespaces it uses): the contenders both measure, and
# what they read of a guest's iperf3.
#
#   start_ours, start_dpdk     our back-end (tools/bin/vhost-user-net) or DPDK's (testpmd
#                              net_vhost, tools/scripts/testpmd-vhost-backend) on a socket, for any
#                              front-end
#   guest_host_up, _down       a guest's host side in a network namespace of its own, through one
#                              of GUEST_CONTENDERS (or LATENCY_CONTENDERS), with an iperf3 server
#                              there (or a sockperf server)
#   switch_up, _down           two guests' NICs joined, through one of SWITCH_CONTENDERS: our
#                              --switch, a Linux bridge between QEMU TAPs, or testpmd between two
#                              net_vhost ports
#   iperf3_result              a guest's iperf3 client output, from its console log
#   sockperf_result            a guest's sockperf ping-pong output, from its console log
#
# The caller sets, before use:
#   CONTENDER_BACKEND_CPU   the back-end's CPU (all of the JVM's threads, or testpmd's lcores)
#   CONTENDER_FRONTEND_CPU  QEMU's CPU, for guest_host_up's GUEST_RUN
#   CONTENDER_IPERF3_CPU    the host iperf3 (or sockperf) server's CPU
#   CONTENDER_SERVER        optional (default iperf3): the server guest_host_up starts, iperf3 or
#                           sockperf
#   CONTENDER_SOCK_DIR      a short directory for sockets (a UNIX socket's path has at most 107 bytes)
#   CONTENDER_TAP_QUEUES    optional (default 1): the TAP make_tap makes is multi_queue when more
# and reads what the functions set: BACKEND_PID, GUEST_NIC, GUEST_IN_NETNS, GUEST_RUN, SERVER_PID,
# and for two guests SWITCH_NIC0, SWITCH_NIC1.

CONTENDERS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
CONTENDER_BACKEND_CPU=0 CONTENDER_FRONTEND_CPU=1 CONTENDER_IPERF3_CPU=0 CONTENDER_SOCK_DIR=/tmp
CONTENDER_TAP_QUEUES=1 CONTENDER_SERVER=iperf3

# The host's side of a guest's NIC: in every namespace the same TAP name and address, the guest
# 10.0.2.2 (run-guest's default) and the iperf3 or sockperf server at the host address (the
# guest's sockperf scenario sends to port 11111). LATENCY_CONTENDERS adds QEMU's TAP with INTx
# (vectors=0, as vhost-user has under TCG) to QEMU's TAP with its default (MSI-X).
GUEST_CONTENDERS=(ours qemu-tap dpdk)
LATENCY_CONTENDERS=(ours qemu-tap qemu-tap-intx dpdk)
CONTENDER_TAP=lvb0 CONTENDER_HOST_ADDR=10.0.2.1 CONTENDER_IPERF3_PORT=5201 CONTENDER_SOCKPERF_PORT=11111

BACKEND_PID='' GUEST_NIC=() GUEST_IN_NETNS=0 GUEST_RUN=() SERVER_PID=''

# --- back-ends on a socket ------------------------------------------------------------------------

# start_ours RUN_DIR SOCKET NETNS OPTION...: our back-end on SOCKET with OPTIONs (its host-side
# port and more), in NETNS unless it is empty, pinned; its output in RUN_DIR/backend.{out,err};
# BACKEND_PID (the JVM's: the launchers exec).
start_ours() {
    local run=$1 socket=$2 inside=()
    [[ -n $3 ]] && inside=(ip netns exec "$3")
    shift 3
    bench_start "$run/backend" "${inside[@]}" taskset -c "$CONTENDER_BACKEND_CPU" \
        "$CONTENDERS_ROOT/tools/bin/vhost-user-net" --socket "$socket" "$@"
    BACKEND_PID=$BENCH_PID
    bench_await "socket $socket" 60 "$BACKEND_PID" test -S "$socket"
}

# start_dpdk RUN_DIR SOCKET NETNS OPTION...: testpmd-vhost-backend on SOCKET with OPTIONs (in NETNS
# unless it is empty), pinned; its output in RUN_DIR/backend.{out,err}, testpmd's log in
# RUN_DIR/backend-testpmd.log; BACKEND_PID (the script's: SIGTERM and SIGUSR1 print its counters).
start_dpdk() {
    local run=$1 socket=$2 inside=()
    [[ -n $3 ]] && inside=(ip netns exec "$3")
    shift 3
    bench_start "$run/backend" "${inside[@]}" taskset -c "$CONTENDER_BACKEND_CPU" \
        "$CONTENDERS_ROOT/tools/scripts/testpmd-vhost-backend" --socket "$socket" --cpu "$CONTENDER_BACKEND_CPU" \
        --ready-file "$run/ready" --log "$run/backend-testpmd.log" "$@"
    BACKEND_PID=$BENCH_PID
    bench_await "ready file from testpmd-vhost-backend" 60 "$BACKEND_PID" test -e "$run/ready"
}

# --- a guest's host side --------------------------------------------------------------------------
# host_NAME NETNS RUN_DIR [OPTION...] sets up the host's side of the guest's NIC in NETNS, through
# contender NAME, and sets GUEST_NIC (run-guest's options for it), GUEST_IN_NETNS (1: QEMU must
# run in NETNS, its own TAP is there) and, for a back-end, BACKEND_PID. OPTIONs go to our
# back-end (host_ours); the others take none.

# make_tap NETNS: a persistent TAP with the host's address in NETNS, as guest-tests' HostSide
# makes it, for a back-end or QEMU to attach to; multi_queue when CONTENDER_TAP_QUEUES > 1.
make_tap() {
    local flags=(vnet_hdr)
    (( CONTENDER_TAP_QUEUES > 1 )) && flags+=(multi_queue)
    ip -n "$1" tuntap add dev "$CONTENDER_TAP" mode tap "${flags[@]}" &&
        ip -n "$1" addr add "$CONTENDER_HOST_ADDR/24" dev "$CONTENDER_TAP" &&
        ip -n "$1" link set "$CONTENDER_TAP" up
}

host_ours() {
    local ns=$1 run=$2
    shift 2
    make_tap "$ns" || return 1
    GUEST_NIC=(--socket "$CONTENDER_SOCK_DIR/guest.sock")
    start_ours "$run" "$CONTENDER_SOCK_DIR/guest.sock" "$ns" --tap "$CONTENDER_TAP" "$@"
}

host_qemu_tap() {
    make_tap "$1" || return 1
    GUEST_NIC=(--tap "$CONTENDER_TAP")
    GUEST_IN_NETNS=1
}

# QEMU's TAP with the NIC on INTx, as a vhost-user NIC must be under TCG (run-guest --vectors 0).
host_qemu_tap_intx() {
    host_qemu_tap "$@" || return 1
    GUEST_NIC+=(--vectors 0)
}

# net_tap makes the TAP itself.
host_dpdk() {
    GUEST_NIC=(--socket "$CONTENDER_SOCK_DIR/guest.sock")
    start_dpdk "$2" "$CONTENDER_SOCK_DIR/guest.sock" "$1" --tap "$CONTENDER_TAP" --tap-addr "$CONTENDER_HOST_ADDR/24"
}

# guest_host_up CONTENDER NETNS RUN_DIR "IPERF3_SERVER_ARGS" [OPTION...]: NETNS made, CONTENDER's
# host side in it (host_CONTENDER NETNS RUN_DIR OPTION...), and iperf3 -s IPERF3_SERVER_ARGS there
# (pinned, listening on CONTENDER_IPERF3_PORT, its output in RUN_DIR/iperf3-server.*), or with
# CONTENDER_SERVER=sockperf a sockperf server on the host address, UDP port
# CONTENDER_SOCKPERF_PORT (RUN_DIR/sockperf-server.*; IPERF3_SERVER_ARGS unused). Sets GUEST_RUN,
# the command prefix that runs run-guest for it (pinned, and in NETNS when QEMU holds the TAP),
# and SERVER_PID. guest_host_down NETNS undoes it, also after a failure here.
guest_host_up() {
    local contender=$1 ns=$2 run=$3 server_args=$4
    shift 4
    BACKEND_PID='' GUEST_NIC=() GUEST_IN_NETNS=0 SERVER_PID=''
    GUEST_RUN=(taskset -c "$CONTENDER_FRONTEND_CPU")
    bench_netns_add "$ns"
    "host_${contender//-/_}" "$ns" "$run" "$@" || return 1
    (( GUEST_IN_NETNS )) && GUEST_RUN+=(ip netns exec "$ns")
    GUEST_RUN+=("$CONTENDERS_ROOT/guest-tests/scripts/run-guest")
    if [[ $CONTENDER_SERVER == sockperf ]]; then
        bench_start "$run/sockperf-server" ip netns exec "$ns" taskset -c "$CONTENDER_IPERF3_CPU" \
            sockperf server -i "$CONTENDER_HOST_ADDR" -p "$CONTENDER_SOCKPERF_PORT"
        SERVER_PID=$BENCH_PID
        bench_await "sockperf server" 20 "$SERVER_PID" listening_udp "$ns" "$CONTENDER_SOCKPERF_PORT"
        return
    fi
    # shellcheck disable=SC2086 # the server's arguments are words
    bench_start "$run/iperf3-server" ip netns exec "$ns" taskset -c "$CONTENDER_IPERF3_CPU" \
        iperf3 -s -p "$CONTENDER_IPERF3_PORT" $server_args
    SERVER_PID=$BENCH_PID
    bench_await "iperf3 server" 20 "$SERVER_PID" listening "$ns" "$CONTENDER_IPERF3_PORT"
}

guest_host_down() {
    bench_stop "$SERVER_PID" 5 || true
    bench_stop "$BACKEND_PID" || true
    bench_netns_del "$1"
    BACKEND_PID='' SERVER_PID=''
}

listening() { [[ -n $(ip netns exec "$1" ss -Hltn "sport = :$2") ]]; }
listening_udp() { [[ -n $(ip netns exec "$1" ss -Hlun "sport = :$2") ]]; }

# --- two guests joined ----------------------------------------------------------------------------
# Guest i (0 or 1) at 10.0.2.(2+i)/24 with MAC 52:54:00:12:34:(56+i), as guest-tests' SwitchRig
# boots them: SWITCH_GUEST0 and SWITCH_GUEST1 are run-guest's options for that, SWITCH_ADDR0 and
# SWITCH_ADDR1 the addresses. switch_NAME NETNS RUN_DIR joins their NICs through contender NAME
# and sets SWITCH_NIC0 and SWITCH_NIC1 (run-guest's options for each guest's NIC),
# GUEST_IN_NETNS and, for a back-end, BACKEND_PID.
SWITCH_CONTENDERS=(ours bridge dpdk)
SWITCH_ADDR0=10.0.2.2 SWITCH_ADDR1=10.0.2.3
SWITCH_GUEST0=(--ip "$SWITCH_ADDR0/24" --mac 52:54:00:12:34:56)
SWITCH_GUEST1=(--ip "$SWITCH_ADDR1/24" --mac 52:54:00:12:34:57)
SWITCH_NIC0=() SWITCH_NIC1=()

# Our back-end, one process: a switch port on each guest's socket.
switch_ours() {
    local a=$CONTENDER_SOCK_DIR/guest-0.sock b=$CONTENDER_SOCK_DIR/guest-1.sock
    SWITCH_NIC0=(--socket "$a") SWITCH_NIC1=(--socket "$b")
    start_ours "$2" "$a" '' --switch --socket "$b" &&
        bench_await "socket $b" 60 "$BACKEND_PID" test -S "$b"
}

# The kernel's path: a TAP for each guest's QEMU (vhost=off), both on a bridge in NETNS.
switch_bridge() {
    local ns=$1 i
    ip -n "$ns" link add lvbr0 type bridge &&
        ip -n "$ns" link set lvbr0 up || return 1
    for i in 0 1; do
        ip -n "$ns" tuntap add dev "lvbt$i" mode tap vnet_hdr &&
            ip -n "$ns" link set "lvbt$i" master lvbr0 &&
            ip -n "$ns" link set "lvbt$i" up || return 1
    done
    SWITCH_NIC0=(--tap lvbt0) SWITCH_NIC1=(--tap lvbt1)
    GUEST_IN_NETNS=1
}

# DPDK: testpmd forwarding (io) between two net_vhost ports, a guest on each.
switch_dpdk() {
    local a=$CONTENDER_SOCK_DIR/guest-0.sock b=$CONTENDER_SOCK_DIR/guest-1.sock
    SWITCH_NIC0=(--socket "$a") SWITCH_NIC1=(--socket "$b")
    start_dpdk "$2" "$a" '' --second-socket "$b" --mode io --no-tx-first
}

# switch_up CONTENDER NETNS RUN_DIR: NETNS made, the guests' NICs joined in it through CONTENDER
# (switch_CONTENDER NETNS RUN_DIR); sets GUEST_RUN as guest_host_up does. switch_down NETNS undoes
# it, also after a failure here.
switch_up() {
    local contender=$1 ns=$2 run=$3
    BACKEND_PID='' SWITCH_NIC0=() SWITCH_NIC1=() GUEST_IN_NETNS=0
    GUEST_RUN=(taskset -c "$CONTENDER_FRONTEND_CPU")
    bench_netns_add "$ns"
    "switch_$contender" "$ns" "$run" || return 1
    (( GUEST_IN_NETNS )) && GUEST_RUN+=(ip netns exec "$ns")
    GUEST_RUN+=("$CONTENDERS_ROOT/guest-tests/scripts/run-guest")
}

switch_down() {
    bench_stop "$BACKEND_PID" || true
    bench_netns_del "$1"
    BACKEND_PID=''
}

# --- a guest's iperf3 ---------------------------------------------------------------------------
# The guest's console holds each iperf3 client run between "=== iperf3 begin ===" and
# "=== iperf3 end ===" (run-guest --script iperf3), or "=== iperf3 NAME begin/end ===" (the
# stress scenario, whose runs add --get-server-output: the server's own lines follow the
# client's, after "Server output:").

# iperf3_result CONSOLE_LOG [NAME]: "MBIT_S RETRANSMITS" from the client's summary: the
# receiver's rate, the sender's Retr column ("?" when iperf3 did not give it); fails without one.
iperf3_result() { bench_java iperf3 "$@"; }

# --- a guest's sockperf ---------------------------------------------------------------------------
# The guest's console holds its sockperf ping-pong client's output (run with --full-rtt: the
# figures are round trips) between "=== sockperf begin ===" and "=== sockperf end ===" (run-guest
# --script sockperf), its statistics lines as:
#   sockperf: Summary: Round trip is 818.525 usec
#   sockperf: ---> percentile 99.900 = 6077.964
#   sockperf: ---> percentile 50.000 =  778.632

# sockperf_result CONSOLE_LOG: "MEDIAN_US P99_US P99.9_US", round trips in microseconds; fails
# without them, or when the figures are not round trips (a client run without --full-rtt prints
# "Latency is", half of each round trip).
sockperf_result() { bench_java sockperf "$1"; }
