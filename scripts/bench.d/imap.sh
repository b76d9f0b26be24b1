# shellcheck shell=bash
# scripts/bench.d/imap.sh - `scripts/bench imap`, sourced by scripts/bench.
#: IMAP import of 2,000 pre-loaded mails by `deskmail serve` vs a raw imaplib fetch, and IDLE latency
#
# 1. builds the release binary; generates DM_BENCH_MESSAGES (default 2000) new-ticket mails with
#    gen_mail.py (seed DM_BENCH_SEED, default 1; no replies, duplicates or bounces so every mail is
#    one ticket; 15% carry a DM_BENCH_ATTACHMENT_KIB (default 16) KiB attachment, 40% text+HTML)
# 2. starts the mail system (bench_mailenv_start: Dovecot + Postfix on loopback, free ports)
# 3. runs imap.py: APPENDs the mails to a fresh bench-<random>@<wildcard domain> INBOX over IMAPS;
#    raw fetch rate of that folder (imaplib, UID FETCH BODY.PEEK[] by 100); then `deskmail serve`
#    (SQLite, import_existing = "all", idle = true, after_import = "seen") until every mail is a
#    ticket (GET /api/v1/tickets total): import msg/s (goal >= 2,000, issue 18) and the overhead vs the raw
#    fetch; then DM_BENCH_IDLE_MAILS (default 30) mails one at a time over SMTP: latency from SMTP
#    acceptance to the ticket in the API (min/median/p90/max; goal median <= 0.5 s, below Dovecot's 500 ms
#    notify delay, so deskmail's share is printed too); then the same probes again with deskmail restarted
#    with imap.check_interval_ms = DM_BENCH_CHECK_MS (default 100; 0 skips): IDLE plus the quick check
#
# Knobs: DM_BENCH_MESSAGES, DM_BENCH_SEED, DM_BENCH_IDLE_MAILS, DM_BENCH_CHECK_MS, DM_BENCH_ATTACHMENT_KIB,
# DM_BENCH_FETCH_BATCH (deskmail's [imap] fetch_batch; default: its own),
# DM_BENCH_KEEP=1, DM_BENCH_NO_BUILD=1 (see scripts/bench).

bench_imap() {
  local n=${DM_BENCH_MESSAGES:-2000} seed=${DM_BENCH_SEED:-1} idle=${DM_BENCH_IDLE_MAILS:-30}
  local kib=${DM_BENCH_ATTACHMENT_KIB:-16} batch=${DM_BENCH_FETCH_BATCH:-0} check=${DM_BENCH_CHECK_MS:-100}
  local py t0 gen_json s=0 line
  [[ $n =~ ^[1-9][0-9]*$ ]] || dm_die "DM_BENCH_MESSAGES must be a positive number (got '$n')"
  [[ $seed =~ ^[0-9]+$ ]] || dm_die "DM_BENCH_SEED must be a number (got '$seed')"
  [[ $idle =~ ^[0-9]+$ ]] || dm_die "DM_BENCH_IDLE_MAILS must be a number (got '$idle')"
  [[ $kib =~ ^[1-9][0-9]*$ ]] || dm_die "DM_BENCH_ATTACHMENT_KIB must be a positive number (got '$kib')"
  [[ $batch =~ ^[0-9]+$ ]] || dm_die "DM_BENCH_FETCH_BATCH must be a number (got '$batch')"
  [[ $check =~ ^[0-9]+$ ]] || dm_die "DM_BENCH_CHECK_MS must be a number (got '$check')"
  (( $# == 0 )) || dm_die "scripts/bench imap takes no arguments (knobs are DM_BENCH_* variables)"
  py=$(bench_python)

  bench_build
  bench_work
  t0=$(dm_now_ms)
  gen_json=$("$py" "$BENCH_D/gen_mail.py" --out "$BENCH_WORK/mail" --count "$n" --seed "$seed" \
    --replies 0 --duplicates 0 --bounces 0 --attachments 0.15 --attachment-kib "$kib") \
    || dm_die "gen_mail.py failed"
  bench_log "generated in $(( $(dm_now_ms) - t0 )) ms: $gen_json"

  dm_lock
  bench_mailenv_start
  bench_header

  mkdir -p "$BENCH_WORK/run"
  : >"$BENCH_WORK/summary.txt"
  bench_log "imap.py: preload, raw fetch, deskmail serve import, $idle IDLE probes"
  "$py" "$BENCH_D/imap.py" --bin "$BENCH_BIN" --work "$BENCH_WORK/run" --mail "$BENCH_WORK/mail" \
    --idle-mails "$idle" --check-ms "$check" --fetch-batch "$batch" --summary "$BENCH_WORK/summary.txt" 8>&- || s=$?
  while IFS= read -r line; do [[ -z $line ]] || bench_result "$line"; done <"$BENCH_WORK/summary.txt"
  (( s == 0 )) || bench_result "imap: FAILED (imap.py exit status $s)"
  bench_result "imap: $(bench_version); mail set: $gen_json"
  bench_result "imap: total bench wall time $(awk -v ms=$(( $(dm_now_ms) - DM_T0 )) 'BEGIN { printf "%.1f", ms / 1000 }') s (incl. build)"
  return $(( s == 0 ? 0 : 1 ))
}
