# shellcheck shell=bash
# scripts/bench.d/sla.sh - `scripts/bench sla`, sourced by scripts/bench.
#: SLA clock worker (SQLite): 10,000 due breaches raised from serve's start (alerts/min), lag of breaches coming due over 60 s
#
# 1. builds the release binary
# 2. runs sla.py in a work dir: `deskmail migrate` on a fresh SQLite file, then written directly: 20,000 customers,
#    10 agents, the policy `standard` (conditions {"all": []}, 24x7, first response 60 min, resolution 600 min,
#    warning 10 min before) and DM_BENCH_SLA_OTHER (100,000) closed tickets of the past year without a clock (two
#    messages and six events each: the tables at a realistic size). Per phase a copy of that database gets
#    DM_BENCH_SLA_TICKETS (10,000) new tickets (a customer mail each, the ticket_created and message_received
#    events ingest writes) with their ticket_sla rows as the SLA worker stores them, `deskmail reindex`, then
#    `deskmail serve`:
#    backlog: the tickets were created ~2 h ago: first response (due after 60 min) breached, its warning past,
#      nothing raised yet (state ok, alert_at = the warning time). From serve's start the database is polled
#      read-only every 200 ms until every ticket has its sla_breached event. Prints alerts per minute from the
#      start                                                                      target >= 10,000/min
#      the time to the first and to the last, the worker's ticks (/healthz sla_clock), serve's peak RSS
#    flow: the warnings were raised before; once serve runs and its clock ticked, one transaction moves the
#      tickets' times so that their breaches come due spread over DM_BENCH_SLA_WINDOW (60) s (10,000/min).
#      Lag = event `at` (the worker's now, whole seconds) - due, and first visible to the 200 ms poll - due
#                                                                                 target p99 <= 10 s (both)
#    Checked after each phase (one more tick later): exactly one sla_breached per seeded ticket, none for other
#    tickets, no sla_warning (backlog: the due warning is superseded by the breach), each event's policy, target
#    and due as seeded, every clock and its copy on tickets `breached` with the resolution warning next.
# A missed target prints BELOW TARGET (not a failure); a failed check, ERROR lines in serve's log or a dead server
# fail the run.
#
# Knobs: DM_BENCH_SLA_TICKETS, DM_BENCH_SLA_OTHER, DM_BENCH_SLA_WINDOW, DM_BENCH_SLA_PHASES ("backlog flow"),
# DM_BENCH_SLA_TIMEOUT (600 s to wait for the breaches), DM_BENCH_SEED, DM_BENCH_KEEP=1 (keep the databases),
# DM_BENCH_NO_BUILD=1 (see scripts/bench).

bench_sla() {
  local tickets=${DM_BENCH_SLA_TICKETS:-10000} other=${DM_BENCH_SLA_OTHER:-100000} window=${DM_BENCH_SLA_WINDOW:-60}
  local timeout=${DM_BENCH_SLA_TIMEOUT:-600} seed=${DM_BENCH_SEED:-1} phases=${DM_BENCH_SLA_PHASES:-backlog flow}
  local py s=0 line v ph
  for v in tickets window timeout; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || dm_die "scripts/bench sla: $v must be a positive number (got '${!v}')"
  done
  [[ $other =~ ^(0|[1-9][0-9]*)$ ]] || dm_die "DM_BENCH_SLA_OTHER must be a number (got '$other')"
  [[ $seed =~ ^[0-9]+$ ]] || dm_die "DM_BENCH_SEED must be a number (got '$seed')"
  for ph in $phases; do
    case $ph in backlog|flow) ;; *) dm_die "DM_BENCH_SLA_PHASES: unknown phase '$ph' (backlog, flow)" ;; esac
  done
  [[ -n ${phases// /} ]] || dm_die "DM_BENCH_SLA_PHASES is empty"
  (( $# == 0 )) || dm_die "scripts/bench sla takes no arguments (knobs are DM_BENCH_* variables)"
  py=$(bench_python)

  bench_build
  bench_work
  dm_lock
  bench_header

  mkdir -p "$BENCH_WORK/run"
  : >"$BENCH_WORK/summary.txt"
  bench_log "sla.py: phases: $phases; $tickets clocked tickets beside $other others; flow window $window s"
  "$py" "$BENCH_D/sla.py" --bin "$BENCH_BIN" --work "$BENCH_WORK/run" --tickets "$tickets" --other "$other" \
    --window "$window" --timeout "$timeout" --seed "$seed" --phases "${phases// /,}" \
    --summary "$BENCH_WORK/summary.txt" 8>&- || s=$?
  while IFS= read -r line; do [[ -z $line ]] || bench_result "$line"; done <"$BENCH_WORK/summary.txt"
  (( s == 0 )) || bench_result "sla: FAILED (sla.py exit status $s)"
  bench_result "sla: machine: $(bench_machine)"
  bench_result "sla: $(bench_version)"
  bench_result "sla: total bench wall time $(awk -v ms=$(( $(dm_now_ms) - DM_T0 )) 'BEGIN { printf "%.1f", ms / 1000 }') s (incl. build)"
  return $(( s == 0 ? 0 : 1 ))
}
