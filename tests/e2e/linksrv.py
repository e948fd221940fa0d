"""A lighttpd on 127.0.0.1 serving result files, for the fetch and sender tests.

Files go in its document root; /redir-ok redirects to /ok.png (a relative Location),
/redir-bad to a host that is not allowlisted, *.sh are run as CGI (slow answers).
Every request lands in the access log, so a test can count what was fetched.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time


class Skip(Exception):
    pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FileServer:
    def __init__(self):
        self.lighttpd = shutil.which("lighttpd", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
        if self.lighttpd is None:
            raise Skip("lighttpd is not installed")
        self.root = tempfile.mkdtemp(prefix="ih-links-")
        os.chmod(self.root, 0o755)
        self.docs = os.path.join(self.root, "htdocs")
        os.makedirs(self.docs)
        self.access = os.path.join(self.root, "access.log")
        # CGI scripts append their request here (lighttpd's access log is written late).
        self.hits_file = os.path.join(self.root, "hits")
        open(self.hits_file, "w").close()
        os.chmod(self.hits_file, 0o666)
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.proc = None

    def put(self, name, data, mode=0o644):
        path = os.path.join(self.docs, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
        return self.base + "/" + name

    def start(self):
        user = ""
        if os.geteuid() == 0:
            user = 'server.username = "www-data"\nserver.groupname = "www-data"\n'
            for top, dirs, files in os.walk(self.root):
                for n in [top] + [os.path.join(top, x) for x in dirs + files]:
                    shutil.chown(n, "www-data", "www-data")
        conf = os.path.join(self.root, "lighttpd.conf")
        with open(conf, "w") as f:
            f.write("""\
server.modules = ( "mod_redirect", "mod_cgi", "mod_accesslog" )
server.document-root = "{docs}"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{root}/error.log"
accesslog.filename = "{access}"
accesslog.format = "%r %>s"
mimetype.assign = ( ".png" => "image/png", ".html" => "text/html" )
cgi.assign = ( ".sh" => "/bin/sh" )
url.redirect = ( "^/redir-ok$" => "/ok.png",
                 "^/redir-bad$" => "http://evil.invalid:{port}/ok.png",
                 "^/redir-loop$" => "/redir-loop" )
{user}""".format(docs=self.docs, port=self.port, root=self.root, access=self.access, user=user))
        self.proc = subprocess.Popen([self.lighttpd, "-D", "-f", conf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("lighttpd exited: %s" % self.errors())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("lighttpd did not listen")

    def requests(self, settle=2.5):
        """The request lines served so far, e.g. 'GET /ok.png HTTP/1.1 200'.

        lighttpd writes its access log about once a second: wait until it is quiet."""
        lines, deadline = None, time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with open(self.access) as f:
                    now = f.read().splitlines()
            except OSError:
                now = []
            if now == lines:
                return now
            lines = now
            time.sleep(settle)
        return lines or []

    def hits(self):
        """The REQUEST_URI of every request a slow_cgi script answered."""
        with open(self.hits_file) as f:
            return f.read().splitlines()

    def errors(self):
        try:
            with open(os.path.join(self.root, "error.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


def slow_cgi(srv, seconds, png):
    """A CGI script that notes its request in srv's hits, waits, then answers with png."""
    return ("#!/bin/sh\necho \"$REQUEST_URI\" >> %s\nsleep %s\n"
            "printf 'Content-Type: image/png\\r\\n\\r\\n'\ncat %s\n"
            % (srv.hits_file, seconds, png)).encode()
