#!/usr/bin/python3
"""Turns bench/run.sh's measurements into a table on stdout and a markdown file.

usage: report.py CELLS.jsonl OUT.md [KEY=VALUE...]

CELLS.jsonl holds one object per measured cell, as run.sh writes them:
  {"server": "ceiling"|"durable"|"imagehook"|"peer", "payload": NAME, "round": N,
   "rss_kb": N, "files": N, "bench": <ihbench's JSON line>}
and at most one day-fill cell:
  {"server": "dayfill", "fill": N, "window": N, "jobs": N, "pages": N, "seconds": N,
   "one_day": BOOL, "rss_kb": N, "cpu_first_ms": X, "cpu_last_ms": X, "first": <ihbench>, "mid": <ihbench>, "last": <ihbench>,
   "fresh": <ihbench: as many into an empty output folder right after, or {}>}
Each receiver's req/s is the median over the rounds; each ratio is the median of the
ratios of one round (the receivers of one round ran minutes apart, interleaved).
KEY=VALUE pairs describe the machine and the run; they are listed in OUT.md.
"""
import json
import statistics
import sys

ORDER = ["small", "batch4", "big", "huge"]
SERVERS = ["ceiling", "durable", "imagehook", "peer"]
MiB = 1024 * 1024


def load(path):
    cells, fill = {}, None
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            c = json.loads(line)
            if c["server"] == "dayfill":
                fill = c
                continue
            cells.setdefault((c["server"], c["payload"]), {})[c.get("round", 1)] = c
    return cells, fill


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def rate(rounds, key="req_per_s"):
    return med([c["bench"][key] for c in rounds.values()]) if rounds else None


def errors(rounds):
    return sum(c["bench"]["errors"] for c in rounds.values()) if rounds else 0


def with_errors(text, rounds):
    e = errors(rounds)
    return "%s (%d errors)" % (text, e) if e else text


def ratio(a, b):
    """The median over rounds of a's req/s over b's, from rounds both have."""
    if not a or not b:
        return None
    rs = [a[r]["bench"]["req_per_s"] / b[r]["bench"]["req_per_s"] for r in a
          if r in b and b[r]["bench"]["req_per_s"]]
    return med(rs)


def spread(rounds):
    v = [c["bench"]["req_per_s"] for c in rounds.values()] if rounds else []
    return "%.0f–%.0f" % (min(v), max(v)) if len(v) > 1 else "-"


def rows(cells):
    payloads = sorted({p for _, p in cells}, key=lambda p: (ORDER.index(p) if p in ORDER else 99, p))
    for p in payloads:
        ceil, dur, ih, peer = (cells.get((s, p), {}) for s in SERVERS)
        any_rounds = ceil or dur or ih or peer
        body = next(iter(any_rounds.values()))["bench"]["body_bytes"]
        of_dur, of_ceil, vs_peer = ratio(ih, dur), ratio(ih, ceil), ratio(ih, peer)
        rss = max((c.get("rss_kb", 0) for c in ih.values()), default=0) / 1024 or None
        target = 1.5 * body / MiB + 16
        p50 = med([c["bench"]["p50_ms"] for c in ih.values()]) if ih else None
        p99 = med([c["bench"]["p99_ms"] for c in ih.values()]) if ih else None
        yield [
            p,
            "%.2f" % (body / 1e6),
            with_errors(fmt(rate(ceil), ".1f"), ceil),
            with_errors(fmt(rate(dur), ".1f"), dur),
            with_errors(fmt(rate(ih), ".1f"), ih),
            spread(ih),
            fmt(rate(ih, "mb_per_s"), ".0f"),
            fmt(of_dur and of_dur * 100, ".0f") + ("%" if of_dur else ""),
            fmt(of_ceil and of_ceil * 100, ".0f") + ("%" if of_ceil else ""),
            "%s / %s" % (fmt(p50, ".1f"), fmt(p99, ".1f")),
            fmt(rss, ".1f"),
            "%.1f" % target + ("" if rss is None else (" ok" if rss <= target else " OVER")),
            with_errors(fmt(rate(peer), ".1f"), peer),
            fmt(vs_peer, ".2f") + ("x" if vs_peer else ""),
            str(max(len(ih), len(dur), len(ceil), len(peer))),
        ]


HEAD = ["payload", "body MB", "ceiling req/s", "durable limit req/s", "imagehook req/s",
        "imagehook range", "imagehook MB/s", "of durable limit", "of ceiling", "p50 / p99 ms",
        "peak RSS MiB", "RSS target MiB", "peer req/s", "imagehook / peer", "rounds"]


def text_table(head, table):
    widths = [max(len(r[i]) for r in [head] + table) for i in range(len(head))]
    line = lambda r: "  ".join(c.rjust(w) for c, w in zip(r, widths))  # noqa: E731
    return "\n".join([line(head)] + [line(r) for r in table])


def md_table(head, table):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in table]
    return "\n".join(out)


def fill_lines(f):
    first, last = f["first"]["req_per_s"], f["last"]["req_per_s"]
    r = last / first if first else 0
    fresh = (f.get("fresh") or {}).get("req_per_s")
    head = ["deliveries", "first %d req/s" % f["window"], "middle req/s",
            "last %d req/s" % f["window"], "last / first", "target",
            "empty store right after, req/s", "last / empty", "jobs in the day",
            "older day pages", "imagehook CPU ms per delivery, first / last", "errors",
            "seconds"]
    cf, cl = f.get("cpu_first_ms", -1), f.get("cpu_last_ms", -1)
    cpu = "%.2f / %.2f (%.2f)" % (cf, cl, cl / cf) if cf > 0 and cl > 0 else "—"
    row = [str(f["fill"]), "%.1f" % first, "%.1f" % f["mid"]["req_per_s"], "%.1f" % last,
           "%.2f" % r, "≥ 0.90 " + ("met" if r >= 0.9 else "**missed**"),
           fmt(fresh, ".1f"), fmt(fresh and last / fresh, ".2f"), str(f["jobs"]),
           str(f["pages"]), cpu,
           str(f["first"]["errors"] + f["mid"]["errors"] + f["last"]["errors"]),
           str(f["seconds"])]
    notes = []
    if cpu == "—" and "cpu_first_ms" in f:
        notes.append("- No CPU time: an imagehook process was replaced during a timed "
                     "window (its time so far went with it).")
    if not f.get("one_day", True):
        notes.append("- The run crossed midnight UTC: the deliveries went into two days.")
    return head, row, notes


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    cells, fill = load(argv[1])
    info = [a.split("=", 1) for a in argv[3:] if "=" in a]
    md = ["# imagehook benchmark results", "",
          "Written by `bench/run.sh`; see `bench/README.md` for what each column means.", ""]
    errs = []
    if cells:
        table = list(rows(cells))
        print(text_table(HEAD, table))
        errs = [(s, p, r, c["bench"]["first_error"]) for (s, p), rounds in sorted(cells.items())
                for r, c in sorted(rounds.items()) if c["bench"]["errors"]]
        for e in errs:
            print("%s/%s round %d: first error: %s" % e)
        md += [md_table(HEAD, table), "",
               "- **durable limit**: a FastCGI responder behind the same lighttpd config that "
               "writes the body to a new file of a per-day folder (temporary name, fsync, rename, "
               "folder fsync) and appends one log line with fdatasync, without parsing "
               "(`bench/durable_responder.c`); **ceiling**: one that only reads the body; "
               "**peer**: the Flask + gunicorn receiver from ../shared/bench (direct HTTP, as "
               "many workers as imagehook has processes).",
               "- req/s: the median over the rounds; **range**: imagehook's lowest and highest "
               "round; ratios: the median of each round's ratio; **RSS target**: "
               "1.5 x body + 16 MiB per process."]
        ih = [rounds for (s, _), rounds in sorted(cells.items(),
              key=lambda kv: ORDER.index(kv[0][1]) if kv[0][1] in ORDER else 99) if s == "imagehook"]
        files = ["%s %d" % (c["payload"], c["files"]) for rounds in ih for c in
                 [rounds[max(rounds)]] if "files" in c]
        if files:
            md.append("- Files (images, job.json) in imagehook's output folder after its last "
                      "round of each payload (warm-up included): " + ", ".join(files) + ".")
        stray = [(s, p, r, c["stray"]) for (s, p), rounds in sorted(cells.items())
                 for r, c in sorted(rounds.items()) if c.get("stray")]
        if stray:
            line = "- FastCGI processes still running 2 s after lighttpd stopped (killed by " \
                   "run.sh): " + ", ".join("%s/%s round %d: %d" % t for t in stray) + "."
            print(line[2:])
            md.append(line)
        md.append("")
    if fill:
        head, row, notes = fill_lines(fill)
        print()
        print(text_table(head, [row]))
        md += ["## A day filling up", "",
               "Small deliveries into one day through the same lighttpd and imagehook "
               "(gallery on); the first and last twentieth timed apart. The CPU time is "
               "that of the imagehook processes (user and system, from /proc), per "
               "delivery: the work itself, which other load on the machine moves less than req/s.", "",
               md_table(head, [row]), ""] + notes + ([""] if notes else [])
    if errs:
        md += ["## Errors", ""] + ["- %s/%s round %d: %s" % e for e in errs] + [""]
    md += ["## Run", ""] + ["- %s: %s" % (k, v) for k, v in info] + [""]
    with open(argv[2], "w") as f:
        f.write("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
