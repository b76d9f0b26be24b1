# shellcheck shell=bash
# scripts/bench.d/portal.sh - `scripts/bench portal`, sourced by scripts/bench.
#: customer portal: a signed-in customer's ticket list and ticket page at 200 req/s, p99 each (SQLite, 100k tickets)
#
# 1. builds the release binary; installs `hey` when missing (bench_web_hey, scripts/bench.d/web.sh)
# 2. runs portal.py in a work dir: `deskmail migrate` on a fresh SQLite file, then seed_web.py (the
#    same data as `scripts/bench web`: DM_BENCH_TICKETS (100,000) tickets, DM_BENCH_MESSAGES (500,000)
#    messages, 20,000 customers with a skewed number of tickets each) and `deskmail reindex`; adds
#    attachment rows (metadata only, no blobs) to 5% of the customer mails; picks the customer whose
#    number of tickets (requester or participant) is closest to DM_BENCH_PORTAL_TICKETS (20) and
#    prints it with the spread over all customers (when the seed gives no customer that many, the
#    chosen one gets extra `cc` participant rows, and the run says so); inserts a single-use sign-in
#    token for them into portal_login_tokens; `deskmail serve`; follows /portal/login/{token} and
#    keeps the `deskmail_portal` cookie
# 3. with hey, DM_BENCH_DURATION (20) s per run after a short warm-up, redirects not followed (a 303
#    to /portal is a lost session and fails the run like any answer that is not 200):
#      GET /portal/tickets (the customer's list)          at DM_BENCH_RATE (200) req/s   target p99 <= 25 ms
#      GET /portal/tickets/{n} over DM_BENCH_PORTAL_PAGES (5) of the customer's tickets with a few
#        messages each (one hey per ticket, the rate split between them)
#                                                        at DM_BENCH_RATE (200) req/s   target p99 <= 25 ms
#      the highest throughput with DM_BENCH_CONNECTIONS (32) connections, the list and one ticket page
#    and the server's peak RSS (VmHWM; reported, no target)
# A missed target prints BELOW TARGET (not a failure); errors in the answers or a dead server fail.
# SQLite only: PostgreSQL is not covered (the portal's queries are the same, their plans are not).
#
# Knobs: DM_BENCH_TICKETS, DM_BENCH_MESSAGES, DM_BENCH_SEED, DM_BENCH_DURATION, DM_BENCH_RATE,
# DM_BENCH_CONNECTIONS, DM_BENCH_PORTAL_TICKETS, DM_BENCH_PORTAL_PAGES, DM_BENCH_KEEP=1 (keep the
# seeded database), DM_BENCH_NO_BUILD=1 (see scripts/bench), DM_NO_INSTALL=1 (never apt-get hey).

if ! declare -F bench_web_hey >/dev/null; then
  # shellcheck source=scripts/bench.d/web.sh
  . "$BENCH_D/web.sh"
fi

bench_portal() {
  local tickets=${DM_BENCH_TICKETS:-100000} messages=${DM_BENCH_MESSAGES:-500000} seed=${DM_BENCH_SEED:-1}
  local duration=${DM_BENCH_DURATION:-20} rate=${DM_BENCH_RATE:-200} conns=${DM_BENCH_CONNECTIONS:-32}
  local want=${DM_BENCH_PORTAL_TICKETS:-20} pages=${DM_BENCH_PORTAL_PAGES:-5} py s=0 line v
  for v in tickets messages duration rate conns want pages; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || dm_die "scripts/bench portal: $v must be a positive number (got '${!v}')"
  done
  [[ $seed =~ ^[0-9]+$ ]] || dm_die "DM_BENCH_SEED must be a number (got '$seed')"
  (( messages >= tickets )) || dm_die "DM_BENCH_MESSAGES must be at least DM_BENCH_TICKETS"
  (( $# == 0 )) || dm_die "scripts/bench portal takes no arguments (knobs are DM_BENCH_* variables)"
  py=$(bench_python)

  bench_build
  bench_web_hey
  bench_work
  dm_lock
  bench_header
  bench_log "load generator: $(command -v hey) ($(dpkg-query -W -f='${Version}' hey 2>/dev/null || echo '?'))"

  mkdir -p "$BENCH_WORK/run"
  : >"$BENCH_WORK/summary.txt"
  bench_log "portal.py: seed $tickets tickets / $messages messages, sign a customer in, serve, $duration s per run"
  "$py" "$BENCH_D/portal.py" --bin "$BENCH_BIN" --work "$BENCH_WORK/run" --tickets "$tickets" \
    --messages "$messages" --seed "$seed" --duration "$duration" --rate "$rate" --connections "$conns" \
    --customer-tickets "$want" --pages "$pages" --summary "$BENCH_WORK/summary.txt" 8>&- || s=$?
  while IFS= read -r line; do [[ -z $line ]] || bench_result "$line"; done <"$BENCH_WORK/summary.txt"
  (( s == 0 )) || bench_result "portal: FAILED (portal.py exit status $s)"
  bench_result "portal: SQLite only (PostgreSQL not covered)"
  bench_result "portal: machine: $(bench_machine)"
  bench_result "portal: $(bench_version)"
  bench_result "portal: total bench wall time $(awk -v ms=$(( $(dm_now_ms) - DM_T0 )) 'BEGIN { printf "%.1f", ms / 1000 }') s (incl. build)"
  return $(( s == 0 ? 0 : 1 ))
}
