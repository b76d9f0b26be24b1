#!/usr/bin/env bash
# mailenv.sh - a throw-away, loopback-only mail system for integration tests.
#
#   Dovecot 2.3 (IMAP 31143 + STARTTLS, IMAPS 31993, LMTP on a unix socket)
#   + Postfix 3.7 (SMTP 31025, submission 31587 with STARTTLS + AUTH via Dovecot SASL)
#     or, without root / without Postfix, smtpd_lmtp.py (aiosmtpd) on the same ports.
#
# Usage:
#   mailenv.sh start            start everything, print the env file path
#   mailenv.sh stop [--purge]   stop everything (and delete the directory)
#   mailenv.sh status           show what runs
#   mailenv.sh reset            expunge all messages of all test users (servers keep running)
#   mailenv.sh restart          stop + start (fresh directory)
#   mailenv.sh stop-imap | start-imap   stop / start Dovecot alone; mail, UIDs, TLS kept
#   mailenv.sh stop-smtp | start-smtp   stop / start the SMTP server alone; its queue kept
#                                       (for outage tests; use a private MAILENV_DIR and ports)
#   mailenv.sh kick USER        end USER's IMAP sessions now (doveadm kick; e.g. a provider that drops a
#                               session when its OAuth2 access token expires)
#   mailenv.sh run -- CMD ...   start, run CMD with MAILENV_* exported, stop (exit code of CMD)
#
# deskmail's copy of the verified kit in ../shared/mailenv (see its README.md for the
# design, measurements and pitfalls). scripts/test starts one shared instance for the
# whole test run; outage tests start their own instance with their own MAILENV_DIR and
# ports (or MAILENV_PORTS=auto) and read the ports back from $MAILENV_DIR/env.
# Changes from the kit: MAILENV_PORTS=auto, starts serialized by a lock (parallel
# tests), and the shared-instance guard (MAILENV_SHARED).
#
# Environment (all optional):
#   MAILENV_DIR        state directory (default /tmp/mailenv-$UID). Keep it short:
#                      unix socket paths must stay < 108 bytes.
#   MAILENV_SMTP       postfix | aiosmtpd | auto (default: postfix if root and installed)
#   MAILENV_USERS      "address:password" file (default: users.txt beside this script)
#   MAILENV_CATCHALL   mailbox that receives mail for foreign domains (default catchall@example.test)
#   MAILENV_WILDCARD_DOMAIN / MAILENV_WILDCARD_PASSWORD  every address in this domain exists,
#                      all with this password (default any.example.test / test-pw): one
#                      fresh mailbox per test, no cleanup needed
#   MAILENV_IMAP_PORT MAILENV_IMAPS_PORT MAILENV_SMTP_PORT MAILENV_SUBMISSION_PORT
#                      (defaults 31143 31993 31025 31587)
#   MAILENV_PORTS=auto pick four free ports (20000-30999) instead; they are written to
#                      $MAILENV_DIR/env (for private instances started by tests)
#   MAILENV_OAUTH2_URL at start: also accept XOAUTH2 and OAUTHBEARER (IMAP, and submission through
#                      Dovecot SASL), each access token checked at this introspection URL
#                      (RFC 7662 style: a form POST of token=..., answered {"active": true,
#                      "username": "user@domain"}); MAILENV_OAUTH2_MODE = post (default) | get | auth
#                      | local, as Dovecot's introspection_mode
#   MAILENV_SHARED=1   at start: mark the instance as shared by a whole test run; every
#                      command that stops or empties it (stop, restart, reset, stop-imap,
#                      stop-smtp, start-imap, start-smtp) then refuses unless MAILENV_SHARED=1
#                      is set again, so a test that forgot its own MAILENV_DIR cannot take
#                      down the servers every other test is using. scripts/test sets it
#                      for its own start/stop only; it is never exported to tests.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${MAILENV_DIR:-/tmp/mailenv-$(id -u)}
IMAP_PORT=${MAILENV_IMAP_PORT:-31143}
IMAPS_PORT=${MAILENV_IMAPS_PORT:-31993}
SMTP_PORT=${MAILENV_SMTP_PORT:-31025}
SUBMISSION_PORT=${MAILENV_SUBMISSION_PORT:-31587}
USERS_SRC=${MAILENV_USERS:-$HERE/users.txt}
CATCHALL=${MAILENV_CATCHALL:-catchall@example.test}
WILDCARD_DOMAIN=${MAILENV_WILDCARD_DOMAIN:-any.example.test}
WILDCARD_PASSWORD=${MAILENV_WILDCARD_PASSWORD:-test-pw}
SMTP_IMPL=${MAILENV_SMTP:-auto}
PORTS_MODE=${MAILENV_PORTS:-}
SHARED=${MAILENV_SHARED:-0}
LOCK_FILE=${MAILENV_LOCK:-/tmp/mailenv-start-$(id -u).lock}   # one start at a time per user
# Debian's python3 has python3-aiosmtpd; a pyenv/venv python3 on PATH may not.
PY=${MAILENV_PYTHON:-/usr/bin/python3}
ORIG_PATH=$PATH                       # restored for "run -- CMD"
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH  # dovecot, postfix, doveadm live in /usr/sbin

log() { printf 'mailenv: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# fail: like die, but first stop whatever this start already launched
fail() { log "ERROR: $*"; cmd_stop >/dev/null 2>&1 || true; exit 1; }
now_ms() { date +%s%3N; }

# wait_greeting PORT PREFIX TIMEOUT_S [PID]: wait until a TCP server on 127.0.0.1:PORT
# sends a greeting line starting with PREFIX (bash /dev/tcp, no extra tools);
# give up early if PID (the server we just launched) has died.
wait_greeting() {
  local port=$1 prefix=$2 deadline=$(( $(now_ms) + ${3:-10} * 1000 )) pid=${4:-} line
  while (( $(now_ms) < deadline )); do
    [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null && return 1
    # (the group keeps "2>/dev/null" from sticking to the whole script)
    if { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
      line=""
      IFS= read -r -t 2 line <&3 || true
      exec 3<&- 3>&-
      [[ $line == "$prefix"* ]] && return 0
    fi
    sleep 0.02
  done
  return 1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# state of a process from /proc (R, S, Z, ...); empty if gone. No procps needed.
pstate() { sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$1/stat" 2>/dev/null || true; }

# alive PID WORD: PID runs (not a zombie) and its command line contains WORD
# (guards against a stale pid file whose PID was reused).
alive() {
  local pid=${1:-} st
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  st=$(pstate "$pid")
  [[ -n $st && $st != Z ]] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"
}

# wait_pid_gone PID TIMEOUT_S (a zombie, exited but not yet reaped, counts as gone)
wait_pid_gone() {
  local pid=$1 deadline=$(( $(now_ms) + ${2:-10} * 1000 )) st
  while :; do
    st=$(pstate "$pid")
    [[ -z $st || $st == Z ]] && return 0
    (( $(now_ms) < deadline )) || return 1
    sleep 0.02
  done
}

render() { # render TEMPLATE OUT  (replaces @@KEY@@ with $KEY of the vars below)
  sed -e "s#@@DIR@@#$DIR#g" \
      -e "s#@@INSTANCE@@#$(id -u)#g" \
      -e "s#@@INTERNAL_USER@@#$INTERNAL_USER#g" \
      -e "s#@@INTERNAL_GROUP@@#$INTERNAL_GROUP#g" \
      -e "s#@@LOGIN_USER@@#$LOGIN_USER#g" \
      -e "s#@@MAIL_UID@@#$MAIL_UID#g" \
      -e "s#@@MAIL_GID@@#$MAIL_GID#g" \
      -e "s#@@IMAP_PORT@@#$IMAP_PORT#g" \
      -e "s#@@IMAPS_PORT@@#$IMAPS_PORT#g" \
      -e "s#@@SMTP_PORT@@#$SMTP_PORT#g" \
      -e "s#@@SUBMISSION_PORT@@#$SUBMISSION_PORT#g" \
      -e "s#@@DOMAINS@@#$DOMAINS#g" \
      -e "s#@@CATCHALL@@#$CATCHALL#g" \
      -e "s#@@WILDCARD_DOMAIN@@#$WILDCARD_DOMAIN#g" \
      -e "s#@@WILDCARD_PASSWORD@@#$WILDCARD_PASSWORD#g" \
      "$1" > "$2"
}

dovecot_pid() { cat "$DIR/run/dovecot/master.pid" 2>/dev/null || true; }
postfix_pid() { tr -d " " 2>/dev/null < "$DIR/postfix/queue/pid/master.pid" || true; }
smtpd_pid()   { cat "$DIR/run/smtpd.pid" 2>/dev/null || true; }

make_tls() { # a tiny CA + a leaf cert for localhost/127.0.0.1 (rustls rejects a CA cert used as leaf)
  local t=$DIR/tls
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "/CN=mailenv test CA" -keyout "$t/ca.key" -out "$t/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=localhost" -keyout "$t/key.pem" -out "$t/server.csr" 2>/dev/null
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,DNS:mail.example.test,IP:127.0.0.1" > "$t/ext.cnf"
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial \
    -days 30 -extfile "$t/ext.cnf" -out "$t/leaf.pem" 2>/dev/null
  cat "$t/leaf.pem" "$t/ca.pem" > "$t/cert.pem"   # full chain
  chmod 600 "$t/key.pem" "$t/ca.key"
}

# launch_dovecot: start Dovecot on the rendered config in $DIR (also after stop-imap)
# (9>&-: the daemons must not inherit the start lock, see cmd_start)
launch_dovecot() {
  dovecot -c "$DIR/etc/dovecot.conf" </dev/null >>"$DIR/log/dovecot-stderr.log" 2>&1 9>&- \
    || { tail -20 "$DIR/log/dovecot-stderr.log" "$DIR/log/dovecot.log" >&2 || true; return 1; }
  wait_greeting "$IMAP_PORT" "* OK" 10 || { tail -20 "$DIR/log/dovecot.log" >&2; return 1; }
  local _; for _ in $(seq 250); do [[ -S $DIR/run/dovecot/lmtp && -S $DIR/run/dovecot/auth-client ]] && break; sleep 0.02; done
}

# launch_smtp: start Postfix (rendered config) or the aiosmtpd front end (also after stop-smtp)
launch_smtp() {
  local spid=""
  if [[ $SMTP_IMPL == postfix ]]; then
    postfix -c "$DIR/etc/postfix" start </dev/null >>"$DIR/log/postfix-start.log" 2>&1 9>&- \
      || { tail -20 "$DIR/log/postfix.log" "$DIR/log/postfix-start.log" >&2 || true; return 1; }
  else
    # setsid: own session, like the daemonized Dovecot/Postfix (no SIGINT/SIGHUP from our tty)
    setsid "$PY" "$HERE/smtpd_lmtp.py" --dir "$DIR" --smtp-port "$SMTP_PORT" --submission-port "$SUBMISSION_PORT" \
      --domains "$(cat "$DIR/domains")" --catchall "$CATCHALL" --wildcard-domain "$WILDCARD_DOMAIN" </dev/null >>"$DIR/log/smtpd.log" 2>&1 9>&- &
    spid=$!
  fi
  if ! { wait_greeting "$SMTP_PORT" "220" 15 "$spid" && wait_greeting "$SUBMISSION_PORT" "220" 5 "$spid"; }; then
    tail -20 "$DIR"/log/postfix*.log "$DIR"/log/smtpd.log >&2 2>/dev/null || true
    return 1
  fi
}

# write_oauth2: with MAILENV_OAUTH2_URL, the extra Dovecot config for XOAUTH2/OAUTHBEARER (included by
# dovecot.conf.in when present): an oauth2 passdb, first, for those two mechanisms only; no auth cache, so a
# revoked token fails at once.
write_oauth2() {
  local url=${MAILENV_OAUTH2_URL:-} mode=${MAILENV_OAUTH2_MODE:-post}
  [[ -n $url ]] || return 0
  [[ $mode =~ ^(post|get|auth|local)$ ]] || fail "MAILENV_OAUTH2_MODE: post, get, auth or local"
  printf '%s\n' "auth_mechanisms = plain login xoauth2 oauthbearer" "passdb {" "  driver = oauth2" \
    "  mechanisms = xoauth2 oauthbearer" "  args = $DIR/etc/dovecot-oauth2.conf.ext" "}" > "$DIR/etc/oauth2.conf"
  printf '%s\n' "introspection_mode = $mode" "introspection_url = $url" "force_introspection = yes" \
    "username_attribute = username" "active_attribute = active" "active_value = true" "timeout_msecs = 5000" \
    > "$DIR/etc/dovecot-oauth2.conf.ext"
  chmod 644 "$DIR/etc/oauth2.conf" "$DIR/etc/dovecot-oauth2.conf.ext"
}

# pick_ports: choose a block of four free loopback ports below the ephemeral range
# (called under the start lock, so two parallel starts never pick the same block)
pick_ports() {
  local base p ok
  for _ in $(seq 200); do
    base=$(( 20000 + (RANDOM % 2750) * 4 ))    # 20000..30996, clear of the defaults 31xxx
    ok=1
    for p in "$base" $((base + 1)) $((base + 2)) $((base + 3)); do port_free "$p" || { ok=0; break; }; done
    if (( ok )); then
      IMAP_PORT=$base IMAPS_PORT=$((base + 1)) SMTP_PORT=$((base + 2)) SUBMISSION_PORT=$((base + 3))
      return 0
    fi
  done
  return 1
}

# guard: commands that stop or empty a shared instance need MAILENV_SHARED=1
guard_shared() {
  if [[ -e $DIR/.shared && $SHARED != 1 ]]; then
    die "$DIR is the shared instance of a test run; refusing '$1'. An outage test must start its own instance: MAILENV_DIR=<own dir> MAILENV_PORTS=auto $0 start"
  fi
}

# start under a machine-wide lock: the port check and the binds happen while no other
# mailenv start runs (tests start private instances in parallel). The daemons are
# launched with 9>&- so they never hold the lock.
cmd_start() {
  exec 9>>"$LOCK_FILE"
  flock -w 60 9 || die "timed out waiting for $LOCK_FILE (another mailenv start hangs?)"
  local rc=0
  start_locked || rc=$?
  exec 9>&-
  return $rc
}

start_locked() {
  if [[ $PORTS_MODE == auto ]]; then
    pick_ports || die "no block of four free ports found in 20000-30999"
  elif [[ -n $PORTS_MODE ]]; then
    die "MAILENV_PORTS: only 'auto' is supported"
  fi
  if alive "$(dovecot_pid)" dovecot || alive "$(postfix_pid)" master || alive "$(smtpd_pid)" smtpd_lmtp; then
    die "already running in $DIR (run: $0 stop)"
  fi
  local p; for p in "$IMAP_PORT" "$IMAPS_PORT" "$SMTP_PORT" "$SUBMISSION_PORT"; do
    port_free "$p" || die "port 127.0.0.1:$p is already in use"
  done
  (( ${#DIR} <= 60 )) || die "MAILENV_DIR too long (${#DIR} > 60): unix socket paths would not fit"
  command -v dovecot >/dev/null || die "dovecot not installed (apt-get install dovecot-imapd dovecot-lmtpd)"
  [[ -r $USERS_SRC ]] || die "users file $USERS_SRC not readable"

  if [[ $SMTP_IMPL == auto ]]; then
    if [[ $(id -u) == 0 ]] && command -v postfix >/dev/null; then SMTP_IMPL=postfix; else SMTP_IMPL=aiosmtpd; fi
  fi
  [[ $SMTP_IMPL == postfix && $(id -u) != 0 ]] && die "Postfix needs root (postfix/master refuse to run otherwise); use MAILENV_SMTP=aiosmtpd"

  [[ $WILDCARD_PASSWORD =~ ^[A-Za-z0-9._-]+$ ]] || die "MAILENV_WILDCARD_PASSWORD: use only [A-Za-z0-9._-]"
  if [[ -d $DIR && ! -e $DIR/.mailenv && -n $(ls -A "$DIR") ]]; then
    die "$DIR exists, is not empty and was not made by mailenv.sh; refusing to wipe it"
  fi

  local t0; t0=$(now_ms)
  rm -rf "$DIR"
  mkdir -p "$DIR"/{etc/postfix,run,log,tls,mail}
  touch "$DIR/.mailenv"
  if [[ $SHARED == 1 ]]; then touch "$DIR/.shared"; fi
  chmod 755 "$DIR"   # root mode: the mail user (uid 8) and postfix must traverse it

  if [[ $(id -u) == 0 ]]; then
    INTERNAL_USER=dovecot INTERNAL_GROUP=dovecot LOGIN_USER=dovenull
    MAIL_UID=${MAILENV_MAIL_USER:-mail} MAIL_GID=${MAILENV_MAIL_GROUP:-mail}
    chown "$MAIL_UID:$MAIL_GID" "$DIR/mail"
  else
    INTERNAL_USER=$(id -un) INTERNAL_GROUP=$(id -gn) LOGIN_USER=$(id -un)
    MAIL_UID=$(id -un) MAIL_GID=$(id -gn)
  fi

  # users: "address:password" lines; blank lines and # comments ignored
  grep -vE '^[[:space:]]*(#|$)' "$USERS_SRC" | tr -d '\r' > "$DIR/etc/users.txt"
  awk -F: 'NF != 2 || $1 !~ /^[^@ ]+@[^@ ]+$/ || $2 == "" { exit 1 }' "$DIR/etc/users.txt" \
    || die "$USERS_SRC: every line must be address:password (no further ':' in the password)"
  grep -q "^${CATCHALL}:" "$DIR/etc/users.txt" || die "catch-all mailbox $CATCHALL missing from $USERS_SRC"
  awk -F: '{ printf "%s:{PLAIN}%s\n", tolower($1), substr($0, index($0, ":") + 1) }' "$DIR/etc/users.txt" > "$DIR/etc/users"
  chmod 640 "$DIR/etc/users" "$DIR/etc/users.txt"
  [[ $(id -u) == 0 ]] && chgrp "$INTERNAL_GROUP" "$DIR/etc/users"   # read by the auth process (user dovecot)
  DOMAINS=$( { awk -F: '{ split(tolower($1), a, "@"); print a[2] }' "$DIR/etc/users.txt"; echo "$WILDCARD_DOMAIN"; } | sort -u | paste -sd' ')
  local domre; domre=$(tr ' ' '\n' <<<"$DOMAINS" | sed 's/\./\\./g' | paste -sd'|')

  make_tls
  local t_tls; t_tls=$(now_ms)

  # ---- Dovecot ----
  render "$HERE/templates/dovecot.conf.in" "$DIR/etc/dovecot.conf"
  write_oauth2
  # Daemons must not inherit our stdout/stderr: Dovecot keeps fd 2 open for good, and
  # "mailenv.sh start | tee" (or a CI log pipe) would then never see EOF.
  launch_dovecot || fail "dovecot failed to start"
  local t_dovecot; t_dovecot=$(now_ms)

  # ---- SMTP ----
  if [[ $SMTP_IMPL == postfix ]]; then
    local pdir=$DIR/etc/postfix
    render "$HERE/templates/postfix-main.cf.in" "$pdir/main.cf"
    render "$HERE/templates/postfix-master.cf.in" "$pdir/master.cf"
    { awk -F: '{ printf "%s OK\n", tolower($1) }' "$DIR/etc/users.txt"; echo "@$WILDCARD_DOMAIN OK"; } > "$pdir/vmailbox"
    printf '!/@(%s)$/ %s\n' "$domre" "$CATCHALL" > "$pdir/catchall.regexp"
    # Postfix re-reads a config/table file every 300 ms until its mtime is >1 s in
    # the past ("let it cool down"): a freshly written main.cf costs ~2 s. Backdate.
    touch -d "@$(( $(date +%s) - 60 ))" "$pdir"/*
    # queue_directory must exist (root-owned) before "postfix start"; post-install
    # then creates its subdirectories and data_directory with the right owners.
    mkdir -p "$DIR/postfix/queue"
  fi
  echo "$DOMAINS" > "$DIR/domains"
  launch_smtp || fail "SMTP failed to start"
  local t_end; t_end=$(now_ms)

  cat > "$DIR/env" <<EOF
# source this file: connection settings of the test mail system
export MAILENV_DIR=$DIR
export MAILENV_SMTP_IMPL=$SMTP_IMPL
export MAILENV_HOST=127.0.0.1
export MAILENV_IMAP_PORT=$IMAP_PORT
export MAILENV_IMAPS_PORT=$IMAPS_PORT
export MAILENV_SMTP_PORT=$SMTP_PORT
export MAILENV_SUBMISSION_PORT=$SUBMISSION_PORT
export MAILENV_CA_CERT=$DIR/tls/ca.pem
export MAILENV_TLS_NAME=localhost
export MAILENV_USERS_FILE=$DIR/etc/users.txt
export MAILENV_CATCHALL=$CATCHALL
export MAILENV_WILDCARD_DOMAIN=$WILDCARD_DOMAIN
export MAILENV_WILDCARD_PASSWORD=$WILDCARD_PASSWORD
export MAILENV_OAUTH2_URL=${MAILENV_OAUTH2_URL:-}
EOF
  echo "$SMTP_IMPL" > "$DIR/smtp_impl"
  log "up in $((t_end - t0)) ms (tls $((t_tls - t0)), dovecot $((t_dovecot - t_tls)), $SMTP_IMPL $((t_end - t_dovecot))) dir=$DIR"
  echo "$DIR/env"
}

stop_smtp() {
  local pid rc=0
  pid=$(postfix_pid)
  if alive "$pid" master; then
    # "postfix stop" = SIGTERM to master + polls in 1 s steps; "abort" is the same
    # signal without the wait, so poll ourselves in 20 ms steps.
    postfix -c "$DIR/etc/postfix" abort 2>>"$DIR/log/postfix-start.log" || kill -TERM "$pid" 2>/dev/null || true
    wait_pid_gone "$pid" 10 || { log "postfix master $pid still up, killing"; kill -KILL "$pid" 2>/dev/null || true; rc=1; }
  fi
  pid=$(smtpd_pid)
  if alive "$pid" smtpd_lmtp; then
    kill -TERM "$pid" 2>/dev/null || true
    wait_pid_gone "$pid" 10 || { log "smtpd $pid still up, killing"; kill -KILL "$pid" 2>/dev/null || true; rc=1; }
  fi
  return $rc
}

stop_dovecot() {
  local pid rc=0
  pid=$(dovecot_pid)
  if alive "$pid" dovecot; then
    kill -TERM "$pid" 2>/dev/null || true
    wait_pid_gone "$pid" 10 || { log "dovecot master $pid still up, killing"; kill -KILL "$pid" 2>/dev/null || true; rc=1; }
  fi
  return $rc
}

cmd_stop() {
  local purge=${1:-} t0 rc=0; t0=$(now_ms)
  [[ -d $DIR ]] || { log "nothing at $DIR"; return 0; }
  # SMTP first, so nothing is mid-delivery into Dovecot.
  stop_smtp || rc=1
  stop_dovecot || rc=1
  log "stopped in $(( $(now_ms) - t0 )) ms"
  if [[ $purge == --purge && -e $DIR/.mailenv ]]; then rm -rf "$DIR"; fi
  return $rc
}

cmd_status() {
  local pid
  pid=$(dovecot_pid); alive "$pid" dovecot    && echo "dovecot: running (pid $pid)"  || echo "dovecot: stopped"
  pid=$(postfix_pid); alive "$pid" master     && echo "postfix: running (pid $pid)"  || echo "postfix: stopped"
  pid=$(smtpd_pid);   alive "$pid" smtpd_lmtp && echo "aiosmtpd: running (pid $pid)" || echo "aiosmtpd: stopped"
  [[ -f $DIR/env ]] && cat "$DIR/env"
  return 0
}

cmd_reset() { # delete every message of every test user (folders stay)
  alive "$(dovecot_pid)" dovecot || die "not running"
  local u
  while IFS=: read -r u _; do
    doveadm -c "$DIR/etc/dovecot.conf" expunge -u "$u" mailbox '*' all
  done < "$DIR/etc/users.txt"
}

cmd_run() {
  [[ ${1:-} == -- ]] && shift
  (( $# )) || die "usage: $0 run -- CMD [ARGS...]"
  local envfile rc=0
  envfile=$(cmd_start) || { cmd_stop >/dev/null 2>&1 || true; die "start failed"; }
  trap 'cmd_stop || true' EXIT INT TERM
  # shellcheck disable=SC1090
  ( set -a; . "$envfile"; PATH=$ORIG_PATH; "$@" ) || rc=$?
  return $rc
}

case ${1:-} in
  start)  cmd_start ;;
  stop)   guard_shared stop; shift; cmd_stop "${1:-}" ;;
  status) cmd_status ;;
  restart) guard_shared restart; cmd_stop; cmd_start ;;
  reset)  guard_shared reset; cmd_reset ;;
  stop-imap)  guard_shared stop-imap; stop_dovecot ;;
  start-imap) guard_shared start-imap; [[ -e $DIR/.mailenv ]] || die "nothing at $DIR"; alive "$(dovecot_pid)" dovecot && die "dovecot already running"; launch_dovecot || die "dovecot failed to start" ;;
  stop-smtp)  guard_shared stop-smtp; stop_smtp ;;
  start-smtp) guard_shared start-smtp; [[ -e $DIR/.mailenv ]] || die "nothing at $DIR"; SMTP_IMPL=$(cat "$DIR/smtp_impl"); launch_smtp || die "SMTP failed to start" ;;
  kick)   shift; [[ -n ${1:-} ]] || die "usage: $0 kick USER"; alive "$(dovecot_pid)" dovecot || die "not running"
          doveadm -c "$DIR/etc/dovecot.conf" kick "$1" >/dev/null ;;
  run)    shift; cmd_run "$@" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2 ;;
esac
