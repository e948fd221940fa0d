"""A throw-away Ceph cluster (tests/servers/ceph-cluster.sh) for the S3 tests.

The cluster lives in a folder of the sandbox; a test that cannot start it fails
(a missing package too): an S3 test that did not run must never count as passed.
"""
import hashlib
import os
import shutil
import subprocess
import time

from srvlib import Fail, TOP_SRCDIR, note, free_port, start_lighttpd, http_sender

SCRIPT = os.path.join(TOP_SRCDIR, "tests", "servers", "ceph-cluster.sh")


class Cluster:
    def __init__(self, sb):
        self.sb = sb
        self.dir = sb.path("ceph")
        self.env = {}
        self.started = False

    def _run(self, cmd, timeout=120):
        t0 = time.monotonic()
        res = subprocess.run([SCRIPT, cmd, self.dir], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        out = res.stdout.decode(errors="replace")
        if res.returncode != 0:
            logs = []
            for name in ("mon.a.log", "osd.0.log", "rgw.log", "mkfs.log"):
                path = os.path.join(self.dir, name)
                if os.path.exists(path):
                    with open(path, "rb") as f:
                        f.seek(max(0, os.path.getsize(path) - 1500))
                        logs.append("---- %s ----\n%s" % (name, f.read().decode(errors="replace")))
            raise Fail("ceph-cluster.sh %s failed (%d):\n%s\n%s"
                       % (cmd, res.returncode, out, "\n".join(logs)))
        return time.monotonic() - t0

    def start(self):
        took = self._run("start")
        self.started = True
        with open(os.path.join(self.dir, "s3.env")) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                if k:
                    self.env[k] = v
        return took

    def stop_rgw(self):
        self._run("stop-rgw")

    def start_rgw(self):
        self._run("start-rgw")

    def freeze_rgw(self, frozen):
        """SIGSTOP or SIGCONT radosgw: a store that accepts connections and never answers."""
        import signal
        with open(os.path.join(self.dir, "rgw.pid")) as f:
            os.kill(int(f.read().strip()), signal.SIGSTOP if frozen else signal.SIGCONT)

    def stop(self):
        if self.started:
            self.started = False
            self._run("stop")

    def imagehook_env(self, prefix=""):
        """The IMAGEHOOK_* settings of a receiver that stores in this cluster's bucket."""
        return {
            "IMAGEHOOK_STORE": "s3://%s/%s" % (self.env["S3_BUCKET"], prefix),
            "IMAGEHOOK_S3_ENDPOINT": self.env["S3_ENDPOINT"],
            "IMAGEHOOK_S3_REGION": self.env["S3_REGION"],
            "IMAGEHOOK_S3_ADDRESSING": "path",
            "IMAGEHOOK_S3_CREDENTIALS": self.env["S3_CREDENTIALS"],
            "IMAGEHOOK_S3_TIMEOUT": "5",
        }

    # -- reading the bucket back, with the curl program (its own SigV4) -----------

    def _keys(self):
        with open(self.env["S3_CREDENTIALS"]) as f:
            kv = dict(l.split(" = ", 1) for l in f.read().splitlines() if " = " in l)
        return kv["aws_access_key_id"].strip(), kv["aws_secret_access_key"].strip()

    def get(self, key, timeout=60):
        """(status, bytes) of one object, fetched by curl --aws-sigv4."""
        access, secret = self._keys()
        res = subprocess.run(
            ["curl", "-s", "-m", str(timeout), "-w", "\n%{http_code}",
             "--aws-sigv4", "aws:amz:%s:s3" % self.env["S3_REGION"],
             "--user", "%s:%s" % (access, secret),
             "-H", "x-amz-content-sha256: %s" % hashlib.sha256(b"").hexdigest(),
             "%s/%s/%s" % (self.env["S3_ENDPOINT"], self.env["S3_BUCKET"], key)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout + 5)
        body, _, code = res.stdout.rpartition(b"\n")
        return int(code or 0), body

    def list(self, prefix):
        """Every key under prefix (ListObjectsV2, one page of up to 1000)."""
        import re
        import urllib.parse
        status, body = self.get("?list-type=2&prefix=%s" % urllib.parse.quote(prefix, safe=""))
        if status != 200:
            raise Fail("listing %s: HTTP %d %r" % (prefix, status, body[:300]))
        return [k.replace("&amp;", "&") for k in re.findall(r"<Key>([^<]*)</Key>", body.decode())]


def start_receiver(sb, cluster, prefix):
    """lighttpd spawning imagehook with the S3 store, through the shipped snippet."""
    cred = sb.path("etc", "imagehook", "s3-credentials")
    shutil.copy(cluster.env["S3_CREDENTIALS"], cred)
    os.chmod(cred, 0o600)
    conf = "".join("%s = %s\n" % kv for kv in cluster.imagehook_env(prefix).items()
                   if kv[0] != "IMAGEHOOK_S3_CREDENTIALS")
    conf += "IMAGEHOOK_S3_CREDENTIALS = %s\n" % cred
    sb.write("etc/imagehook/s3.conf", conf)
    # The S3 settings through IMAGEHOOK_CONFIG: the keys stay out of the web server's config.
    snippet = sb.render("lighttpd-conf/imagehook-spawn.conf.in", replace=[(
        '"IMAGEHOOK_MAX_BODY" => "67108864",',
        '"IMAGEHOOK_MAX_BODY" => "67108864",\n            "IMAGEHOOK_CONFIG" => "%s",'
        % sb.path("etc", "imagehook", "s3.conf"))])
    port = free_port()
    start_lighttpd(sb, port, snippet)
    return port, http_sender(port)


def start_cluster(sb):
    """Start a cluster for sandbox sb (stopped by sb.close()); fails when it cannot."""
    cluster = Cluster(sb)
    sb.cluster = cluster
    old_stop = sb.stop_all

    def stop_all():
        old_stop()
        try:
            cluster.stop()
        except Fail as e:
            note(str(e))
    sb.stop_all = stop_all
    took = cluster.start()
    return cluster, took
