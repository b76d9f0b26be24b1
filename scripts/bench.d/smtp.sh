# shellcheck shell=bash
# scripts/bench.d/smtp.sh - `scripts/bench smtp`, sourced by scripts/bench.
#: 2,000 queued mails out over Postfix submission vs a plain smtplib sender (msg/s, ratio); 2,000 API replies
#
# 1. builds the release binary; starts the mail system (bench_mailenv_start: Dovecot + Postfix on
#    loopback, free ports)
# 2. runs smtp.py: a mailbox bench-<random>@<wildcard domain> without imap, smtp = submission port
#    with STARTTLS + AUTH, [outbound] retry_initial_secs = 1, SQLite; DM_BENCH_MESSAGES (default
#    2000) customer mails from DM_BENCH_CUSTOMERS (default 100) wildcard addresses ingested with
#    `deskmail ingest --json` before `serve` (ack_limit_per_hour = the count: every ticket's
#    acknowledgement is queued); the baseline: a plain Python smtplib sender sends the same queued
#    mails (raw bytes from the outbox) through the same submission port, STARTTLS + AUTH, from
#    DM_BENCH_SMTPLIB_THREADS (default 8) threads with one connection each; after Postfix delivered
#    them, `serve` starts and sends the acknowledgements: deskmail's outbound msg/s from process
#    start, the smtplib msg/s and the ratio (target >= 500 msg/s and >= 50 %); then one reply per
#    ticket POSTed through the API from DM_BENCH_THREADS (default 8) clients: enqueue POST/s, and
#    delivery msg/s from the first POST until every agent_reply delivery is `sent` (target >= 150
#    msg/s, bounded by the POST rate); then checks Postfix's log and the customers' INBOXes (IMAP
#    SEARCH) for the replies
#
# Knobs: DM_BENCH_MESSAGES, DM_BENCH_CUSTOMERS, DM_BENCH_THREADS, DM_BENCH_SEED,
# DM_BENCH_SMTP_POOL (the mailbox's smtp.pool_size; default: deskmail's own), DM_BENCH_SMTPLIB_THREADS,
# DM_BENCH_KEEP=1,
# DM_BENCH_NO_BUILD=1 (see scripts/bench).

bench_smtp() {
  local n=${DM_BENCH_MESSAGES:-2000} customers=${DM_BENCH_CUSTOMERS:-100} threads=${DM_BENCH_THREADS:-8}
  local seed=${DM_BENCH_SEED:-1} pool=${DM_BENCH_SMTP_POOL:-0} base=${DM_BENCH_SMTPLIB_THREADS:-8} py s=0 line
  [[ $n =~ ^[1-9][0-9]*$ ]] || dm_die "DM_BENCH_MESSAGES must be a positive number (got '$n')"
  [[ $customers =~ ^[1-9][0-9]*$ ]] || dm_die "DM_BENCH_CUSTOMERS must be a positive number (got '$customers')"
  [[ $threads =~ ^[1-9][0-9]*$ ]] || dm_die "DM_BENCH_THREADS must be a positive number (got '$threads')"
  [[ $seed =~ ^[0-9]+$ ]] || dm_die "DM_BENCH_SEED must be a number (got '$seed')"
  [[ $pool =~ ^[0-9]+$ ]] || dm_die "DM_BENCH_SMTP_POOL must be a number (got '$pool')"
  [[ $base =~ ^[1-9][0-9]*$ ]] || dm_die "DM_BENCH_SMTPLIB_THREADS must be a positive number (got '$base')"
  (( $# == 0 )) || dm_die "scripts/bench smtp takes no arguments (knobs are DM_BENCH_* variables)"
  py=$(bench_python)

  bench_build
  bench_work
  dm_lock
  bench_mailenv_start
  bench_header

  mkdir -p "$BENCH_WORK/run"
  : >"$BENCH_WORK/summary.txt"
  bench_log "smtp.py: ingest $n mails, smtplib baseline, deskmail serve, acknowledgements, $n replies through the API"
  "$py" "$BENCH_D/smtp.py" --bin "$BENCH_BIN" --work "$BENCH_WORK/run" --count "$n" --customers "$customers" \
    --threads "$threads" --seed "$seed" --pool-size "$pool" --smtplib-threads "$base" --summary "$BENCH_WORK/summary.txt" 8>&- || s=$?
  while IFS= read -r line; do [[ -z $line ]] || bench_result "$line"; done <"$BENCH_WORK/summary.txt"
  (( s == 0 )) || bench_result "smtp: FAILED (smtp.py exit status $s)"
  bench_result "smtp: $(bench_version)"
  bench_result "smtp: total bench wall time $(awk -v ms=$(( $(dm_now_ms) - DM_T0 )) 'BEGIN { printf "%.1f", ms / 1000 }') s (incl. build)"
  return $(( s == 0 ? 0 : 1 ))
}
