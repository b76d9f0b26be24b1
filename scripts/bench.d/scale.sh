# shellcheck shell=bash
# scripts/bench.d/scale.sh - `scripts/bench scale`, sourced by scripts/bench.
#: a million tickets: list page, list API, search, ticket page at fixed rates and ingest at 100k vs 1M tickets (SQLite, PostgreSQL): p99 growth, RSS, sizes per ticket
#
# 1. builds the release binary; installs `hey` when missing (bench_web_hey, scripts/bench.d/web.sh); generates
#    DM_BENCH_INGEST (2,000) mails with gen_mail.py (the mix of `scripts/bench ingest`); starts PostgreSQL
#    (scripts/lib.sh) unless DM_BENCH_STORES leaves it out
# 2. runs scale.py: per size of DM_BENCH_SIZES ("100000/500000 1000000/5000000": tickets/messages; the first is
#    the base the others are compared with) seed_web.py seeds a SQLite file once (the data of `scripts/bench web`,
#    time per table printed); per store of DM_BENCH_STORES ("sqlite postgres") a copy of it (SQLite, then
#    `deskmail reindex`) or a new database it is copied into (PostgreSQL: seed_pg.py, COPY per table, indexes and
#    foreign keys rebuilt afterwards, counts recomputed and checked, VACUUM ANALYZE), its size per ticket; then
#    `deskmail serve` and, with hey for DM_BENCH_DURATION (20) s per run after a warm-up, as an admin:
#      GET /tickets and GET /api/v1/tickets                       at DM_BENCH_RATE (500) req/s
#      search page and API over 5 medium-selective words (web.py's) at DM_BENCH_SEARCH_RATE (50) req/s
#      GET /tickets/{number} over DM_BENCH_PAGES (10) tickets spread over the whole range
#                                                                   at DM_BENCH_TICKET_RATE (200) req/s
#    p50/p99 each and the server's peak RSS; then `deskmail ingest` of the generated mails into that database and
#    into a new empty one of the same store (rates and ratio; blob bytes per ticket from the empty one's storage)
# 3. per store and endpoint: p99 at the base size and the largest, the growth factor        target <= 1.5x
#    RSS under the web load at the largest size                                              target <= 150 MB
#    ingest into the largest database vs an empty one                                        target >= 80 %
#    database and blob size per ticket (printed)
# A missed target prints BELOW TARGET (not a failure); errors in the answers, a dead server or a failed load fail.
# A full run (100k and 1M, both stores) takes about an hour on 2 cores and needs ~20 GB of disk in /tmp;
# a quick one: DM_BENCH_SIZES="10000/50000 20000/100000".
#
# Knobs: DM_BENCH_SIZES, DM_BENCH_STORES, DM_BENCH_INGEST, DM_BENCH_SEED, DM_BENCH_DURATION, DM_BENCH_RATE,
# DM_BENCH_SEARCH_RATE, DM_BENCH_TICKET_RATE, DM_BENCH_PAGES, DM_BENCH_JOBS (2: parallel COPY streams per large
# table), DM_BENCH_PG_SHARED_BUFFERS (1GB; applies when the bench starts PostgreSQL), DM_BENCH_WORDS (w1,w2,...: the
# search words instead of choosing them), DM_BENCH_REUSE_PG ("100k=DB,1M=DB": kept databases,
# renamed out of dm_bench_%, measured without seeding; PostgreSQL only, with DM_BENCH_WORDS), DM_BENCH_KEEP=1 (keep the databases and work dir), DM_BENCH_NO_BUILD=1 (see scripts/bench),
# DM_NO_INSTALL=1 (never apt-get hey).

if ! declare -F bench_web_hey >/dev/null; then
  # shellcheck source=scripts/bench.d/web.sh
  . "$BENCH_D/web.sh"
fi

bench_scale() {
  local sizes=${DM_BENCH_SIZES:-100000/500000 1000000/5000000} n=${DM_BENCH_INGEST:-2000} seed=${DM_BENCH_SEED:-1}
  local duration=${DM_BENCH_DURATION:-20} rate=${DM_BENCH_RATE:-500} srate=${DM_BENCH_SEARCH_RATE:-50}
  local trate=${DM_BENCH_TICKET_RATE:-200} pages=${DM_BENCH_PAGES:-10} jobs=${DM_BENCH_JOBS:-2}
  local py s=0 line v sz stores=() keep=() gen_json
  for v in n duration rate srate trate pages jobs; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || dm_die "scripts/bench scale: $v must be a positive number (got '${!v}')"
  done
  [[ $seed =~ ^[0-9]+$ ]] || dm_die "DM_BENCH_SEED must be a number (got '$seed')"
  for sz in $sizes; do
    [[ $sz =~ ^([1-9][0-9]*)/([1-9][0-9]*)$ ]] || dm_die "DM_BENCH_SIZES: '$sz' is not TICKETS/MESSAGES"
    (( BASH_REMATCH[2] >= BASH_REMATCH[1] )) || dm_die "DM_BENCH_SIZES: $sz has fewer messages than tickets"
  done
  for v in ${DM_BENCH_STORES:-sqlite postgres}; do
    case $v in sqlite|postgres) stores+=("$v") ;; *) dm_die "DM_BENCH_STORES: unknown store '$v' (sqlite, postgres)" ;; esac
  done
  (( ${#stores[@]} )) || dm_die "DM_BENCH_STORES is empty"
  (( $# == 0 )) || dm_die "scripts/bench scale takes no arguments (knobs are DM_BENCH_* variables)"
  [[ ${DM_BENCH_KEEP:-0} == 1 ]] && keep=(--keep)
  py=$(bench_python)

  bench_build
  bench_web_hey
  bench_work
  gen_json=$("$py" "$BENCH_D/gen_mail.py" --out "$BENCH_WORK/mail" --count "$n" --seed "$seed") \
    || dm_die "gen_mail.py failed"
  dm_lock
  # PostgreSQL's shared_buffers for the run when the bench starts the cluster (default 1GB): with the default 128 MB,
  # the pages a search at 1,000,000 tickets reads (~2,000 messages and their tickets, per word) no longer stay in it,
  # and every read goes to the kernel's page cache (at 1M: p99 250-314 ms against 115-136 ms with 1 GB, same binary). A
  # server holding a 20 GB database is given far more (PostgreSQL's documentation: ~25 % of the RAM); the figure in
  # effect is printed with the results.
  export DM_PG_SERVER_OPTS="-c shared_buffers=${DM_BENCH_PG_SHARED_BUFFERS:-1GB}"
  bench_pg_stores stores
  bench_header
  bench_log "load generator: $(command -v hey) ($(dpkg-query -W -f='${Version}' hey 2>/dev/null || echo '?'))"
  bench_log "ingest mail set: $gen_json"

  mkdir -p "$BENCH_WORK/run"
  : >"$BENCH_WORK/summary.txt"
  bench_log "scale.py: sizes $sizes; stores ${stores[*]}; $duration s per run"
  "$py" "$BENCH_D/scale.py" --bin "$BENCH_BIN" --work "$BENCH_WORK/run" --mail "$BENCH_WORK/mail" \
    --stores "$(IFS=,; echo "${stores[*]}")" --sizes "$(tr -s ' ' ',' <<<"$sizes")" --pg-url "${TEST_DATABASE_URL:-}" \
    --seed "$seed" --duration "$duration" --rate "$rate" --search-rate "$srate" --ticket-rate "$trate" \
    --pages "$pages" --jobs "$jobs" "${keep[@]}" --reuse-pg "${DM_BENCH_REUSE_PG:-}" \
    --fixed-words "${DM_BENCH_WORDS:-}" --summary "$BENCH_WORK/summary.txt" 8>&- || s=$?
  while IFS= read -r line; do [[ -z $line ]] || bench_result "$line"; done <"$BENCH_WORK/summary.txt"
  (( s == 0 )) || bench_result "scale: FAILED (scale.py exit status $s)"
  [[ ${DM_BENCH_KEEP:-0} == 1 ]] || ! bench_pg_available || bench_pg_sweep
  ! bench_pg_available || bench_result "scale: PostgreSQL shared_buffers $(dm_psql_url -tAc 'show shared_buffers' 2>/dev/null || echo '?')"
  bench_result "scale: machine: $(bench_machine); $(awk '{ printf "%.1f GB RAM", $2 / 1e6; exit }' /proc/meminfo)"
  bench_result "scale: $(bench_version)"
  bench_result "scale: total bench wall time $(awk -v ms=$(( $(dm_now_ms) - DM_T0 )) 'BEGIN { printf "%.1f", ms / 1000 }') s (incl. build)"
  return $(( s == 0 ? 0 : 1 ))
}
