# shellcheck shell=bash
# scripts/bench.d/rss.sh - `scripts/bench rss`, sourced by scripts/bench.
#: RSS idle of `deskmail serve` with 4 IMAP+SMTP mailboxes on SQLite and PostgreSQL (target <= 25 MB)
#
# 1. builds the release binary; starts the mail system (bench_mailenv_start: Dovecot + Postfix on
#    loopback, free ports) and PostgreSQL; a fresh SQLite file and a fresh PostgreSQL database
# 2. runs rss.py: per store, `deskmail serve` with four empty mailboxes (imap with IDLE over implicit
#    TLS, smtp over submission with STARTTLS); waits until /healthz shows every mailbox synced and
#    idle, settles DM_BENCH_SETTLE (default 3) s, then prints VmRSS (target <= 25 MB), VmHWM,
#    threads and the anonymous / file-backed split; then DM_BENCH_MAILS (default 3) mails per
#    mailbox arrive over SMTP, and once their tickets are in the API, the same figures again
#
# Knobs: DM_BENCH_SETTLE, DM_BENCH_MAILS, DM_BENCH_KEEP=1, DM_BENCH_NO_BUILD=1 (see scripts/bench).

bench_rss() {
  local settle=${DM_BENCH_SETTLE:-3} mails=${DM_BENCH_MAILS:-3} py s=0 line sqlite_url pg_url=""
  [[ $settle =~ ^[0-9]+$ ]] || dm_die "DM_BENCH_SETTLE must be a number of seconds (got '$settle')"
  [[ $mails =~ ^[0-9]+$ ]] || dm_die "DM_BENCH_MAILS must be a number (got '$mails')"
  (( $# == 0 )) || dm_die "scripts/bench rss takes no arguments (knobs are DM_BENCH_* variables)"
  py=$(bench_python)

  bench_build
  bench_work
  dm_lock
  bench_mailenv_start
  dm_pg_start
  bench_store_url sqlite "$BENCH_WORK"
  sqlite_url=$BENCH_URL
  if bench_pg_available; then
    bench_pg_sweep
    bench_store_url postgres "$BENCH_WORK"
    pg_url=$BENCH_URL
  else
    bench_warn "PostgreSQL is not available: measuring SQLite only"
  fi
  bench_header

  mkdir -p "$BENCH_WORK/run"
  : >"$BENCH_WORK/summary.txt"
  bench_log "rss.py: RSS idle after start-up and the first sync of 4 mailboxes"
  "$py" "$BENCH_D/rss.py" --bin "$BENCH_BIN" --work "$BENCH_WORK/run" --sqlite-url "$sqlite_url" \
    ${pg_url:+--pg-url "$pg_url"} --settle "$settle" --mails "$mails" --summary "$BENCH_WORK/summary.txt" 8>&- || s=$?
  while IFS= read -r line; do [[ -z $line ]] || bench_result "$line"; done <"$BENCH_WORK/summary.txt"
  (( s == 0 )) || bench_result "rss: FAILED (rss.py exit status $s)"
  bench_result "rss: $(bench_version)"
  return $(( s == 0 ? 0 : 1 ))
}
