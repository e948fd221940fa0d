"""Shared helpers for the real-server tests: a sandbox, the shipped configs, the servers.

Output is TAP (tests/taplib.py, read by automake's tap-driver): one "ok" line per
step that passed; the first failure is a "not ok" line with the servers' logs as
diagnostics, and ends the test, since the server's state is unknown after it.  A test
whose server is not installed is skipped whole ("1..0 # SKIP why").

Each test makes a Sandbox: a fresh temp folder laid out like an installed system
(sbin/, etc/, var/, run/) with a copy of the binary in sbin/.  The shipped .in
templates are rendered from $TOP_SRCDIR with the configure placeholders pointing into
it, exactly as contrib/deploy.am renders them for installation, so the configs under
test are the ones users copy.  Servers listen on 127.0.0.1 on a free port or on unix
sockets in the sandbox, and every process a test starts is stopped when it ends.
"""
import base64
import concurrent.futures
import grp
import http.client
import json
import os
import pwd
import random
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True

WEB_USER = "www-data"
LOG_KEYS = ("time", "id", "status", "outcome", "http", "images_stored", "images_rejected",
            "bytes", "delayTime", "executionTime", "workerId", "dir", "ms", "remote", "error")
# (target MB, images): the everyday range and the large end of it (field notes §1).
STANDARD_SIZES = ((0.3, 2), (3, 3), (10, 4), (40, 8))
BIG_TIMEOUT = 120
SMALL_TIMEOUT = 30

TOP_SRCDIR = os.environ.get("TOP_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(TOP_SRCDIR, "tests"))
import callbacks  # noqa: E402  (tests/callbacks.py, found through TOP_SRCDIR)
from taplib import Tap  # noqa: E402

TAP = Tap()


class Fail(Exception):
    """A check failed; the message says what was expected and what came."""


class Skip(Exception):
    """Something the test needs is not installed."""


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def passed(msg):
    TAP.ok(True, msg)


def note(msg):
    TAP.diag(msg)


def clean_env(**extra):
    """This process's environment without IMAGEHOOK_* settings, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGEHOOK_")}
    env.update(extra)
    return env


def need_programs(*names):
    """Skip (exit 77) unless every program is installed; returns their paths."""
    paths = []
    for name in names:
        path = shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
        if path is None:
            raise Skip("%s is not installed" % name)
        paths.append(path)
    return paths


def need_files(*paths):
    for path in paths:
        if not os.path.exists(path):
            raise Skip("%s is not installed" % path)


def is_root():
    return os.geteuid() == 0


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port=None, path=None, proc=None, timeout=20, what="server"):
    """Wait until a TCP port on 127.0.0.1 or a unix socket accepts connections."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise Fail("%s exited with status %s before it listened" % (what, proc.returncode))
        try:
            if path is not None:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.settimeout(2)
                    s.connect(path)
            else:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise Fail("%s did not listen on %s within %d s" % (what, path or port, timeout))


class Sandbox:
    """A temp folder laid out like an installed system, and the processes started in it."""

    def __init__(self, name):
        self.name = name
        binary = os.environ.get("IMAGEHOOK_BIN")
        if not binary or not os.access(binary, os.X_OK):
            raise Fail("IMAGEHOOK_BIN (%r) is not an executable program" % binary)
        self.root = tempfile.mkdtemp(prefix="imagehook-%s-" % name)
        os.chmod(self.root, 0o755)
        self.procs = []
        self.logfiles = []
        self.pidfiles = []
        self.dirs = {
            "sbindir": self.path("sbin"),
            "sysconfdir": self.path("etc"),
            "localstatedir": self.path("var"),
            "runstatedir": self.path("run"),
        }
        for sub in ("sbin", "etc/imagehook", "var/lib/imagehook", "var/log/imagehook",
                    "run/imagehook", "run/lighttpd", "logs", "tmp", "htdocs", "conf"):
            os.makedirs(self.path(sub), exist_ok=True)
        self.bin = self.path("sbin", "imagehook")
        shutil.copy(binary, self.bin)
        os.chmod(self.bin, 0o755)
        self.token = secrets.token_urlsafe(18)
        with open(self.path("etc", "imagehook", "token"), "w") as f:
            f.write(self.token + "\n")
        os.chmod(self.path("etc", "imagehook", "token"), 0o600)
        self.out = self.path("var", "lib", "imagehook")
        self.logpath = self.path("var", "log", "imagehook", "imagehook.log")
        self.expected_log = []  # (id or None, http status) of every request sent
        self.seed = random.Random(name).randrange(1, 1 << 30)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    # -- configs ---------------------------------------------------------------

    def render(self, template, dest=None, replace=()):
        """Render $TOP_SRCDIR/<template> (.in) with the sandbox's paths; returns its path.

        replace: extra (old, new) text pairs, for templates written for a home folder.
        """
        with open(os.path.join(TOP_SRCDIR, template)) as f:
            text = f.read()
        for key, value in self.dirs.items():
            text = text.replace("@%s@" % key, value)
        for old, new in replace:
            text = text.replace(old, new)
        left = re.findall(r"@[a-z_]+@", text)
        check(not left, "%s: placeholders left after rendering: %s" % (template, left))
        name = os.path.basename(template)
        if name.endswith(".in"):
            name = name[:-3]
        dest = dest or self.path("conf", name)
        with open(dest, "w") as f:
            f.write(text)
        if os.access(os.path.join(TOP_SRCDIR, template), os.X_OK):
            os.chmod(dest, 0o755)
        return dest

    def write(self, rel, text, mode=0o644):
        dest = self.path(rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "w") as f:
            f.write(text)
        os.chmod(dest, mode)
        return dest

    def web_user_lines(self, fmt):
        """fmt % (user, group) when root (servers refuse to run as root), else ''."""
        return fmt % (WEB_USER, WEB_USER) if is_root() else ""

    def hand_to_web_user(self):
        """As root, give the sandbox to www-data, which the servers' workers run as."""
        if not is_root():
            return
        try:
            uid = pwd.getpwnam(WEB_USER).pw_uid
            gid = grp.getgrnam(WEB_USER).gr_gid
        except KeyError:
            raise Skip("running as root, but there is no %s user to run servers as" % WEB_USER)
        # What imagehook itself made (under the output folder, the log) stays as it
        # is: a file some step left owned by root must fail the test, as it would
        # fail the real service.
        for top, dirs, files in os.walk(self.root):
            os.lchown(top, uid, gid)
            if os.path.abspath(top) == os.path.abspath(self.out):
                dirs[:] = []
                continue
            for name in [os.path.join(top, n) for n in dirs + files]:
                if os.path.abspath(name) != os.path.abspath(self.logpath):
                    os.lchown(name, uid, gid)

    # -- processes -------------------------------------------------------------

    def start(self, argv, name, env=None, stdin=None, **popen):
        """Start a process in its own session, its output in logs/<name>.out."""
        env = clean_env() if env is None else env
        out = self.path("logs", name + ".out")
        self.logfiles.append(out)
        with open(out, "ab") as f:
            proc = subprocess.Popen(argv, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                    stdout=f, stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True, cwd=self.root, **popen)
        self.procs.append((name, proc))
        return proc

    def run(self, argv, name, env=None, timeout=60):
        """Run a command to completion; fail with its output when it fails."""
        env = clean_env() if env is None else env
        res = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=timeout, cwd=self.root)
        text = res.stdout.decode(errors="replace")
        check(res.returncode == 0, "%s failed (%d):\n%s" % (name, res.returncode, text))
        return text

    def _our_imagehooks(self):
        """Pids of processes running this sandbox's copy of the binary."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if os.readlink("/proc/%s/exe" % entry) == self.bin:
                    pids.append(int(entry))
            except OSError:
                pass
        return pids

    def stop_all(self):
        """Stop every process started here: servers, then stray imagehook children."""
        for name, proc in reversed(self.procs):
            if proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                # Still unreaped, so its process group is surely the one started here.
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        for pidfile in self.pidfiles:
            try:
                with open(pidfile) as f:
                    pids = [int(p) for p in f.read().split()]
            except (OSError, ValueError):
                continue
            for pid in pids:
                if pid in self._our_imagehooks():
                    os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while self._our_imagehooks() and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in self._our_imagehooks():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def dump_logs(self):
        extra = [self.logpath] + sorted(
            os.path.join(self.path("logs"), n) for n in os.listdir(self.path("logs")))
        for name in dict.fromkeys(self.logfiles + extra):
            if os.path.isfile(name) and os.path.getsize(name):
                with open(name, "rb") as f:
                    f.seek(max(0, os.path.getsize(name) - 3000))
                    tail = f.read().decode(errors="replace")
                note("---- %s (tail) ----\n%s" % (name, tail))

    def check_sanitizers(self):
        """No AddressSanitizer/UBSan/LeakSanitizer report in any server or program log
        (a sanitizer build's reports land there, not in the answers)."""
        markers = (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer", b"runtime error:",
                   b"==ERROR:", b"SUMMARY: UndefinedBehaviorSanitizer")
        for name in sorted(os.listdir(self.path("logs"))):
            with open(self.path("logs", name), "rb") as f:
                text = f.read()
            for m in markers:
                at = text.find(m)
                check(at < 0, "sanitizer report in logs/%s:\n%s"
                      % (name, text[max(0, at - 200):at + 2500].decode(errors="replace")))

    def close(self, keep=False):
        self.stop_all()
        if keep:
            note("kept %s" % self.root)
        else:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- requests and checks ---------------------------------------------------

    def body(self, mb, n_images, status="COMPLETED", jid=None):
        """A callback of about mb MB with n_images real PNGs; returns (id, bytes, pngs)."""
        self.seed += 1
        side = callbacks.size_for_mb(mb, n_images)
        body, pngs = callbacks.callback(
            n_images, (side, side), jid=jid, status=status, seed=self.seed,
            webhook="https://hooks.example.invalid/imagehook?token=%s" % self.token)
        if pngs:
            # As A1111 sends them by default (enable_pnginfo): each PNG already carries
            # its infotext in a "parameters" chunk, so imagehook keeps the bytes as sent.
            infotexts = json.loads(body["output"]["info"])["infotexts"]
            pngs = [p[:33] + callbacks._chunk(b"tEXt", b"parameters\0" + t.encode("latin-1"))
                    + p[33:] for p, t in zip(pngs, infotexts)]
            body["output"]["images"] = [base64.b64encode(p).decode() for p in pngs]
        return body["id"], callbacks.encode(body), pngs

    def check_stored(self, what, status, data, jid, pngs):
        """A 200 answer for jid and every image stored byte for byte."""
        check(status == 200, "%s: HTTP %s, expected 200: %r" % (what, status, data[:500]))
        try:
            answer = json.loads(data)
        except ValueError:
            raise Fail("%s: answer is not JSON: %r" % (what, data[:500]))
        check(answer.get("ok") is True, "%s: ok is not true: %r" % (what, answer))
        check(answer.get("id") == jid, "%s: id %r, expected %r" % (what, answer.get("id"), jid))
        check(answer.get("images_stored") == len(pngs),
              "%s: images_stored %r, expected %d" % (what, answer.get("images_stored"), len(pngs)))
        jobdir = os.path.join(self.out, answer.get("dir", ""))
        check(os.path.isdir(jobdir), "%s: job folder %s does not exist" % (what, jobdir))
        for i, png in enumerate(pngs):
            name = os.path.join(jobdir, "%d.png" % i)
            check(os.path.isfile(name), "%s: %s missing" % (what, name))
            with open(name, "rb") as f:
                check(f.read() == png, "%s: %s differs from the image sent" % (what, name))
        with open(os.path.join(jobdir, "job.json"), "rb") as f:
            meta = f.read()
        json.loads(meta)
        check(self.token.encode() not in meta, "%s: job.json contains the secret" % what)
        return answer

    def check_log(self, ordered=True):
        """One valid JSON line per request sent, in order when ordered, no secret."""
        with open(self.logpath, "rb") as f:
            raw = f.read()
        check(self.token.encode() not in raw, "the log contains the secret")
        check(raw.endswith(b"\n"), "the log does not end with a newline")
        lines = raw.split(b"\n")[:-1]
        check(len(lines) == len(self.expected_log),
              "%d log lines for %d requests" % (len(lines), len(self.expected_log)))
        got = []
        for n, line in enumerate(lines, 1):
            try:
                rec = json.loads(line)
            except ValueError:
                raise Fail("log line %d is not JSON: %r" % (n, line[:300]))
            check(isinstance(rec, dict), "log line %d is not an object" % n)
            missing = [k for k in LOG_KEYS if k not in rec]
            check(not missing, "log line %d lacks %s: %r" % (n, missing, line[:300]))
            got.append((rec["id"], rec["http"]))
        want = list(self.expected_log)
        if ordered:
            for (gid, ghttp), (wid, whttp) in zip(got, want):
                check(ghttp == whttp and (wid is None or gid == wid),
                      "log says %r, expected %r (all: %r)" % ((gid, ghttp), (wid, whttp), got))
        else:
            codes = sorted(h for _, h in got)
            check(codes == sorted(h for _, h in want),
                  "log statuses %r, expected %r" % (codes, sorted(h for _, h in want)))
            ids = sorted(i for i, h in got if h == 200)
            check(ids == sorted(i for i, h in want if h == 200),
                  "log ids of stored jobs differ from those sent: %r" % ids)
        passed("log: one line per request (%d), each valid JSON with every field, no secret" % len(lines))


def http_request(port, path, data=b"", method="POST", chunked=False, timeout=BIG_TIMEOUT):
    """One HTTP/1.1 request to 127.0.0.1:port; returns (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        if chunked:
            conn.putrequest(method, path)
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            step = 1 << 20
            for i in range(0, len(data), step):
                piece = data[i:i + step]
                conn.send(b"%x\r\n" % len(piece) + piece + b"\r\n")
            conn.send(b"0\r\n\r\n")
        else:
            headers = {"Content-Type": "application/json"} if method == "POST" else {}
            conn.request(method, path, body=data if method == "POST" else None, headers=headers)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def http_sender(port, prefix="/imagehook"):
    """A send(data, method, chunked, path_token, token) function for one server."""
    def send(data, method="POST", chunked=False, token=None, path_token=False, timeout=BIG_TIMEOUT):
        if path_token:
            path = "%s/%s" % (prefix, token)
        else:
            path = "%s?token=%s" % (prefix, token)
        status, _, body = http_request(port, path, data, method, chunked, timeout)
        return status, body
    return send


def deliver_standard(sb, send, chunked=False, label=""):
    """The 0.3, 3, 10 and 40 MB callbacks: 200, images byte-identical, timed."""
    for mb, n in STANDARD_SIZES:
        jid, data, pngs = sb.body(mb, n)
        t0 = time.monotonic()
        status, answer = send(data, chunked=chunked, token=sb.token)
        took = time.monotonic() - t0
        sb.expected_log.append((jid, status))
        what = "%s%.1f MB, %d images" % (label, len(data) / 1e6, n)
        sb.check_stored(what, status, answer, jid, pngs)
        passed("%s stored in %.2f s" % (what, took))


def count_files(top):
    """Files a delivery stores: everything but the gallery, which the job before may
    still be writing after its answer (handler_after_answer)."""
    n = 0
    for path, dirs, files in os.walk(top):
        if path == top and "gallery" in dirs:
            dirs.remove("gallery")
        n += len(files)
    return n


def deliver_refusals(sb, send):
    """Wrong secret -> 401 with nothing stored; GET -> 405; both logged."""
    before = count_files(sb.out)
    _, data, _ = sb.body(0.05, 1)
    status, answer = send(data, token="wrong-" + sb.token, timeout=SMALL_TIMEOUT)
    check(status == 401, "wrong token: HTTP %s, expected 401: %r" % (status, answer[:300]))
    sb.expected_log.append((None, 401))
    check(count_files(sb.out) == before, "wrong token: files were stored")
    status, answer = send(b"", method="GET", token=sb.token, timeout=SMALL_TIMEOUT)
    check(status == 405, "GET: HTTP %s, expected 405: %r" % (status, answer[:300]))
    sb.expected_log.append((None, 405))
    junk = b"<html>not json</html>"
    status, answer = send(junk, token=sb.token, timeout=SMALL_TIMEOUT)
    check(status == 400, "non-JSON body: HTTP %s, expected 400: %r" % (status, answer[:300]))
    sb.expected_log.append((None, 400))
    kept = [os.path.join(r, n) for r, _, ns in os.walk(os.path.join(sb.out, "rejected")) for n in ns]
    check(any(open(k, "rb").read() == junk for k in kept), "non-JSON body: not kept whole under rejected/")
    passed("wrong token -> 401, GET -> 405, nothing stored; non-JSON -> 400, body kept")


def deliver_oversize(sb, send):
    """A body just over IMAGEHOOK_MAX_BODY (64 MiB) but under the server's limit
    reaches imagehook, which answers 413 and logs it; nothing is stored."""
    before = count_files(sb.out)
    data = b'{"id":"too-big","status":"COMPLETED","pad":"' + b"A" * (64 << 20) + b'"}'
    status, answer = send(data, token=sb.token)
    check(status == 413, "%d bytes: HTTP %s, expected 413 from imagehook: %r"
          % (len(data), status, answer[:300]))
    check(answer.lstrip().startswith(b"{"), "413 answer is not imagehook's JSON: %r" % answer[:300])
    sb.expected_log.append((None, 413))
    check(count_files(sb.out) == before, "oversize body: files were stored")
    passed("%d bytes -> 413 from imagehook" % len(data))


def deliver_huge(sb, send, mb=100):
    """A body far over IMAGEHOOK_MAX_BODY (100 MB) still reaches imagehook where the
    server streams it (lighttpd): 413 from imagehook, a log line, nothing stored."""
    before = count_files(sb.out)
    data = b'{"id":"huge","status":"COMPLETED","pad":"' + b"A" * (mb << 20) + b'"}'
    status, answer = send(data, token=sb.token)
    check(status == 413, "%d bytes: HTTP %s, expected 413: %r" % (len(data), status, answer[:300]))
    sb.expected_log.append((None, 413))
    check(count_files(sb.out) == before, "huge body: files were stored")
    passed("%d MB body -> 413 from imagehook, logged" % mb)


def deliver_path_token(sb, send):
    """The secret as the last path segment instead of ?token=."""
    jid, data, pngs = sb.body(0.2, 2)
    status, answer = send(data, token=sb.token, path_token=True, timeout=SMALL_TIMEOUT)
    sb.expected_log.append((jid, status))
    sb.check_stored("token in the path", status, answer, jid, pngs)
    passed("token as the last path segment")


def deliver_concurrently(sb, send, count=16, mb=1.0, n_images=2):
    """count deliveries at once: every one 200 and stored."""
    bodies = [sb.body(mb, n_images) for _ in range(count)]
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(send, data, token=sb.token) for _, data, _ in bodies]
        results = [f.result() for f in futures]
    took = time.monotonic() - t0
    for (jid, data, pngs), (status, answer) in zip(bodies, results):
        sb.expected_log.append((jid, status))
        sb.check_stored("concurrent delivery %s" % jid, status, answer, jid, pngs)
    passed("%d concurrent deliveries of %.1f MB stored in %.2f s" % (count, mb, took))


# -- FastCGI client (for the socket handed over as systemd would) ----------------

FCGI_BEGIN, FCGI_END, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT, FCGI_STDERR = 1, 3, 4, 5, 6, 7


def _fcgi_record(kind, content, req_id=1):
    out = b""
    for i in range(0, max(len(content), 1), 65535):
        piece = content[i:i + 65535]
        pad = (8 - len(piece) % 8) % 8
        out += struct.pack(">BBHHBx", 1, kind, req_id, len(piece), pad) + piece + b"\0" * pad
    return out


def _fcgi_pair(name, value):
    def length(n):
        return struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)
    name, value = name.encode(), value.encode()
    return length(len(name)) + length(len(value)) + name + value


def _recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        got = sock.recv(n - len(buf))
        if not got:
            raise Fail("FastCGI: connection closed mid-record")
        buf += got
    return buf


def fcgi_request(sock_path, params, data, timeout=BIG_TIMEOUT):
    """One FastCGI responder request over a unix socket; returns (status, headers, body)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(struct.pack(">BBHHBx", 1, FCGI_BEGIN, 1, 8, 0) + struct.pack(">HB5x", 1, 0))
        pairs = b"".join(_fcgi_pair(k, v) for k, v in params.items())
        s.sendall(_fcgi_record(FCGI_PARAMS, pairs) + _fcgi_record(FCGI_PARAMS, b""))
        step = 65535 * 16
        for i in range(0, len(data), step):
            s.sendall(_fcgi_record(FCGI_STDIN, data[i:i + step]))
        s.sendall(_fcgi_record(FCGI_STDIN, b""))
        stdout, stderr = b"", b""
        while True:
            _, kind, _, clen, plen = struct.unpack(">BBHHBx", _recv_exact(s, 8))
            content = _recv_exact(s, clen + plen)[:clen]
            if kind == FCGI_STDOUT:
                stdout += content
            elif kind == FCGI_STDERR:
                stderr += content
            elif kind == FCGI_END:
                break
    head, _, body = stdout.partition(b"\r\n\r\n")
    if not _:
        head, _, body = stdout.partition(b"\n\n")
    headers = {}
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    status = int(headers.get("status", "200").split()[0])
    return status, headers, body


# -- the servers, started from a minimal top-level config around the shipped snippet --

APACHE_MODULES = "/usr/lib/apache2/modules"


def start_apache(sb, port, modules, body, mpm="event"):
    """Apache with only the given modules, a minimal main config, and body (the part under test)."""
    apache = need_programs("apache2")[0]
    need_files(*("%s/mod_%s.so" % (APACHE_MODULES, m) for m in modules))
    # Debian builds mod_log_config in; other builds may not.
    optional = [m for m in ("log_config",)
                if os.path.exists("%s/mod_%s.so" % (APACHE_MODULES, m))]
    loads = "\n".join("LoadModule %s_module %s/mod_%s.so" % (m, APACHE_MODULES, m)
                      for m in ["mpm_" + mpm, "authz_core"] + optional + list(modules))
    conf = sb.write("conf/httpd.conf", """\
ServerRoot "{root}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile {root}/run/apache2.pid
DefaultRuntimeDir {root}/run
Mutex file:{root}/run default
{loads}
{user}
ErrorLog {root}/logs/apache-error.log
LogLevel warn
LogFormat "%h %r %>s %B %D" short
CustomLog {root}/logs/apache-access.log short
StartServers 1
Timeout 60
<IfModule mod_mime.c>
    TypesConfig /dev/null
</IfModule>
DocumentRoot {root}/htdocs
<Directory />
    AllowOverride None
    Require all denied
</Directory>
{body}
""".format(root=sb.root, port=port, loads=loads, body=body,
           user=sb.web_user_lines("User %s\nGroup %s")))
    sb.hand_to_web_user()
    sb.run([apache, "-t", "-f", conf], "apache2 -t")
    proc = sb.start([apache, "-f", conf, "-DFOREGROUND"], "apache2")
    sb.logfiles.append(sb.path("logs", "apache-error.log"))
    wait_listening(port=port, proc=proc, what="apache2")
    return proc


def start_lighttpd(sb, port, snippet):
    lighttpd = need_programs("lighttpd")[0]
    conf = sb.write("conf/lighttpd.conf", """\
server.document-root = "{root}/htdocs"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{root}/logs/lighttpd-error.log"
server.breakagelog = "{root}/logs/lighttpd-breakage.log"
server.upload-dirs = ( "{root}/tmp" )
{user}
include "{snippet}"
""".format(root=sb.root, port=port, snippet=snippet,
           user=sb.web_user_lines('server.username = "%s"\nserver.groupname = "%s"')))
    sb.hand_to_web_user()
    sb.run([lighttpd, "-tt", "-f", conf], "lighttpd -tt")
    proc = sb.start([lighttpd, "-D", "-f", conf], "lighttpd")
    sb.logfiles += [sb.path("logs", "lighttpd-error.log"), sb.path("logs", "lighttpd-breakage.log")]
    wait_listening(port=port, proc=proc, what="lighttpd")
    return proc


def start_nginx(sb, port, snippet):
    nginx = need_programs("nginx")[0]
    # The snippet includes fastcgi_params relative to the main config's folder, as
    # /etc/nginx/fastcgi_params is found on a real system.
    params = "/etc/nginx/fastcgi_params"
    if os.path.exists(params):
        shutil.copy(params, sb.path("conf", "fastcgi_params"))
    else:
        sb.write("conf/fastcgi_params", "".join(
            "fastcgi_param %s $%s;\n" % (k, v) for k, v in (
                ("QUERY_STRING", "query_string"), ("REQUEST_METHOD", "request_method"),
                ("CONTENT_TYPE", "content_type"), ("CONTENT_LENGTH", "content_length"),
                ("SCRIPT_NAME", "fastcgi_script_name"), ("REQUEST_URI", "request_uri"),
                ("SERVER_PROTOCOL", "server_protocol"), ("REMOTE_ADDR", "remote_addr"),
                ("SERVER_NAME", "server_name"), ("SERVER_PORT", "server_port"))))
    conf = sb.write("conf/nginx.conf", """\
daemon off;
master_process on;
worker_processes 1;
pid {root}/run/nginx.pid;
error_log {root}/logs/nginx-error.log info;
{user}
events {{ worker_connections 128; }}
http {{
    access_log {root}/logs/nginx-access.log;
    client_body_temp_path {root}/tmp/nginx-body;
    fastcgi_temp_path {root}/tmp/nginx-fastcgi;
    proxy_temp_path {root}/tmp/nginx-proxy;
    uwsgi_temp_path {root}/tmp/nginx-uwsgi;
    scgi_temp_path {root}/tmp/nginx-scgi;
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        root {root}/htdocs;
        include {snippet};
    }}
}}
""".format(root=sb.root, port=port, snippet=snippet,
           user=sb.web_user_lines("user %s %s;")))
    sb.hand_to_web_user()
    argv = [nginx, "-p", sb.root, "-e", sb.path("logs", "nginx-stderr.log"), "-c", conf]
    sb.run(argv + ["-t"], "nginx -t")
    proc = sb.start(argv, "nginx")
    sb.logfiles.append(sb.path("logs", "nginx-error.log"))
    wait_listening(port=port, proc=proc, what="nginx")
    return proc


def start_spawn_fcgi(sb, children=4):
    """imagehook under spawn-fcgi through the shipped contrib/imagehook-spawn-fcgi script."""
    need_programs("spawn-fcgi")
    sb.render("contrib/imagehook.conf.in", dest=sb.path("etc", "imagehook", "imagehook.conf"))
    script = sb.render("contrib/imagehook-spawn-fcgi.in")
    env = clean_env(IMAGEHOOK_CHILDREN=str(children))
    if is_root():
        env.update(IMAGEHOOK_USER=WEB_USER, IMAGEHOOK_GROUP=WEB_USER, IMAGEHOOK_WEB_GROUP=WEB_USER)
    else:
        env.update(IMAGEHOOK_USER=pwd.getpwuid(os.getuid()).pw_name,
                   IMAGEHOOK_GROUP=grp.getgrgid(os.getgid()).gr_name,
                   IMAGEHOOK_WEB_GROUP=grp.getgrgid(os.getgid()).gr_name)
    sb.hand_to_web_user()
    pidfile = sb.path("run", "imagehook", "imagehook.pid")
    sb.pidfiles.append(pidfile)
    sb.run([script], "imagehook-spawn-fcgi", env=env)
    sock = sb.path("run", "imagehook", "imagehook.sock")
    wait_listening(path=sock, what="imagehook under spawn-fcgi")
    with open(pidfile) as f:
        pids = f.read().split()
    check(len(pids) == children, "spawn-fcgi started %d processes, expected %d"
          % (len(pids), children))
    passed("spawn-fcgi started %d imagehook processes on %s" % (children, sock))
    return sock


def main(name, body):
    """Run body(sandbox) in a fresh sandbox; TAP on stdout, exit 1 on failure."""
    def on_signal(signum, frame):
        raise SystemExit("stopped by signal %d" % signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    t0 = time.monotonic()
    sb = None
    failed = False
    try:
        sb = Sandbox(name)
        body(sb)
        sb.stop_all()  # leak reports are written at exit
        sb.check_sanitizers()
        passed("no sanitizer report in any server's log")
    except Skip as e:
        if TAP.n == 0:
            print("1..0 # SKIP %s: %s" % (name, e), flush=True)
            if sb is not None:
                sb.close()
            sys.exit(0)
        TAP.skip(name, str(e))
    except Fail as e:
        first, _, rest = str(e).partition("\n")
        TAP.ok(False, first, rest or None)
        failed = True
    except BaseException:
        TAP.ok(False, "%s: unexpected error" % name, traceback.format_exc())
        failed = True
    finally:
        if sb is not None:
            if failed:
                sb.dump_logs()
            sb.close(keep=failed and bool(os.environ.get("IMAGEHOOK_KEEP_TMP")))
    note("%s: %.1f s" % (name, time.monotonic() - t0))
    TAP.done()
