# shellcheck shell=bash
# scripts/lib.sh - start/stop the real servers deskmail's tests (and benchmarks) run against.
# Sourced by scripts/test (and later scripts/bench); not executable on its own.
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   trap dm_cleanup EXIT; trap 'exit 130' INT; trap 'exit 143' TERM
#   dm_require_cargo; dm_install_deps; dm_lock
#   dm_mailenv_start; dm_pg_start; dm_corpus; dm_browser
#   dm_run cargo test ...        # runs a command with the servers' environment, lock fd closed
#   (dm_cleanup stops exactly what dm_*_start started, also on failure and Ctrl-C)
#
# Exports (each only when its piece is available):
#   MAILENV_* (from the kit's env file: HOST, IMAP_PORT, IMAPS_PORT, SMTP_PORT, SUBMISSION_PORT,
#             CA_CERT, TLS_NAME, USERS_FILE, CATCHALL, WILDCARD_DOMAIN, WILDCARD_PASSWORD,
#             DIR, SMTP_IMPL), MAILENV_SH (the kit, for outage tests' private instances),
#             MAILENV_PRIVATE_ROOT (a short dir where private instances should live; swept
#             at the end in case a test leaks one)
#   TEST_DATABASE_URL   postgres://deskmail_test:deskmail_test@127.0.0.1:<port>/postgres
#   DESKMAIL_CORPUS     the mail corpus (has MANIFEST.tsv)
#   CHROMIUM, CHROMEDRIVER
#
# Policy: with CI=true (or 1/yes) every missing or failed piece is a hard error (exit 1,
# never a skip). Otherwise it is a warning, the piece's variables are left unset and the
# tests that need it skip.
#
# Knobs: DM_NO_INSTALL=1 (never apt-get), DM_PG_CLUSTER=<ver>/<name>, TEST_DATABASE_URL
# (preset: use that server, start nothing), MAILENV_DIR / MAILENV_*_PORT (the shared
# instance's directory and ports), DESKMAIL_CORPUS, CHROMIUM / CHROMEDRIVER.

DM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DM_MAILENV_SH=$DM_ROOT/scripts/mailenv/mailenv.sh
DM_RUN_LOCK=${DM_RUN_LOCK:-/tmp/deskmail-test-$(id -u).lock}
DM_PG_ROLE=deskmail_test
DM_PG_PASSWORD=deskmail_test

DM_T0=$(date +%s%3N)
DM_TMP=""                 # short private temp dir of this run (/tmp/dmt.XXXXXX)
DM_STARTED_MAILENV=0
DM_STARTED_PG=0
DM_PG_VER="" DM_PG_NAME="" DM_PG_PORT=""
DM_MISSING=()             # pieces that are missing (non-CI only; CI exits instead)
DM_SUMMARY=()             # lines for dm_summary
DM_KEEP_LOGS=0            # set to 1 (e.g. when tests failed) to keep the mailenv logs
DM_CLEANED=0

dm_now_ms() { date +%s%3N; }
if [[ -t 2 ]]; then DM_B=$'\033[1m' DM_Y=$'\033[33m' DM_R=$'\033[31m' DM_N=$'\033[0m'; else DM_B="" DM_Y="" DM_R="" DM_N=""; fi
dm_log()  { printf '%s[test]%s %s\n' "$DM_B" "$DM_N" "$*" >&2; }
dm_warn() { printf '%s[test] WARNING:%s %s\n' "$DM_Y" "$DM_N" "$*" >&2; }
dm_err()  { printf '%s[test] ERROR:%s %s\n' "$DM_R" "$DM_N" "$*" >&2; }
dm_die()  { dm_err "$*"; exit 1; }
dm_is_ci() { [[ ${CI:-} =~ ^(true|TRUE|True|1|yes)$ ]]; }
dm_is_root() { [[ $(id -u) == 0 ]]; }
dm_note() { DM_SUMMARY+=("$*"); }

# dm_missing WHAT HINT: under CI a hard failure, otherwise a warning (tests needing WHAT skip)
dm_missing() {
  if dm_is_ci; then
    dm_die "CI=true: $1 is required: $2"
  fi
  dm_warn "$1 unavailable ($2); the tests that need it will skip"
  DM_MISSING+=("$1")
  return 0
}

# --- prerequisites ------------------------------------------------------------

dm_require_cargo() {
  if ! command -v cargo >/dev/null && [[ -x ${CARGO_HOME:-$HOME/.cargo}/bin/cargo ]]; then
    PATH=${CARGO_HOME:-$HOME/.cargo}/bin:$PATH
    export PATH
  fi
  command -v cargo >/dev/null || dm_die "cargo not found. Install Rust with rustup (https://rustup.rs):
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y && . \"\$HOME/.cargo/env\"
  then run this again."
  command -v cc >/dev/null || command -v gcc >/dev/null \
    || dm_warn "no C compiler (cc): crates that build C (ring, sqlite) will fail; apt-get install gcc libc6-dev"
}

dm_pkg_installed() { [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) == ii* ]]; }

dm_apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o DPkg::Lock::Timeout=300 "$@"
}

# dm_install_deps: apt-get install what is missing (root only, once; nothing if all present)
dm_install_deps() {
  # systemd: systemd-analyze checks config/deskmail.service (tests/api/release.rs)
  local core=(dovecot-imapd dovecot-lmtpd postfix python3-aiosmtpd openssl postgresql gcc libc6-dev systemd curl python3-pip)
  local browser=(chromium chromium-driver)
  command -v dpkg-query >/dev/null || { dm_warn "not a Debian/Ubuntu system: install Dovecot, Postfix, PostgreSQL and Chromium yourself"; return 0; }
  local missing=() p
  for p in "${core[@]}" "${browser[@]}"; do dm_pkg_installed "$p" || missing+=("$p"); done
  (( ${#missing[@]} )) || return 0
  if ! dm_is_root || [[ ${DM_NO_INSTALL:-0} == 1 ]]; then
    dm_warn "packages not installed: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
    return 0
  fi
  local t0; t0=$(dm_now_ms)
  dm_log "installing: ${missing[*]}"
  local log=/tmp/deskmail-apt-$$.log
  if ! DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=300 >"$log" 2>&1; then
    tail -5 "$log" >&2; dm_warn "apt-get update failed; trying to install anyway"
  fi
  if ! dm_apt_install "${missing[@]}" >>"$log" 2>&1; then
    # Ubuntu has no usable 'chromium' deb (snap only): retry without the browser so the
    # servers still get installed; dm_browser reports the missing browser.
    local rest=()
    for p in "${missing[@]}"; do [[ " ${browser[*]} " == *" $p "* ]] || rest+=("$p"); done
    tail -5 "$log" >&2
    if (( ${#rest[@]} )) && ! dm_apt_install "${rest[@]}" >>"$log" 2>&1; then
      tail -20 "$log" >&2
      if dm_is_ci; then dm_die "apt-get install failed (log: $log)"; fi
      dm_warn "apt-get install failed (log: $log)"
      return 0
    fi
  fi
  rm -f "$log"
  dm_note "installed ${missing[*]} in $(( $(dm_now_ms) - t0 )) ms"
}

# dm_lock: one test/bench run at a time per machine and user (they share ports, the
# PostgreSQL cluster and its dm_test_% databases). Held on fd 8; dm_run and the server
# starts close it so no child ever keeps it.
dm_lock() {
  exec 8>>"$DM_RUN_LOCK"
  if ! flock -n 8; then
    dm_log "another scripts/test or scripts/bench run holds $DM_RUN_LOCK; waiting for it..."
    flock 8
  fi
}

dm_tmp() {
  if [[ -z $DM_TMP ]]; then
    DM_TMP=$(mktemp -d /tmp/dmt.XXXXXX)
    chmod 755 "$DM_TMP"   # Postfix and the mail user must traverse it (root mode)
  fi
}

# --- mail system (Dovecot + Postfix, scripts/mailenv) --------------------------

# dm_mailenv_start: start the shared instance and export its MAILENV_* (ports from
# MAILENV_*_PORT if set, else the kit's defaults 31143/31993/31025/31587)
dm_mailenv_start() {
  dm_tmp
  local dir=${MAILENV_DIR:-$DM_TMP/m} envfile t0 t1
  t0=$(dm_now_ms)
  if ! command -v dovecot >/dev/null && [[ ! -x /usr/sbin/dovecot ]]; then
    dm_missing "the mail system (Dovecot)" "apt-get install dovecot-imapd dovecot-lmtpd postfix"
    dm_unset_mailenv
    return 0
  fi
  # MAILENV_SHARED=1 only for this call (never exported): marks the instance so that
  # tests cannot stop or reset it by accident.
  if ! envfile=$(MAILENV_DIR=$dir MAILENV_SHARED=1 "$DM_MAILENV_SH" start 8>&-); then
    dm_missing "the mail system" "mailenv.sh start failed in $dir (messages above)"
    dm_unset_mailenv
    return 0
  fi
  DM_STARTED_MAILENV=1
  DM_MAILENV_DIR=$dir
  # shellcheck disable=SC1090
  . "$envfile"
  export MAILENV_SH=$DM_MAILENV_SH
  mkdir -p "$DM_TMP/p"
  export MAILENV_PRIVATE_ROOT=$DM_TMP/p
  t1=$(dm_now_ms)
  dm_note "mail: Dovecot + ${MAILENV_SMTP_IMPL} started in $((t1 - t0)) ms (IMAP $MAILENV_IMAP_PORT, IMAPS $MAILENV_IMAPS_PORT, SMTP $MAILENV_SMTP_PORT, submission $MAILENV_SUBMISSION_PORT, dir $dir)"
}

dm_unset_mailenv() {
  local v
  for v in $(compgen -v MAILENV_); do unset "$v"; done
}

# dm_mailenv_stop: stop private instances a test leaked, then the shared instance
dm_mailenv_stop() {
  local d n=0 pids=() rc=0
  # private instances (outage tests) that a failed test left running: stop in parallel
  if [[ -n $DM_TMP && -d $DM_TMP/p ]]; then
    for d in "$DM_TMP"/p/*/; do
      [[ -e $d.mailenv ]] || continue
      MAILENV_DIR=${d%/} "$DM_MAILENV_SH" status 2>/dev/null | grep -q ': running' || continue
      MAILENV_DIR=${d%/} MAILENV_SHARED=1 "$DM_MAILENV_SH" stop >/dev/null 2>&1 8>&- &
      pids+=("$!")
      n=$((n + 1))
    done
  fi
  if (( DM_STARTED_MAILENV )); then
    local t0 args=(stop --purge); t0=$(dm_now_ms)
    if (( DM_KEEP_LOGS )); then args=(stop); fi
    if MAILENV_DIR=$DM_MAILENV_DIR MAILENV_SHARED=1 "$DM_MAILENV_SH" "${args[@]}" 2>/dev/null 8>&-; then
      DM_STARTED_MAILENV=0
      dm_note "mail: stopped in $(( $(dm_now_ms) - t0 )) ms"
    else
      dm_err "mail: stop failed in $DM_MAILENV_DIR"
      rc=1
    fi
  fi
  for d in "${pids[@]}"; do wait "$d" || rc=1; done
  (( n == 0 )) || dm_note "mail: stopped $n private instance(s) that tests had left running (in $DM_TMP/p)"
  return $rc
}

# --- PostgreSQL ------------------------------------------------------------------

dm_psql_url() { psql -X -q -v ON_ERROR_STOP=1 "$TEST_DATABASE_URL" "$@" </dev/null; }
dm_psql_admin() { # as the postgres superuser over the local socket (root only)
  (cd / && runuser -u postgres -- psql -X -q -p "$DM_PG_PORT" -d postgres "$@")
}

# dm_pg_pick: choose the cluster (DM_PG_CLUSTER=ver/name, else the newest 'main', else the
# newest); creates 'main' when packages are installed but no cluster exists (root only)
dm_pg_pick() {
  local line ver name port
  if ! command -v pg_lsclusters >/dev/null; then return 1; fi
  if [[ -z $(pg_lsclusters -h 2>/dev/null) ]] && dm_is_root; then
    ver=$(find /usr/lib/postgresql -maxdepth 1 -mindepth 1 -printf '%f\n' 2>/dev/null | sort -n | tail -1)
    if [[ -n $ver && -x /usr/lib/postgresql/$ver/bin/postgres ]]; then
      dm_log "creating PostgreSQL cluster $ver/main"
      pg_createcluster "$ver" main >/dev/null || return 1
    fi
  fi
  if [[ -n ${DM_PG_CLUSTER:-} ]]; then
    line=$(pg_lsclusters -h | awk -v v="${DM_PG_CLUSTER%/*}" -v n="${DM_PG_CLUSTER#*/}" '$1 == v && $2 == n')
  else
    line=$(pg_lsclusters -h | awk '$2 == "main"' | sort -k1,1n | tail -1)
    [[ -n $line ]] || line=$(pg_lsclusters -h | sort -k1,1n | tail -1)
  fi
  [[ -n $line ]] || return 1
  read -r ver name port _ <<<"$line"
  DM_PG_VER=$ver DM_PG_NAME=$name DM_PG_PORT=$port
}

# dm_pg_launch: pg_ctlcluster start, but proceed as soon as the server accepts connections.
# (pg_ctlcluster itself insists on three good probes 0.5 s apart, ~2.2 s; it finishes in
# the background, and dm_cleanup ends it if it still runs.)
# DM_PG_SERVER_OPTS: server options for this start only (pg_ctl -o), e.g. "-c shared_buffers=1GB" (scripts/bench scale).
DM_PG_START_PID=""
dm_pg_launch() {
  dm_tmp
  local log=$DM_TMP/pg-start.log deadline rc=0 opts=()
  [[ -z ${DM_PG_SERVER_OPTS:-} ]] || opts=(-- -o "$DM_PG_SERVER_OPTS")
  pg_ctlcluster "$DM_PG_VER" "$DM_PG_NAME" start "${opts[@]}" </dev/null >"$log" 2>&1 8>&- &
  DM_PG_START_PID=$!
  DM_STARTED_PG=1         # from here on, cleanup stops it (also after Ctrl-C)
  deadline=$(( $(dm_now_ms) + 60000 ))
  until pg_isready -q -h 127.0.0.1 -p "$DM_PG_PORT" -t 1 2>/dev/null; do
    if ! kill -0 "$DM_PG_START_PID" 2>/dev/null; then
      wait "$DM_PG_START_PID" || rc=$?
      DM_PG_START_PID=""
      (( rc == 0 )) && break
      cat "$log" >&2
      DM_STARTED_PG=0
      dm_missing "PostgreSQL" "pg_ctlcluster $DM_PG_VER $DM_PG_NAME start failed (see /var/log/postgresql/)"
      return 1
    fi
    if (( $(dm_now_ms) > deadline )); then
      dm_missing "PostgreSQL" "cluster $DM_PG_VER/$DM_PG_NAME not ready on 127.0.0.1:$DM_PG_PORT after 60 s"
      return 1
    fi
    sleep 0.05
  done
}

dm_pg_status() { pg_lsclusters -h | awk -v v="$DM_PG_VER" -v n="$DM_PG_NAME" '$1 == v && $2 == n { print $4 }'; }

# dm_pg_start: start the cluster if it is down, make the deskmail_test role (CREATEDB),
# drop dm_test_% databases left by earlier runs, export and check TEST_DATABASE_URL
dm_pg_start() {
  local t0 how; t0=$(dm_now_ms)
  if [[ -n ${TEST_DATABASE_URL:-} ]]; then
    # preset by the caller: use that server as it is, start nothing
    if dm_psql_url -tAc 'select 1' >/dev/null 2>&1; then
      dm_note "postgres: using the preset TEST_DATABASE_URL (nothing started)"
    else
      dm_missing "PostgreSQL" "cannot connect to the preset TEST_DATABASE_URL"
      unset TEST_DATABASE_URL
    fi
    return 0
  fi
  if ! dm_is_root; then
    export TEST_DATABASE_URL="postgres://$DM_PG_ROLE:$DM_PG_PASSWORD@127.0.0.1:5432/postgres"
    if command -v psql >/dev/null && dm_psql_url -tAc 'select 1' >/dev/null 2>&1; then
      dm_note "postgres: already running, reached as $DM_PG_ROLE (not root: nothing started)"
    else
      unset TEST_DATABASE_URL
      dm_missing "PostgreSQL" "not root: start it and create role $DM_PG_ROLE (password $DM_PG_PASSWORD, CREATEDB), or set TEST_DATABASE_URL"
    fi
    return 0
  fi
  if ! dm_pg_pick; then
    dm_missing "PostgreSQL" "no cluster found (apt-get install postgresql; pg_lsclusters)"
    return 0
  fi
  case $(dm_pg_status) in
    online*) how="already running, left running" ;;
    *)
      dm_pg_launch || return 0
      how="started"
      ;;
  esac
  # role: create once, then (re)set the password and CREATEDB every run
  if ! dm_psql_admin -v ON_ERROR_STOP=1 >/dev/null <<SQL
select 'create role $DM_PG_ROLE' where not exists (select from pg_roles where rolname = '$DM_PG_ROLE')\\gexec
alter role $DM_PG_ROLE login createdb password '$DM_PG_PASSWORD';
SQL
  then
    dm_missing "PostgreSQL" "could not create role $DM_PG_ROLE"
    return 0
  fi
  export TEST_DATABASE_URL="postgres://$DM_PG_ROLE:$DM_PG_PASSWORD@127.0.0.1:$DM_PG_PORT/postgres"
  local n
  n=$(dm_pg_drop_test_dbs)
  if [[ $(dm_psql_url -tAc 'select rolcreatedb from pg_roles where rolname = current_user' 2>&1) != t ]]; then
    dm_psql_url -tAc 'select 1' >&2 || true
    unset TEST_DATABASE_URL
    dm_missing "PostgreSQL" "password login as $DM_PG_ROLE on 127.0.0.1:$DM_PG_PORT failed (pg_hba.conf must allow scram-sha-256/md5 for 127.0.0.1)"
    return 0
  fi
  dm_note "postgres: cluster $DM_PG_VER/$DM_PG_NAME on port $DM_PG_PORT $how ($(( $(dm_now_ms) - t0 )) ms, dropped $n leftover dm_test_% databases)"
}

# dm_pg_drop_test_dbs: drop every dm_test_% database; prints how many were dropped
dm_pg_drop_test_dbs() {
  local dbs
  dbs=$(dm_psql_url -tAc "select datname from pg_database where datname like 'dm\\_test\\_%'" 2>/dev/null) || { echo 0; return 0; }
  [[ -n $dbs ]] || { echo 0; return 0; }
  # Each DROP DATABASE waits for a checkpoint (~250 ms here, 47 s for a full run's 184
  # databases one by one); eight at a time share them (~80 ms each).
  # No WITH (FORCE): that needs PostgreSQL 13+, and a database still in use is a bug to see.
  # shellcheck disable=SC2016 # $1/$2 belong to the inner sh
  printf '%s\n' $dbs | xargs -r -P 8 -I{} sh -c \
    'psql -X -q -v ON_ERROR_STOP=1 "$1" -c "drop database if exists \"$2\"" </dev/null >/dev/null 2>&1 && echo dropped' \
    _ "$TEST_DATABASE_URL" {} | wc -l
}

# dm_pg_stop_to FILE: dm_pg_stop, its summary lines written to FILE (for a background job)
dm_pg_stop_to() {
  local s=0
  DM_SUMMARY=()
  dm_pg_stop || s=$?
  printf '%s\n' "${DM_SUMMARY[@]}" >"$1"
  return $s
}

dm_pg_stop() {
  local t0 n; t0=$(dm_now_ms)
  if [[ -n ${TEST_DATABASE_URL:-} && -n $DM_PG_VER ]]; then
    n=$(dm_pg_drop_test_dbs)
    (( n == 0 )) || dm_note "postgres: dropped $n test databases in $(( $(dm_now_ms) - t0 )) ms"
  fi
  (( DM_STARTED_PG )) || return 0
  t0=$(dm_now_ms)
  if pg_ctlcluster "$DM_PG_VER" "$DM_PG_NAME" stop -m fast </dev/null 8>&-; then
    DM_STARTED_PG=0
    dm_note "postgres: stopped in $(( $(dm_now_ms) - t0 )) ms"
  else
    dm_err "postgres: pg_ctlcluster $DM_PG_VER $DM_PG_NAME stop failed"
    return 1
  fi
}

# --- corpus, browser --------------------------------------------------------------

dm_corpus() {
  local c=${DESKMAIL_CORPUS:-$DM_ROOT/../shared/corpus}
  if [[ -f $c/MANIFEST.tsv ]]; then
    DESKMAIL_CORPUS=$(cd "$c" && pwd)
    export DESKMAIL_CORPUS
    dm_note "corpus: $DESKMAIL_CORPUS ($(( $(wc -l < "$DESKMAIL_CORPUS/MANIFEST.tsv") - 1 )) files in MANIFEST.tsv)"
  else
    unset DESKMAIL_CORPUS
    dm_missing "the mail corpus" "$c/MANIFEST.tsv not found (set DESKMAIL_CORPUS=<dir with MANIFEST.tsv>)"
  fi
}

dm_browser() {
  local c=${CHROMIUM:-} d=${CHROMEDRIVER:-} x
  if [[ -z $c ]]; then
    for x in chromium chromium-browser google-chrome; do c=$(command -v "$x" || true); [[ -n $c ]] && break; done
  fi
  if [[ -z $d ]]; then
    d=$(command -v chromedriver || true)
    [[ -n $d || ! -x /usr/lib/chromium/chromedriver ]] || d=/usr/lib/chromium/chromedriver
  fi
  if [[ -n $c && -x $c && -n $d && -x $d ]]; then
    export CHROMIUM=$c CHROMEDRIVER=$d
    dm_note "browser: CHROMIUM=$c CHROMEDRIVER=$d"
  else
    unset CHROMIUM CHROMEDRIVER
    dm_missing "Chromium + ChromeDriver" "apt-get install chromium chromium-driver"
  fi
}

# --- S3-compatible object store (moto in server mode, from PyPI) -----------------------

DM_S3_PID=""

# dm_s3_start: installs moto[server] with pip when missing, starts it on 127.0.0.1 and exports
# TEST_S3_ENDPOINT plus test credentials (AWS_*) for the tests that store blobs in a bucket.
dm_s3_start() {
  local port=${DM_S3_PORT:-$(( 31900 + RANDOM % 90 ))} t0 i
  t0=$(dm_now_ms)
  if ! command -v moto_server >/dev/null; then
    if [[ ${DM_NO_INSTALL:-0} != 1 ]] && command -v python3 >/dev/null; then
      # Debian's own python3 refuses system-wide pip installs (PEP 668) unless told otherwise.
      python3 -m pip install -q 'moto[server]' >/tmp/deskmail-pip-$$.log 2>&1 ||
        python3 -m pip install -q --break-system-packages 'moto[server]' >>/tmp/deskmail-pip-$$.log 2>&1 ||
        tail -5 /tmp/deskmail-pip-$$.log >&2
      rm -f /tmp/deskmail-pip-$$.log
      hash -r
    fi
    command -v moto_server >/dev/null || { dm_missing "an S3 test server (moto_server)" "python3 -m pip install 'moto[server]'"; return 0; }
    dm_note "installed moto[server] in $(( $(dm_now_ms) - t0 )) ms"
    t0=$(dm_now_ms)
  fi
  dm_tmp
  moto_server -H 127.0.0.1 -p "$port" >"$DM_TMP/moto.log" 2>&1 8>&- &
  DM_S3_PID=$!
  for i in $(seq 1 150); do
    curl -s -o /dev/null "http://127.0.0.1:$port/moto-api/" && break
    kill -0 "$DM_S3_PID" 2>/dev/null || break
    sleep 0.1
  done
  if ! curl -s -o /dev/null "http://127.0.0.1:$port/moto-api/"; then
    tail -5 "$DM_TMP/moto.log" >&2
    dm_s3_stop
    dm_missing "an S3 test server (moto_server)" "it did not start on port $port"
    return 0
  fi
  export TEST_S3_ENDPOINT=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=deskmail-test AWS_SECRET_ACCESS_KEY=deskmail-test AWS_REGION=us-east-1
  dm_note "s3: moto_server on port $port started in $(( $(dm_now_ms) - t0 )) ms"
}

dm_s3_stop() {
  [[ -n $DM_S3_PID ]] || return 0
  kill "$DM_S3_PID" 2>/dev/null || true
  wait "$DM_S3_PID" 2>/dev/null || true
  DM_S3_PID=""
}

# --- running and cleaning up ---------------------------------------------------------

# dm_run CMD...: run CMD from the repository root with the servers' environment; the
# run lock (fd 8) is not passed on. Returns CMD's exit status.
dm_run() {
  local rc=0
  (cd "$DM_ROOT" && "$@" 8>&-) || rc=$?
  return $rc
}

# dm_cleanup: the EXIT trap. Stops exactly what this run started (mail and PostgreSQL in
# parallel), removes the temp dir, prints the summary.
dm_cleanup() {
  local rc=$? pg_rc=0 mail_rc=0 pg_log
  (( DM_CLEANED )) && return 0
  DM_CLEANED=1
  trap '' INT TERM
  # keep the server logs when something failed (not after a plain Ctrl-C / SIGTERM)
  (( rc == 0 || rc == 130 || rc == 143 )) || DM_KEEP_LOGS=1
  dm_s3_stop
  if [[ -n $DM_PG_START_PID ]]; then
    # pg_ctlcluster's own readiness probes may still run: end them (the server is
    # in its own session and unaffected), so the stop below doesn't race them
    kill "$DM_PG_START_PID" 2>/dev/null || true
    wait "$DM_PG_START_PID" 2>/dev/null || true
    DM_PG_START_PID=""
  fi
  if (( DM_STARTED_PG )) || [[ -n ${TEST_DATABASE_URL:-} && -n $DM_PG_VER ]]; then
    pg_log=$(mktemp)
    dm_pg_stop_to "$pg_log" &    # in parallel with the mail stop (Dovecot's takes ~1 s)
    local pg_pid=$!
    dm_mailenv_stop || mail_rc=1
    wait "$pg_pid" || pg_rc=1
    (( pg_rc == 0 )) && DM_STARTED_PG=0
    local line
    while IFS= read -r line; do [[ -z $line ]] || DM_SUMMARY+=("$line"); done <"$pg_log"
    rm -f "$pg_log"
  else
    dm_mailenv_stop || mail_rc=1
  fi
  if [[ -n $DM_TMP && -d $DM_TMP ]]; then
    if (( DM_KEEP_LOGS || mail_rc )) && [[ -d $DM_TMP/m/log || -n $(ls -A "$DM_TMP/p" 2>/dev/null) ]]; then
      dm_note "server logs kept in $DM_TMP (m/log: the shared mail system, p/: private instances)"
    else
      rm -rf "$DM_TMP"
    fi
  fi
  dm_summary "$rc"
  if (( rc == 0 && (mail_rc || pg_rc) )); then exit 1; fi
  exit "$rc"
}

dm_summary() {
  local rc=$1 line
  {
    printf '%s[test] ---- summary ----%s\n' "$DM_B" "$DM_N"
    for line in "${DM_SUMMARY[@]}"; do printf '[test] %s\n' "$line"; done
    if (( ${#DM_MISSING[@]} )); then printf '[test] MISSING (tests skipped): %s\n' "${DM_MISSING[*]}"; fi
    printf '[test] exit status %s, elapsed %s s\n' "$rc" \
      "$(awk -v ms=$(( $(dm_now_ms) - DM_T0 )) 'BEGIN { printf "%.1f", ms / 1000 }')"
  } >&2
}
