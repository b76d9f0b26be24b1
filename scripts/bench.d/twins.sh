# shellcheck shell=bash
# scripts/bench.d/twins.sh - `scripts/bench twins`, sourced by scripts/bench.
#: one vs two `deskmail serve` on one PostgreSQL under 10,000 arriving mails (msg/s, ratio), kills every 20 s, RSS idle
#
# 1. builds the release binary; starts the mail system (bench_mailenv_start: Dovecot + Postfix on
#    loopback, free ports) and PostgreSQL; creates three fresh databases (one per phase)
# 2. runs twins.py: four mailboxes (imap with IDLE, smtp over submission for the acknowledgements),
#    DM_BENCH_MESSAGES (default 10000) mails from DM_BENCH_CUSTOMERS (default 20) customers, round
#    robin over the four, handed to Postfix (port 25, 8 sessions) as fast as it takes them:
#    RSS idle of `serve` after start-up and the first sync (target <= 25 MB); phase 1 one instance,
#    phase 2 two instances on one database and one storage dir: msg/s from the first SMTP accept
#    to the last ticket, and the ratio (target >= 1.6); phase 3 two instances, the one holding the
#    most mailbox leases SIGKILLed and restarted every DM_BENCH_KILL_EVERY (default 20) s: every
#    mail exactly one ticket, one acknowledgement per ticket in the outbox, and in the customers'
#    INBOXes once (a second copy only of a delivery the killed instance held claimed)
#
# 3. the staged phases between them: the same mails APPENDed to a Staging folder of each mailbox first,
#    then moved into the four INBOXes at once (UID MOVE) while one instance, then two with the leases
#    split 2+2, wait in IDLE; acknowledgements off: msg/s from the move to the last ticket and the
#    ratio, deskmail's own rate rather than the arrival's or the mail system's
#
# Knobs: DM_BENCH_MESSAGES, DM_BENCH_CUSTOMERS, DM_BENCH_KILL_EVERY, DM_BENCH_KEEP=1,
# DM_BENCH_PHASES (comma list of arrival, staged, kills; default all three),
# DM_BENCH_NO_BUILD=1 (see scripts/bench).

bench_twins() {
  local n=${DM_BENCH_MESSAGES:-10000} customers=${DM_BENCH_CUSTOMERS:-20} every=${DM_BENCH_KILL_EVERY:-20}
  local phases=${DM_BENCH_PHASES:-arrival,staged,kills}
  local py s=0 line urls=() i
  [[ $n =~ ^[1-9][0-9]*$ ]] || dm_die "DM_BENCH_MESSAGES must be a positive number (got '$n')"
  [[ $customers =~ ^[1-9][0-9]*$ ]] || dm_die "DM_BENCH_CUSTOMERS must be a positive number (got '$customers')"
  [[ $every =~ ^[1-9][0-9]*$ ]] || dm_die "DM_BENCH_KILL_EVERY must be a positive number (got '$every')"
  (( $# == 0 )) || dm_die "scripts/bench twins takes no arguments (knobs are DM_BENCH_* variables)"
  py=$(bench_python)

  bench_build
  bench_work
  dm_lock
  bench_mailenv_start
  dm_pg_start
  bench_pg_available || dm_die "this benchmark needs PostgreSQL (see above)"
  bench_pg_sweep
  for i in 1 2 3 4 5; do bench_pg_createdb; urls+=(--db-url "$BENCH_URL"); done
  bench_header

  mkdir -p "$BENCH_WORK/run"
  : >"$BENCH_WORK/summary.txt"
  bench_log "twins.py: phases $phases ($n mails each; kills every $every s)"
  "$py" "$BENCH_D/twins.py" --bin "$BENCH_BIN" --work "$BENCH_WORK/run" "${urls[@]}" --count "$n" \
    --customers "$customers" --kill-every "$every" --phases "$phases" --summary "$BENCH_WORK/summary.txt" 8>&- || s=$?
  while IFS= read -r line; do [[ -z $line ]] || bench_result "$line"; done <"$BENCH_WORK/summary.txt"
  (( s == 0 )) || bench_result "twins: FAILED (twins.py exit status $s)"
  bench_result "twins: $(bench_version)"
  bench_result "twins: total bench wall time $(awk -v ms=$(( $(dm_now_ms) - DM_T0 )) 'BEGIN { printf "%.1f", ms / 1000 }') s (incl. build)"
  return $(( s == 0 ? 0 : 1 ))
}
