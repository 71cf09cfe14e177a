# shellcheck shell=bash
# Sourced by tools/bench: what a benchmark script needs beside its contenders. Processes it starts
# and stops (all of them stopped by bench_cleanup, from an EXIT trap), network namespaces it makes
# and deletes, a results file with one line a run, and the tables made of it (medians, ratios),
# as aligned text or Markdown.

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
# directory. A failed run has "-" for both values.

BENCH_RESULTS=

bench_record() {
    local IFS=$'\t'
    echo "$*" >>"$BENCH_RESULTS"
}

# bench_field LINE KEY: the value of KEY=VALUE in a line of such words.
bench_field() {
    local word
    for word in $1; do
        [[ $word == "$2="* ]] && { echo "${word#*=}"; return 0; }
    done
    return 1
}

# bench_table PART CASES CONTENDERS RATIOS CASE_HEADER UNIT FMT1 FMT2: a table (tab-separated,
# header first) of PART's results: a row per case, a column per contender holding the median of
# the value and of the second value ("FMT1 (FMT2)"; the value alone when FMT2 is empty), then a
# column per ratio of medians.
#   CASES, CONTENDERS: lists separated by "|", in the order to print them.
#   RATIOS: "A/B=LABEL|..." with A and B contenders.
# A cell marked "*" lost some runs (failed); "failed" lost them all.
bench_table() {
    awk -F'\t' -v part="$1" -v cases="$2" -v contenders="$3" -v ratios="$4" \
        -v case_header="$5" -v unit="$6" -v fmt1="$7" -v fmt2="$8" '
        # mawk (the awk of Debian) has no asort: an insertion sort of the few runs
        function median(list, a, n, i, j, x) {
            n = split(list, a, " ")
            if (n == 0) return ""
            for (i = 2; i <= n; i++) {
                x = a[i] + 0
                for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]
                a[j + 1] = x
            }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        $1 == part {
            k = $2 SUBSEP $3
            runs[k]++
            if ($5 == "-") failed[k]++
            else { v1[k] = v1[k] " " $5; if ($6 ~ /^[0-9.]+$/) v2[k] = v2[k] " " $6 }
        }
        END {
            nc = split(cases, cs, "|"); nt = split(contenders, ct, "|"); nr = split(ratios, rs, "|")
            line = case_header
            for (j = 1; j <= nt; j++) line = line "\t" ct[j] " " unit
            for (r = 1; r <= nr; r++) { split(rs[r], lr, "="); line = line "\t" lr[2] }
            print line
            for (i = 1; i <= nc; i++) {
                line = cs[i]
                for (j = 1; j <= nt; j++) {
                    k = cs[i] SUBSEP ct[j]
                    m1[j] = median(v1[k]); m2 = median(v2[k])
                    if (!(k in runs)) cell = "-"
                    else if (m1[j] == "") cell = "failed"
                    else cell = sprintf(fmt1, m1[j]) (fmt2 == "" ? "" : " (" (m2 == "" ? "?" : sprintf(fmt2, m2)) ")") (failed[k] ? "*" : "")
                    line = line "\t" cell
                    col[ct[j]] = j
                }
                for (r = 1; r <= nr; r++) {
                    split(rs[r], lr, "="); split(lr[1], ab, "/")
                    a = m1[col[ab[1]]]; b = m1[col[ab[2]]]
                    line = line "\t" ((a != "" && b != "" && b > 0) ? sprintf("%.2f", a / b) : "-")
                }
                print line
            }
        }' "$BENCH_RESULTS"
}

# bench_render_text INDENT: a tab-separated table as aligned columns.
bench_render_text() {
    awk -F'\t' -v indent="$1" '
        { rows[NR] = $0; for (i = 1; i <= NF; i++) if (length($i) > w[i]) w[i] = length($i) }
        END {
            for (r = 1; r <= NR; r++) {
                n = split(rows[r], f, "\t"); line = indent
                for (i = 1; i <= n; i++) line = line sprintf(i < n ? "%-" w[i] "s  " : "%s", f[i])
                print line
            }
        }'
}

# bench_render_markdown: a tab-separated table as a Markdown table, numbers right-aligned.
bench_render_markdown() {
    awk -F'\t' '
        { gsub(/\|/, "\\|"); line = "|"; for (i = 1; i <= NF; i++) line = line " " $i " |"; print line }
        NR == 1 { line = "|:---|"; for (i = 2; i <= NF; i++) line = line "---:|"; print line }'
}
