"""benchlib.py - shared pieces of the server benchmarks (`scripts/bench imap`, `scripts/bench smtp`, ...).

Imported by the benchmarks' Python drivers (same folder): the machine label, a small JSON API client, starting
and stopping `deskmail serve`, the CLI calls for a user and an API token, the per-run TOML config, a seeded
SQLite database (seed_web.py) for the web benchmarks, CPU counters from /proc, the kit's TLS context.
Standard library only.
"""

import http.client
import json
import math
import os
import platform
import re
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse


def p(s=""):
    print(s, flush=True)


def machine():
    cores = os.cpu_count() or 0
    try:
        cores = int(subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip())
    except (OSError, ValueError, subprocess.CalledProcessError):
        pass
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = re.sub(r"\s+", " ", line.split(":", 1)[1]).strip()
                    break
    except OSError:
        pass
    return {"cores": cores, "cpu": model, "kernel": platform.release()}


def machine_label():
    m = machine()
    return "%d cores, %s" % (m["cores"], m["cpu"])


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def proc_stat():
    """(busy, iowait, total) jiffies of all CPUs."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait = v[:5]
    busy = user + nice + system + sum(v[5:8])
    return busy, iowait, busy + idle + iowait


class MachineCpu:
    """Machine-wide CPU use between start() and stop(), in % of all cores."""

    def __init__(self):
        self.a = proc_stat()

    def busy_pct(self):
        b = proc_stat()
        dt = max(1, b[2] - self.a[2])
        return 100.0 * (b[0] - self.a[0]) / dt, 100.0 * (b[1] - self.a[1]) / dt


CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def proc_cpu(pid):
    """User + system CPU seconds of one live process (0.0 when it is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def proc_rss_mb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except (OSError, ValueError):
        pass
    return 0.0


def cpu_by_comm(names):
    """Summed CPU seconds of live processes whose comm is in `names` (e.g. Dovecot's imap processes)."""
    total = 0.0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % d) as f:
                if f.read().strip() not in names:
                    continue
        except OSError:
            continue
        total += proc_cpu(int(d))
    return total


def pct(values, q):
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    s = sorted(values)
    k = max(1, math.ceil(q / 100.0 * len(s)))
    return s[k - 1]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tls_context(ca_file):
    ctx = ssl.create_default_context(cafile=ca_file)
    return ctx


def mailenv():
    need = ["MAILENV_HOST", "MAILENV_IMAPS_PORT", "MAILENV_SMTP_PORT", "MAILENV_SUBMISSION_PORT",
            "MAILENV_CA_CERT", "MAILENV_WILDCARD_DOMAIN", "MAILENV_WILDCARD_PASSWORD"]
    missing = [k for k in need if not os.environ.get(k)]
    if missing:
        sys.exit("the mail system's environment is missing (%s): start it with scripts/lib.sh's dm_mailenv_start"
                 % ", ".join(missing))
    e = {k: os.environ[k] for k in need}
    e["MAILENV_DIR"] = os.environ.get("MAILENV_DIR", "")
    e["MAILENV_SMTP_IMPL"] = os.environ.get("MAILENV_SMTP_IMPL", "")
    return e


def clean_env():
    """The environment without DESKMAIL_SECTION__KEY overrides (the config file must be what runs)."""
    return {k: v for k, v in os.environ.items()
            if not (k.startswith("DESKMAIL_") and "__" in k) and k != "DESKMAIL_CONFIG"}


# --- config -----------------------------------------------------------------------------------------

def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, dict):
        return "{ " + ", ".join("%s = %s" % (k, toml_value(x)) for k, x in v.items()) + " }"
    return json.dumps(str(v), ensure_ascii=False)  # a TOML basic string


def write_config(path, sections, mailboxes):
    """sections: {"server": {...}, ...}; mailboxes: [{...}] as [[mailbox]] tables."""
    lines = ["# written by scripts/bench for one run"]
    for name, keys in sections.items():
        lines.append("")
        lines.append("[%s]" % name)
        lines += ["%s = %s" % (k, toml_value(v)) for k, v in keys.items()]
    for mb in mailboxes:
        lines.append("")
        lines.append("[[mailbox]]")
        lines += ["%s = %s" % (k, toml_value(v)) for k, v in mb.items()]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


# --- the CLI and the server ---------------------------------------------------------------------------

def cli(bin_, config, *args, stdin=None, check=True):
    cmd = [bin_, "--config", config] + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, env=clean_env(), stdin=subprocess.DEVNULL)
    if check and r.returncode != 0:
        raise RuntimeError("%s exited with %d:\n%s%s" % (" ".join(cmd[3:]), r.returncode, r.stdout, r.stderr))
    return r


def user_with_token(bin_, config, email, name, role):
    """`deskmail user add --password-stdin` (a random password) and `deskmail token create`; returns
    (password, token)."""
    password = secrets.token_urlsafe(18)
    cmd = [bin_, "--config", config, "user", "add", "--email", email, "--name", name, "--role", role,
           "--password-stdin"]
    r = subprocess.run(cmd, input=password + "\n", capture_output=True, text=True, env=clean_env())
    if r.returncode != 0:
        raise RuntimeError("user add failed: %s%s" % (r.stdout, r.stderr))
    out = cli(bin_, config, "token", "create", "--user", email, "--name", "bench").stdout.strip().splitlines()
    if not out:
        raise RuntimeError("token create printed nothing")
    return password, out[-1].strip()


def api_token(bin_, config, email="bench@example.test"):
    """Creates an admin and an API token for it; returns the token."""
    cli(bin_, config, "user", "add", "--email", email, "--name", "Bench", "--role", "admin")
    out = cli(bin_, config, "token", "create", "--user", email, "--name", "bench").stdout.strip().splitlines()
    if not out:
        raise RuntimeError("token create printed nothing")
    return out[-1].strip()


class Server:
    """`deskmail --config CONFIG serve`, its output in LOG."""

    def __init__(self, bin_, config, log_path):
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.t_spawn = time.monotonic()
        # DM_BENCH_WRAP: a command prefix for profiling, e.g. "perf record -g -o F --" (perf ends its child on SIGTERM).
        wrap = os.environ.get("DM_BENCH_WRAP", "").split()
        self.proc = subprocess.Popen(wrap + [bin_, "--config", config, "serve"], stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=clean_env())
        self.pid = self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def cpu(self):
        return proc_cpu(self.pid)

    def stop(self, timeout=20):
        """SIGTERM; returns (exit code, seconds to stop); SIGKILL after `timeout`."""
        if self.proc.poll() is not None:
            self.log.close()
            return self.proc.returncode, 0.0
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = "killed after %d s" % timeout
            self.proc.wait()
        self.log.close()
        return code, time.monotonic() - t0

    def tail(self, n=3000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""


class Api:
    """A keep-alive JSON client for deskmail's /api/v1 (one per thread)."""

    def __init__(self, port, token=None, timeout=30):
        self.port, self.token, self.timeout = port, token, timeout
        self.conn = None

    def _conn(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        return self.conn

    def request(self, method, path, body=None, headers=None):
        """Returns (status, parsed JSON or text). Reconnects once on a dropped keep-alive connection."""
        h = {"Accept": "application/json"}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        for attempt in (1, 2):
            try:
                c = self._conn()
                c.request(method, path, body=data, headers=h)
                r = c.getresponse()
                raw = r.read()
                break
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise
        text = raw.decode("utf-8", "replace")
        try:
            return r.status, json.loads(text)
        except ValueError:
            return r.status, text

    def get(self, path, **query):
        if query:
            path += "?" + urllib.parse.urlencode(query)
        return self.request("GET", path)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def wait_http(api, server, timeout=60):
    """Waits until /healthz answers; returns the seconds since spawn."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError("deskmail serve exited with %s during start-up:\n%s" % (server.proc.returncode, server.tail()))
        try:
            status, _ = api.get("/healthz")
            if status in (200, 503):
                return time.monotonic() - server.t_spawn
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError("deskmail serve did not answer /healthz within %d s:\n%s" % (timeout, server.tail()))


def metrics(api):
    """deskmail's /metrics as {(name, labels-string): value}."""
    try:
        status, text = api.get("/metrics")
    except OSError:
        return {}
    out = {}
    if status != 200 or not isinstance(text, str):
        return out
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
        if m:
            try:
                out[(m.group(1), m.group(2) or "")] = float(m.group(3))
            except ValueError:
                pass
    return out


def metric_sum(ms, name, label_filter=""):
    return sum(v for (n, labels), v in ms.items() if n == name and label_filter in labels)


# --- seeded databases (scripts/bench web, portal, scale) ----------------------------------------------------

def sqlite_mb(dbfile):
    """The SQLite database's size on disk in MB: the file, its WAL and shared memory."""
    d, base = os.path.split(dbfile)
    return sum(os.path.getsize(os.path.join(d, x)) for x in os.listdir(d) if x.startswith(base)) / 1e6


def seed_sqlite(bin_, config, dbfile, tickets, messages, seed, mailboxes, sla_share=0.0, reindex=True):
    """`deskmail migrate`, then seed_web.py writes the tickets and messages into DBFILE, then (with reindex)
    `deskmail reindex` fills the search index; prints seed_web's line. Returns seed_web's JSON (see there) with
    the seconds of each step ("t_migrate", "t_seed", "t_reindex") and "db_mb" added. mailboxes: [(name, address)]."""
    t0 = time.monotonic()
    cli(bin_, config, "migrate")
    t_migrate = time.monotonic() - t0
    seed_json = dbfile + ".seed.json"
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "seed_web.py"),
                        "--db", dbfile, "--tickets", str(tickets), "--messages", str(messages),
                        "--seed", str(seed), "--json", seed_json, "--sla-share", str(sla_share),
                        "--mailboxes", ",".join("%s=%s" % m for m in mailboxes)], capture_output=True, text=True)
    t_seed = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit("seed_web.py failed:\n%s%s" % (r.stdout, r.stderr))
    p(r.stdout.strip())
    with open(seed_json) as f:
        out = json.load(f)
    os.remove(seed_json)
    out.update(t_migrate=t_migrate, t_seed=t_seed, t_reindex=0.0)
    if reindex:
        out["t_reindex"] = reindex_search(bin_, config)
    out["db_mb"] = sqlite_mb(dbfile)
    return out


def reindex_search(bin_, config):
    """`deskmail reindex` (fills SQLite's search index after a bulk load); returns the seconds it took."""
    t0 = time.monotonic()
    cli(bin_, config, "reindex")
    secs = time.monotonic() - t0
    p("search index built by `deskmail reindex` in %.1f s" % secs)
    return secs


# --- CPU by process group --------------------------------------------------------------------------------

def _procs():
    """{pid: (ppid, comm, own CPU s, reaped children's CPU s)} of every process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                raw = f.read()
        except OSError:
            continue
        comm = raw[raw.find("(") + 1:raw.rfind(")")]
        fields = raw.rsplit(")", 1)[1].split()
        try:
            out[int(d)] = (int(fields[1]), comm, (int(fields[11]) + int(fields[12])) / CLK_TCK,
                           (int(fields[13]) + int(fields[14])) / CLK_TCK)
        except (IndexError, ValueError):
            continue
    return out


def mail_roots(mailenv_dir):
    """The mail system's top processes: the Dovecot master, the Postfix master (cwd in the kit's dir) or
    the aiosmtpd front end; {pid: name}."""
    roots = {}
    if not mailenv_dir:
        return roots
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
            cwd = os.readlink("/proc/%s/cwd" % pid)
        except OSError:
            continue
        if "dovecot" in cmd and mailenv_dir in cmd and " -c " in cmd:
            roots[int(pid)] = "dovecot"
        elif "postfix" in cmd and cmd.split()[0].endswith("/master") and cwd.startswith(mailenv_dir):
            roots[int(pid)] = "postfix"
        elif "smtpd_lmtp.py" in cmd and mailenv_dir in cmd:
            roots[int(pid)] = "aiosmtpd"
    return roots


class CpuGroups:
    """CPU seconds spent between two snapshots by deskmail, the mail system's process trees (Dovecot,
    Postfix), this driver and everything else on the machine. A process tree counts its live members
    and what its members reaped, so short-lived children (smtpd, lmtp, cleanup ...) are included."""

    def __init__(self, deskmail_pid, mailenv_dir):
        self.deskmail_pid = deskmail_pid
        self.roots = mail_roots(mailenv_dir)
        self.a = self._snap()

    def _snap(self):
        procs = _procs()
        kids = {}
        for pid, (ppid, *_rest) in procs.items():
            kids.setdefault(ppid, []).append(pid)
        groups = {}
        for root, name in self.roots.items():
            stack, total = [root], 0.0
            while stack:
                pid = stack.pop()
                if pid in procs:
                    total += procs[pid][2] + procs[pid][3]
                    stack += kids.get(pid, [])
            groups[name] = groups.get(name, 0.0) + total
        d = procs.get(self.deskmail_pid)
        groups["deskmail"] = (d[2] + d[3]) if d else 0.0
        t = os.times()
        groups["driver"] = t.user + t.system
        return groups, proc_stat()

    def report(self):
        """'deskmail 3.1 s, postfix 5.2 s, dovecot 1.0 s, driver 0.4 s, other 0.9 s of 11.0 s busy'"""
        b = self._snap()
        ga, sa = self.a
        gb, sb = b
        busy = (sb[0] - sa[0]) / CLK_TCK
        parts, known = [], 0.0
        for name in ["deskmail", "postfix", "aiosmtpd", "dovecot", "driver"]:
            if name in gb:
                v = max(0.0, gb[name] - ga.get(name, 0.0))
                known += v
                parts.append("%s %.2f s" % (name, v))
        parts.append("other %.2f s" % max(0.0, busy - known))
        return "%s of %.2f s machine CPU busy" % (", ".join(parts), busy)
