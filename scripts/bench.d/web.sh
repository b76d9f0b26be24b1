# shellcheck shell=bash
# scripts/bench.d/web.sh - `scripts/bench web`, sourced by scripts/bench.
#: ticket list page and list API (default and sort=due) at 500 req/s, search at 50 req/s, max throughput, RSS (SQLite, 100k tickets)
#
# 1. builds the release binary; installs `hey` (the load generator, Debian package) when missing
# 2. runs web.py in a work dir: `deskmail migrate` on a fresh SQLite file, then seed_web.py writes
#    DM_BENCH_TICKETS (100,000) tickets and DM_BENCH_MESSAGES (500,000) messages straight into
#    the schema (customers, agents, tags, participants, events; triggers keep ticket_counts and the
#    FTS index); an admin (--password-stdin) and an API token; `deskmail serve`; a dashboard login
# 3. with hey, DM_BENCH_DURATION (20) s per run after a short warm-up:
#      GET /tickets (signed in, default view)   at DM_BENCH_RATE (500) req/s    target p99 <= 50 ms
#      GET /api/v1/tickets (bearer token)        at DM_BENCH_RATE (500) req/s    target p99 <= 25 ms
#      the same two with ?sort=due (70 % of the active tickets carry an SLA clock; the run fails unless the
#        API's first page is in due order)                                       same targets
#      search: /tickets?status=all&q=WORD and /api/v1/tickets?q=WORD over several medium-selective
#        words, each at DM_BENCH_SEARCH_RATE (50) req/s                          target p99 <= 100 ms
#      the highest throughput with DM_BENCH_CONNECTIONS (32) connections, page and API
#    and the server's peak RSS (VmHWM)                                           target <= 150 MB
# DM_BENCH_TEAMS=N (N >= 1; default 0, off) runs the same measurements with teams on: three mailboxes
# (support, billing, shipping), N teams put through the admin API, and the list page, list API and
# searches as an agent in some of the teams who sees support and billing but not shipping (an admin
# sees everything). The run fails unless that agent's GET /api/v1/tickets total is below the
# admin's and equals the tickets of their mailboxes in the seeded database.
# A missed target prints BELOW TARGET (not a failure); errors in the answers or a dead server fail.
# Per run the table shows deskmail's CPU ms per request and the cores busy with deskmail, hey and
# everything else on the machine ("other": builds and tests running beside the benchmark skew it).
#
# Knobs: DM_BENCH_TICKETS, DM_BENCH_MESSAGES, DM_BENCH_SEED, DM_BENCH_DURATION, DM_BENCH_RATE,
# DM_BENCH_SEARCH_RATE, DM_BENCH_CONNECTIONS, DM_BENCH_TEAMS, DM_BENCH_KEEP=1 (keep the seeded database),
# DM_BENCH_NO_BUILD=1 (see scripts/bench), DM_NO_INSTALL=1 (never apt-get hey).

bench_web_hey() {
  command -v hey >/dev/null && return 0
  if dm_is_root && [[ ${DM_NO_INSTALL:-0} != 1 ]] && command -v apt-get >/dev/null; then
    bench_log "installing hey (apt-get)"
    local log=/tmp/deskmail-apt-$$.log
    if ! dm_apt_install hey >"$log" 2>&1; then
      DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=300 >>"$log" 2>&1 || true
      dm_apt_install hey >>"$log" 2>&1 || { tail -5 "$log" >&2; rm -f "$log"; dm_die "apt-get install hey failed"; }
    fi
    rm -f "$log"
    dm_note "installed hey"
  fi
  command -v hey >/dev/null || dm_die "hey (HTTP load generator) not found: apt-get install hey"
}

bench_web() {
  local tickets=${DM_BENCH_TICKETS:-100000} messages=${DM_BENCH_MESSAGES:-500000} seed=${DM_BENCH_SEED:-1}
  local duration=${DM_BENCH_DURATION:-20} rate=${DM_BENCH_RATE:-500} srate=${DM_BENCH_SEARCH_RATE:-50}
  local conns=${DM_BENCH_CONNECTIONS:-32} teams=${DM_BENCH_TEAMS:-0} py s=0 line v mode=""
  for v in tickets messages duration rate srate conns; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || dm_die "scripts/bench web: $v must be a positive number (got '${!v}')"
  done
  [[ $seed =~ ^[0-9]+$ ]] || dm_die "DM_BENCH_SEED must be a number (got '$seed')"
  [[ $teams =~ ^(0|[1-9][0-9]*)$ ]] || dm_die "DM_BENCH_TEAMS must be a number (got '$teams')"
  (( teams == 0 )) || mode=", teams on ($teams teams, measured as an agent)"
  (( messages >= tickets )) || dm_die "DM_BENCH_MESSAGES must be at least DM_BENCH_TICKETS"
  (( $# == 0 )) || dm_die "scripts/bench web takes no arguments (knobs are DM_BENCH_* variables)"
  py=$(bench_python)

  bench_build
  bench_web_hey
  bench_work
  dm_lock
  bench_header
  bench_log "load generator: $(command -v hey) ($(dpkg-query -W -f='${Version}' hey 2>/dev/null || echo '?'))"

  mkdir -p "$BENCH_WORK/run"
  : >"$BENCH_WORK/summary.txt"
  bench_log "web.py: seed $tickets tickets / $messages messages, serve, $duration s per run$mode"
  "$py" "$BENCH_D/web.py" --bin "$BENCH_BIN" --work "$BENCH_WORK/run" --tickets "$tickets" \
    --messages "$messages" --seed "$seed" --duration "$duration" --rate "$rate" --search-rate "$srate" \
    --connections "$conns" --teams "$teams" --summary "$BENCH_WORK/summary.txt" 8>&- || s=$?
  while IFS= read -r line; do [[ -z $line ]] || bench_result "$line"; done <"$BENCH_WORK/summary.txt"
  (( s == 0 )) || bench_result "web: FAILED (web.py exit status $s)"
  bench_result "web: machine: $(bench_machine)"
  bench_result "web: $(bench_version)"
  bench_result "web: total bench wall time $(awk -v ms=$(( $(dm_now_ms) - DM_T0 )) 'BEGIN { printf "%.1f", ms / 1000 }') s (incl. build)"
  return $(( s == 0 ? 0 : 1 ))
}
