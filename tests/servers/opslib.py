"""The operator faces through a real server: the health path, the metrics, the free-space
guard, `imagehook send`, the request id, IMAGEHOOK_ON_STORED and a token rotated under
long-running FastCGI processes (issue 15). Used by ops-lighttpd.test and ops-apache.test."""
import http.client
import json
import os
import shutil
import subprocess
import time

import srvlib
from srvlib import check, passed, note

HOOK = """#!/bin/sh
printf '%s\\n' "$1" "$2" "$3" >> {record}
sleep 3
"""


def request(port, path, method="GET", data=None, headers=None, timeout=60):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def env_lines(sb, fmt, extra):
    """Settings added to a shipped config: fmt % (name, value) for each."""
    return "".join(fmt % kv for kv in extra)


def hook_setup(sb):
    record = sb.path("var", "lib", "hook.out")
    script = sb.write("sbin/on-stored", HOOK.format(record=record), mode=0o755)
    return script, record


def health_and_metrics(sb, port):
    status, headers, body = request(port, "/imagehook/health")
    check(status == 200 and json.loads(body) == {"ok": True},
          "GET /imagehook/health: %s %r" % (status, body[:300]))
    status, _, body = request(port, "/imagehook/health", method="HEAD")
    check(status == 200 and body == b"", "HEAD /imagehook/health: %s %r" % (status, body[:100]))
    status, _, body = request(port, "/imagehook/health?token=" + sb.token)
    details = json.loads(body)
    check(status == 200 and details.get("output") is True and "free_bytes" in details,
          "health with the secret: %s %r" % (status, body[:300]))
    status, headers, _ = request(port, "/imagehook/health", method="POST", data=b"{}")
    check(status == 405, "POST /imagehook/health: %s" % status)
    passed("health path: GET/HEAD 200 {\"ok\":true} without a secret, details with it, POST 405")
    status, _, _ = request(port, "/imagehook/metrics")
    check(status == 401, "metrics without the secret: %s" % status)
    status, headers, body = request(port, "/imagehook/metrics?token=" + sb.token)
    check(status == 200 and b"imagehook_deliveries_total" in body,
          "metrics with the secret: %s %r" % (status, body[:300]))
    promtool = shutil.which("promtool")
    if promtool is None:
        note("promtool is not installed (Debian: prometheus): metrics not linted")
    else:
        p = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, timeout=60)
        check(p.returncode == 0, "promtool check metrics: %s" % (p.stdout + p.stderr).decode(errors="replace"))
    status, headers, body = request(port, "/imagehook/metrics?token=" + sb.token,
                                    headers={"Accept": "application/openmetrics-text;version=1.0.0"})
    check(status == 200 and headers.get("content-type", "").startswith("application/openmetrics-text")
          and body.endswith(b"# EOF\n"), "OpenMetrics when asked for: %s %r" % (status, headers))
    passed("metrics: 401 without the secret; with it, text that promtool accepts, OpenMetrics on request")


def request_id(sb, port):
    jid, data, pngs = sb.body(0.05, 1)
    status, _, answer = request(port, "/imagehook?token=" + sb.token, "POST", data,
                                {"Content-Type": "application/json", "X-Request-Id": "req-ops-42"})
    sb.expected_log.append((jid, status))
    sb.check_stored("delivery with X-Request-Id", status, answer, jid, pngs)
    with open(sb.logpath) as f:
        last = [json.loads(x) for x in f if '"event"' not in x][-1]
    check(last.get("request_id") == "req-ops-42", "log line request_id: %r" % last.get("request_id"))
    passed("the log line carries the server's X-Request-Id")


def send(sb, port):
    p = subprocess.run([sb.bin, "send", "http://127.0.0.1:%d/imagehook?token=%s" % (port, sb.token),
                        "--id", "sent-by-imagehook-send"], env=srvlib.clean_env(),
                       capture_output=True, timeout=120)
    out = p.stdout.decode(errors="replace")
    check(p.returncode == 0 and out.startswith("HTTP 200") and '"outcome":"stored"' in out,
          "imagehook send: exit %d\n%s%s" % (p.returncode, out, p.stderr.decode(errors="replace")))
    sb.expected_log.append(("sent-by-imagehook-send", 200))
    passed("imagehook send posts a sample callback and prints the 200 answer")


def hook(sb, port, record):
    jid, data, pngs = sb.body(0.05, 1)
    t0 = time.monotonic()
    status, _, answer = request(port, "/imagehook?token=" + sb.token, "POST", data,
                                {"Content-Type": "application/json"})
    took = time.monotonic() - t0
    sb.expected_log.append((jid, status))
    sb.check_stored("delivery with a hook", status, answer, jid, pngs)
    check(took < 2.5, "the answer waited for the 3 s hook: %.2f s" % took)
    deadline = time.monotonic() + 20
    ev = []
    while time.monotonic() < deadline:
        with open(sb.logpath) as f:
            ev = [json.loads(x) for x in f if '"on_stored"' in x and jid in x]
        if ev:
            break
        time.sleep(0.2)
    check(ev and ev[0]["exit"] == 0, "no on_stored line with exit 0 for %s: %r" % (jid, ev))
    with open(record) as f:
        args = f.read().split("\n")
    check(jid in args and "stored" in args, "hook arguments: %r" % args)
    passed("IMAGEHOOK_ON_STORED ran after the answer (%.2f s), its exit status logged" % took)


def serving_pids(sb):
    """The FastCGI processes: imagehook processes whose parent is not one (hooks' supervisors are)."""
    pids = set(sb._our_imagehooks())
    out = []
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid not in pids:
            out.append(pid)
    return sorted(out)


def rotate(sb, port):
    """A new token in the token file is in force for the next request, same processes."""
    before = serving_pids(sb)
    old = sb.token
    new = "rotated-" + old
    path = sb.path("etc", "imagehook", "token")
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(new + "\n")
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)
    sb.token = new
    codes = []
    for _ in range(6):  # every process of the pool gets one at least once, likely
        jid, data, pngs = sb.body(0.02, 1)
        status, _, answer = request(port, "/imagehook?token=" + new, "POST", data,
                                    {"Content-Type": "application/json"})
        sb.expected_log.append((jid, status))
        codes.append(status)
        status2, _, _ = request(port, "/imagehook?token=" + old, "POST", data,
                                {"Content-Type": "application/json"})
        sb.expected_log.append((None, status2))
        codes.append(status2)
    check(codes == [200, 401] * 6, "after rotating the token: %r (new, old alternately)" % codes)
    after = serving_pids(sb)
    check(before and after == before, "the processes changed: %r -> %r" % (before, after))
    passed("token rotated in its file: the new one in force at once, the old one 401, "
           "%d processes not restarted" % len(before))
    return old


def storage_low(sb, port):
    """With the output on a 48 MB tmpfs and IMAGEHOOK_MIN_FREE=24m, a 30 MB body gets 503
    storage_low with Retry-After before anything is written; a small one is stored."""
    before = srvlib.count_files(sb.out)
    jid, data, pngs = sb.body(30, 3)
    status, headers, answer = request(port, "/imagehook?token=" + sb.token, "POST", data,
                                      {"Content-Type": "application/json"}, timeout=120)
    sb.expected_log.append((None, status))
    check(status == 503 and headers.get("retry-after") and b"storage_low" in answer,
          "30 MB body with 24m to keep on 48m: %s %r" % (status, answer[:300]))
    check(srvlib.count_files(sb.out) == before, "files were written before the 503")
    status, _, body = request(port, "/imagehook/health")
    passed("free-space guard: 503 storage_low with Retry-After, nothing written")
    return status


def mount_out(sb, size):
    if os.geteuid() != 0:
        return False
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0755" % size, "tmpfs", sb.out],
                       capture_output=True, timeout=30)
    return p.returncode == 0


def umount_out(sb):
    if subprocess.run(["umount", sb.out], capture_output=True, timeout=30).returncode != 0:
        subprocess.run(["umount", "-l", sb.out], capture_output=True, timeout=30)


def check_log(sb, old_tokens=()):
    """One delivery line per request (event lines of hooks aside), every line JSON, no secret."""
    with open(sb.logpath, "rb") as f:
        raw = f.read()
    for tok in (sb.token,) + tuple(old_tokens):
        check(tok.encode() not in raw, "the log contains a secret")
    lines = [json.loads(x) for x in raw.split(b"\n")[:-1]]
    deliveries = [x for x in lines if "event" not in x]
    events = [x for x in lines if "event" in x]
    check(len(deliveries) == len(sb.expected_log),
          "%d delivery lines for %d requests" % (len(deliveries), len(sb.expected_log)))
    check(sorted(x["http"] for x in deliveries) == sorted(h for _, h in sb.expected_log),
          "log statuses differ from the answers")
    passed("log: one line per request (%d) and %d hook lines, all JSON, no secret"
           % (len(deliveries), len(events)))


def health_only(sb, port, prefix="/imagehook"):
    """The health and metrics paths reach imagehook through this server's shipped config."""
    status, _, body = request(port, prefix + "/health")
    check(status == 200 and json.loads(body) == {"ok": True},
          "GET %s/health: %s %r" % (prefix, status, body[:300]))
    status, _, body = request(port, prefix + "/metrics?token=" + sb.token)
    check(status == 200 and b"imagehook_deliveries_total" in body,
          "GET %s/metrics: %s %r" % (prefix, status, body[:300]))
    passed("%s/health and %s/metrics reach imagehook through the shipped config" % (prefix, prefix))
