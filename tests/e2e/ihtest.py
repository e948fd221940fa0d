"""Helpers for the end-to-end tests: run imagehook as CGI, read what it stored."""
import base64
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("TOP_SRCDIR", os.path.join(os.path.dirname(__file__), "..", "..")), "tests"))
import callbacks  # noqa: E402

BIN = os.environ.get("IMAGEHOOK_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "imagehook"))
# IMAGEHOOK_WRAPPER runs the binary under valgrind (or another tool); it must exit 0.
WRAPPER = shlex.split(os.environ.get("IMAGEHOOK_WRAPPER", ""))
TOKEN = "t0k3n-for-tests-0123456789"


class Site:
    """A fresh output folder and log, and the environment that points imagehook at them."""

    def __init__(self, **env):
        self.dir = tempfile.mkdtemp(prefix="ih-e2e-")
        self.out = os.path.join(self.dir, "out")
        self.log = os.path.join(self.dir, "imagehook.log")
        self.env = {"PATH": "/usr/bin:/bin", "IMAGEHOOK_OUTPUT_DIR": self.out,
                    "IMAGEHOOK_LOG": self.log, "IMAGEHOOK_TOKEN": TOKEN}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                self.env[k] = os.environ[k]
        self.env.update({k: v for k, v in env.items() if v is not None})
        for k, v in env.items():
            if v is None:
                self.env.pop(k, None)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def cgi(self, body=b"", method="POST", query="token=" + TOKEN, length=True,
            path_info=None, args=(), extra_env=None):
        """Runs one CGI request; returns a Reply."""
        env = dict(self.env)
        env.update({"REQUEST_METHOD": method, "GATEWAY_INTERFACE": "CGI/1.1",
                    "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1"})
        if query is not None:
            env["QUERY_STRING"] = query
        if path_info is not None:
            env["PATH_INFO"] = path_info
        if length is True:
            env["CONTENT_LENGTH"] = str(len(body))
        elif length is not None and length is not False:
            env["CONTENT_LENGTH"] = str(length)
        env.update(extra_env or {})
        p = subprocess.run(WRAPPER + [BIN] + list(args), input=body, env=env,
                           capture_output=True, timeout=300)
        return Reply(p)

    def log_lines(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log, "rb") as f:
            return [json.loads(line) for line in f.read().splitlines()]

    def files(self):
        """Every file below the output root, relative, without lock and index entries."""
        found = []
        for root, dirs, names in os.walk(self.out):
            for n in names:
                rel = os.path.relpath(os.path.join(root, n), self.out)
                if n == ".lock" or rel.startswith(".ids/"):
                    continue
                found.append(rel)
        return sorted(found)

    def read(self, rel):
        with open(os.path.join(self.out, rel), "rb") as f:
            return f.read()

    def job_folders(self, jid):
        """Every visible folder named jid under jobs/YYYY/MM/DD/ (absolute paths)."""
        found = []
        top = os.path.join(self.out, "jobs")
        for root, dirs, _ in os.walk(top):
            depth = os.path.relpath(root, top).count("/") + 1 if root != top else 0
            if depth == 3:
                found += [os.path.join(root, d) for d in dirs if d == jid]
                dirs[:] = []
            else:
                dirs[:] = [d for d in dirs if not d.startswith(".")]
        return found


class Reply:
    def __init__(self, p):
        self.returncode = p.returncode
        self.stderr = p.stderr.decode(errors="replace")
        head, _, body = p.stdout.partition(b"\r\n\r\n")
        self.headers = {}
        self.status = None
        for line in head.decode(errors="replace").split("\r\n"):
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        if "status" in self.headers:
            self.status = int(self.headers["status"].split()[0])
        self.raw = body
        try:
            self.json = json.loads(body)
        except ValueError:
            self.json = None

    def __repr__(self):
        return "<Reply %s %r rc=%s stderr=%r>" % (self.status, self.raw[:300], self.returncode,
                                                  self.stderr[-500:])


def body_of(n_images=2, size=(32, 32), **kw):
    body, pngs = callbacks.callback(n_images, size, **kw)
    return body, callbacks.encode(body), pngs


def b64(data):
    return base64.b64encode(data).decode()
