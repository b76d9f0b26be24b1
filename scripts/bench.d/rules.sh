# shellcheck shell=bash
# scripts/bench.d/rules.sh - `scripts/bench rules`, sourced by scripts/bench.
#: rules engine (SQLite): ingest msg/s with 100 event rules vs none (serve live), time-rule pass over 100k tickets
#
# 1. builds the release binary; generates DM_BENCH_RULES_MAILS (5000) mails with gen_mail.py (seed
#    DM_BENCH_SEED, default 1; the ingest bench's set)
# 2. runs rules.py in a work dir:
#    ingest: per variant a fresh SQLite database, `deskmail serve` running on it (the rules consumer is
#      live), then no rules / DM_BENCH_RULES_COUNT (100) enabled event rules made through the API (five
#      match some mails, the rest nothing), then `deskmail ingest` (ingest.py) of the mail set with the
#      same config. Prints msg/s of both and the ratio (target >= 80 %), how long after ingest returned
#      the `rules` consumer reached the newest event (polling event_consumers read-only), which rules
#      acted and how often (the run fails when no rule acted, or one meant to match nothing did)
#    schedule: DM_BENCH_RULES_TICKETS (100,000) tickets / DM_BENCH_RULES_MESSAGES (5 per ticket) seeded with
#      seed_web.py, `deskmail serve`, then one time rule at a time through the API (with a
#      `ticket.status is pending` prefilter, then without: every ticket read; neither matches): waits for
#      /healthz rules_scheduler.last_run_at of the pass after the save, prints last_duration_ms (target
#      <= 2,000 ms) and the rule's dry-run time, deletes the rule
#    and serve's peak RSS per phase.
# A missed target prints BELOW TARGET (not a failure); errors or a failed check fail the run.
#
# Knobs: DM_BENCH_RULES_MAILS, DM_BENCH_RULES_COUNT, DM_BENCH_RULES_ROUNDS (2: the ingest pair runs N times,
# order alternating, medians compared), DM_BENCH_RULES_TICKETS, DM_BENCH_RULES_MESSAGES,
# DM_BENCH_RULES_PHASES ("ingest schedule"), DM_BENCH_SEED, DM_BENCH_KEEP=1, DM_BENCH_NO_BUILD=1 (see scripts/bench).

bench_rules() {
  local n=${DM_BENCH_RULES_MAILS:-5000} count=${DM_BENCH_RULES_COUNT:-100} rounds=${DM_BENCH_RULES_ROUNDS:-2}
  local tickets=${DM_BENCH_RULES_TICKETS:-100000} seed=${DM_BENCH_SEED:-1} messages phases ph v
  local py s=0 line t0 gen_json="" mail_args=()
  messages=${DM_BENCH_RULES_MESSAGES:-$(( tickets * 5 ))}
  phases=${DM_BENCH_RULES_PHASES:-ingest schedule}
  for v in n count rounds tickets messages; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || dm_die "scripts/bench rules: $v must be a positive number (got '${!v}')"
  done
  [[ $seed =~ ^[0-9]+$ ]] || dm_die "DM_BENCH_SEED must be a number (got '$seed')"
  (( messages >= tickets )) || dm_die "DM_BENCH_RULES_MESSAGES must be at least DM_BENCH_RULES_TICKETS"
  for ph in $phases; do
    case $ph in ingest|schedule) ;; *) dm_die "DM_BENCH_RULES_PHASES: unknown phase '$ph' (ingest, schedule)" ;; esac
  done
  [[ -n ${phases// /} ]] || dm_die "DM_BENCH_RULES_PHASES is empty"
  (( $# == 0 )) || dm_die "scripts/bench rules takes no arguments (knobs are DM_BENCH_* variables)"
  py=$(bench_python)

  bench_build
  bench_work
  if [[ " $phases " == *" ingest "* ]]; then
    t0=$(dm_now_ms)
    gen_json=$("$py" "$BENCH_D/gen_mail.py" --out "$BENCH_WORK/mail" --count "$n" --seed "$seed") \
      || dm_die "gen_mail.py failed"
    bench_log "generated in $(( $(dm_now_ms) - t0 )) ms: $gen_json"
    mail_args=(--mail "$BENCH_WORK/mail")
  fi
  dm_lock
  bench_header

  mkdir -p "$BENCH_WORK/run"
  : >"$BENCH_WORK/summary.txt"
  bench_log "rules.py: phases: $phases; $n mails, $count rules; $tickets tickets / $messages messages"
  "$py" "$BENCH_D/rules.py" --bin "$BENCH_BIN" --work "$BENCH_WORK/run" "${mail_args[@]}" --rules "$count" \
    --rounds "$rounds" --tickets "$tickets" --messages "$messages" --seed "$seed" --phases "${phases// /,}" \
    --summary "$BENCH_WORK/summary.txt" 8>&- || s=$?
  while IFS= read -r line; do [[ -z $line ]] || bench_result "$line"; done <"$BENCH_WORK/summary.txt"
  (( s == 0 )) || bench_result "rules: FAILED (rules.py exit status $s)"
  bench_result "rules: machine: $(bench_machine)"
  bench_result "rules: $(bench_version)"
  [[ -z $gen_json ]] || bench_result "rules: mail set: $gen_json"
  bench_result "rules: total bench wall time $(awk -v ms=$(( $(dm_now_ms) - DM_T0 )) 'BEGIN { printf "%.1f", ms / 1000 }') s (incl. build)"
  return $(( s == 0 ? 0 : 1 ))
}
