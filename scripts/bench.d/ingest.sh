# shellcheck shell=bash
# scripts/bench.d/ingest.sh - `scripts/bench ingest`, sourced by scripts/bench.
#: generated messages through `deskmail ingest --json` into SQLite and PostgreSQL: msg/s, MB/s, peak RSS
#
# 1. builds the release binary; generates DM_BENCH_MESSAGES (default 5000) messages with
#    gen_mail.py (seed DM_BENCH_SEED, default 1): 58% new tickets, 40% replies threading by
#    In-Reply-To/References, 1% re-deliveries, 1% bounces; 20% carry a 50 KiB attachment
# 2. starts PostgreSQL (scripts/lib.sh; no mail servers), per store a fresh database
#    (a new SQLite file; a new dm_bench_<random> PostgreSQL database, dropped afterwards), a temp
#    config and storage dir
# 3. runs ingest.py: one `deskmail ingest --mailbox support --json FILE...` over all files
#    (cwd = the mail dir), timed as a whole process; checks the JSON lines (one per file, no
#    `error`, counts add up) and prints outcomes, CPU split, and the summary line per store
#
# Knobs: DM_BENCH_MESSAGES, DM_BENCH_SEED, DM_BENCH_STORES ("sqlite postgres"), DM_BENCH_PERF=1,
# DM_BENCH_KEEP=1, DM_BENCH_NO_BUILD=1 (see scripts/bench).

bench_ingest() {
  local n=${DM_BENCH_MESSAGES:-5000} seed=${DM_BENCH_SEED:-1} py store dir rc=0 s t0 gen_json
  local stores=() perf=() sizes out summary
  [[ $n =~ ^[1-9][0-9]*$ ]] || dm_die "DM_BENCH_MESSAGES must be a positive number (got '$n')"
  [[ $seed =~ ^[0-9]+$ ]] || dm_die "DM_BENCH_SEED must be a number (got '$seed')"
  for s in ${DM_BENCH_STORES:-sqlite postgres}; do
    case $s in sqlite|postgres) stores+=("$s") ;; *) dm_die "DM_BENCH_STORES: unknown store '$s' (sqlite, postgres)" ;; esac
  done
  (( ${#stores[@]} )) || dm_die "DM_BENCH_STORES is empty"
  [[ ${DM_BENCH_PERF:-0} == 1 ]] && perf=(--perf)
  py=$(bench_python)
  (( $# == 0 )) || dm_die "scripts/bench ingest takes no arguments (knobs are DM_BENCH_* variables)"

  bench_build
  bench_work
  t0=$(dm_now_ms)
  gen_json=$("$py" "$BENCH_D/gen_mail.py" --out "$BENCH_WORK/mail" --count "$n" --seed "$seed") \
    || dm_die "gen_mail.py failed"
  bench_log "generated in $(( $(dm_now_ms) - t0 )) ms: $gen_json"

  dm_lock
  bench_pg_stores stores
  bench_header

  for store in "${stores[@]}"; do
    dir=$BENCH_WORK/$store
    mkdir -p "$dir"
    bench_store_url "$store" "$dir"
    bench_config "$dir" "$BENCH_URL"
    sync   # the generated files' dirty pages must not land in deskmail's syncfs calls
    bench_log "$store: $BENCH_BIN --config $dir/deskmail.toml ingest --mailbox support --json <$n files>"
    s=0
    out=$("$py" "$BENCH_D/ingest.py" --bin "$BENCH_BIN" --config "$dir/deskmail.toml" \
      --mail "$BENCH_WORK/mail" --store "$store" --result "$dir/result.json" \
      --log "$dir/deskmail.log" "${perf[@]}" 8>&-) || s=$?
    printf '%s\n' "$out"
    summary=$(grep -E "^ingest $store: [0-9]+ msgs in" <<<"$out" || echo "ingest $store: no result")
    sizes="storage dir $(du -sh "$dir/storage" | cut -f1)"
    case $store in
      sqlite) sizes+=", database $(du -ch "$dir"/deskmail.db* 2>/dev/null | tail -1 | cut -f1)" ;;
      postgres) sizes+=", database $(dm_psql_url -tAc "select pg_size_pretty(pg_database_size('$BENCH_PG_DB'))" 2>/dev/null || echo '?')" ;;
    esac
    printf 'ingest %s: after the run: %s\n' "$store" "$sizes"
    printf 'ingest %s: deskmail wrote %s lines to stderr\n' "$store" "$(grep -c . "$dir/deskmail.log" || true)"
    if (( s != 0 )); then
      rc=1
      bench_result "$summary  [FAILED]"
    else
      bench_result "$summary"
    fi
    [[ -z $BENCH_PG_DB ]] || bench_pg_dropdb "$BENCH_PG_DB"
    # The store dirs stay until the exit trap: deleting ~10,000 blob files and directories
    # right before the next store's run makes that run's file creation slower (ext4 skips
    # recently deleted inodes when allocating, and without a journal it checks every one).
  done
  bench_result "ingest: $(bench_version); mail set: $gen_json"
  bench_result "ingest: total bench wall time $(awk -v ms=$(( $(dm_now_ms) - DM_T0 )) 'BEGIN { printf "%.1f", ms / 1000 }') s (incl. build)"
  return "$rc"
}
