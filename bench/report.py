#!/usr/bin/python3
"""Turns bench/run.sh's measurements into a table on stdout and a markdown file.

usage: report.py CELLS.jsonl OUT.md [KEY=VALUE...]

CELLS.jsonl holds one object per measured cell, as run.sh writes them:
  {"server": "ceiling"|"imagehook"|"peer", "payload": NAME, "rss_kb": N,
   "files": N, "bench": <ihbench's JSON line>}
KEY=VALUE pairs describe the machine and the run; they are listed in OUT.md.
"""
import json
import sys

ORDER = ["small", "batch4", "big", "huge"]
MiB = 1024 * 1024


def load(path):
    cells = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                c = json.loads(line)
                cells[(c["server"], c["payload"])] = c
    return cells


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def with_errors(text, cell):
    errors = cell["bench"]["errors"] if cell else 0
    return "%s (%d errors)" % (text, errors) if errors else text


def rows(cells):
    payloads = sorted({p for _, p in cells}, key=lambda p: (ORDER.index(p) if p in ORDER else 99, p))
    for p in payloads:
        ceil, ih, peer = (cells.get((s, p)) for s in ("ceiling", "imagehook", "peer"))
        any_cell = ceil or ih or peer
        body = any_cell["bench"]["body_bytes"]
        cb, ib, pb = (c["bench"] if c else None for c in (ceil, ih, peer))
        ratio = ib["req_per_s"] / cb["req_per_s"] if ib and cb and cb["req_per_s"] else None
        vs_peer = ib["req_per_s"] / pb["req_per_s"] if ib and pb and pb["req_per_s"] else None
        rss = ih["rss_kb"] / 1024 if ih and ih.get("rss_kb") else None
        target = 1.5 * body / MiB + 16
        yield [
            p,
            "%.2f" % (body / 1e6),
            with_errors(fmt(cb and cb["req_per_s"], ".1f"), ceil),
            fmt(cb and cb["mb_per_s"], ".0f"),
            with_errors(fmt(ib and ib["req_per_s"], ".1f"), ih),
            fmt(ib and ib["mb_per_s"], ".0f"),
            fmt(ratio and ratio * 100, ".0f") + ("%" if ratio else ""),
            "%s / %s" % (fmt(ib and ib["p50_ms"], ".1f"), fmt(ib and ib["p99_ms"], ".1f")),
            fmt(rss, ".1f"),
            "%.1f" % target + ("" if rss is None else (" ok" if rss <= target else " OVER")),
            with_errors(fmt(pb and pb["req_per_s"], ".1f"), peer),
            fmt(vs_peer, ".1f") + ("x" if vs_peer else ""),
        ]


HEAD = ["payload", "body MB", "ceiling req/s", "ceiling MB/s", "imagehook req/s",
        "imagehook MB/s", "of ceiling", "p50 / p99 ms", "peak RSS MiB",
        "RSS target MiB", "peer req/s", "imagehook / peer"]


def text_table(table):
    widths = [max(len(r[i]) for r in [HEAD] + table) for i in range(len(HEAD))]
    line = lambda r: "  ".join(c.rjust(w) for c, w in zip(r, widths))
    return "\n".join([line(HEAD)] + [line(r) for r in table])


def md_table(table):
    out = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    out += ["| " + " | ".join(r) + " |" for r in table]
    return "\n".join(out)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    cells = load(argv[1])
    info = [a.split("=", 1) for a in argv[3:] if "=" in a]
    table = list(rows(cells))
    print(text_table(table))
    errors = [(s, p, c["bench"]["first_error"]) for (s, p), c in sorted(cells.items())
              if c["bench"]["errors"]]
    for s, p, e in errors:
        print("%s/%s: first error: %s" % (s, p, e))
    md = ["# imagehook benchmark results", "",
          "Written by `bench/run.sh`; see `bench/README.md` for what each column means.", "",
          md_table(table), ""]
    ih_cells = [cells[k] for k in sorted(cells, key=lambda k: ORDER.index(k[1]) if k[1] in ORDER else 99)
                if k[0] == "imagehook"]
    md += ["- **of ceiling**: imagehook req/s divided by the null responder's behind the same "
           "lighttpd config; **RSS target**: 1.5 x body + 16 MiB per process; "
           "**peer**: the Flask + gunicorn receiver from ../shared/bench (direct HTTP, 2 workers).",
           "- PNG files found in imagehook's output folder after each cell (warm-up included): "
           + ", ".join("%s %d" % (c["payload"], c["files"]) for c in ih_cells if "files" in c) + "."]
    stray = [(s, p, c["stray"]) for (s, p), c in sorted(cells.items()) if c.get("stray")]
    if stray:
        line = "- FastCGI processes still running 2 s after lighttpd stopped (killed by run.sh): " \
               + ", ".join("%s/%s %d" % t for t in stray) + "."
        print(line[2:])
        md.append(line)
    md.append("")
    if errors:
        md += ["## Errors", ""] + ["- %s/%s: %s" % e for e in errors] + [""]
    md += ["## Run", ""] + ["- %s: %s" % (k, v) for k, v in info] + [""]
    with open(argv[2], "w") as f:
        f.write("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
