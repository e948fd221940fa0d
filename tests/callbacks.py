#!/usr/bin/python3
"""Builds realistic RunPod callback bodies with real PNG images, stdlib only.

As a module: png(w, h, seed), callback(...) -> dict, encode(dict) -> bytes.
As a command: callbacks.py --images N --size WxH [--id ID] [--status S]
              [--target-mb MB] [--input-images N] [--pretty] > body.json
The PNGs are real (valid CRCs, zlib-compressed rows); their pixels are seeded noise
so that they do not compress and a body's size is predictable.
"""
import argparse
import base64
import json
import random
import struct
import sys
import uuid
import zlib


def _chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))


def png(w, h, seed=0, noise=1.0, text=None):
    """An 8-bit RGB PNG of w x h; noise in [0, 1] sets how much of it is random."""
    rnd = random.Random(seed)
    row_noise = int(w * 3 * noise)
    rows = []
    for y in range(h):
        rnd_bytes = rnd.randbytes(row_noise)
        flat = bytes(((x + y + seed) & 0xff) for x in range(w * 3 - row_noise))
        rows.append(b"\x00" + rnd_bytes + flat)
    raw = b"".join(rows)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    out = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
    if text is not None:
        out += _chunk(b"tEXt", text[0].encode("latin-1") + b"\0" + text[1].encode("latin-1"))
    out += _chunk(b"IDAT", zlib.compress(raw, 1)) + _chunk(b"IEND", b"")
    return out


def pretty_png(w, h, seed=0, text=None):
    """A smooth, colourful w x h picture (for demos and screenshots), deterministic."""
    import math
    rnd = random.Random(seed)
    fx, fy, ph = rnd.uniform(0.4, 1.2), rnd.uniform(0.4, 1.2), rnd.uniform(0, 6.28)
    rows = []
    for y in range(h):
        row = bytearray(b"\x00")
        for x in range(w):
            u, v = x / w, y / h
            r = 128 + 127 * math.sin(fx * u * 6.28 + ph)
            g = 128 + 127 * math.sin(fy * v * 6.28 + ph * 2)
            b = 128 + 127 * math.sin((u - v) * 2.5 + ph * 3)
            row += bytes((int(r), int(g), int(b)))
        rows.append(bytes(row))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    out = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
    if text is not None:
        out += _chunk(b"tEXt", text[0].encode("latin-1") + b"\0" + text[1].encode("latin-1"))
    return out + _chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) + _chunk(b"IEND", b"")


def job_id(seed):
    return "sync-" + str(uuid.UUID(int=random.Random(seed).getrandbits(128)))


def infotext(seed, w, h):
    return "an astronaut riding a horse\nSteps: 30, Seed: %d, Size: %dx%d" % (seed, w, h)


def callback(n_images=1, size=(64, 64), jid=None, status="COMPLETED", seed=1,
             noise=1.0, input_images=0, webhook="https://example.invalid/hook?token=SECRET",
             pnginfo=True, pretty=False):
    """A dict shaped like the A1111 worker's callback; returns (body, [png bytes]).

    Like A1111 with enable_pnginfo on (its default), each PNG already carries its
    infotext in a `parameters` tEXt chunk, so imagehook stores it byte for byte;
    pnginfo=False sends PNGs without it (imagehook then adds the chunk).
    """
    w, h = size
    jid = jid or job_id(seed)
    seeds = [seed * 7 + i for i in range(n_images)]
    make = (lambda sd, t: pretty_png(w, h, sd, t)) if pretty else (lambda sd, t: png(w, h, sd, noise, t))
    pngs = [make(seed * 1000 + i, ("parameters", infotext(seeds[i], w, h)) if pnginfo else None)
            for i in range(n_images)]
    params = {"prompt": "an astronaut riding a horse", "negative_prompt": "", "seed": -1,
              "batch_size": n_images, "steps": 30, "cfg_scale": 7, "width": w,
              "height": h, "sampler_name": "DPM++ SDE Karras"}
    body = {"delayTime": 1234 + seed % 5000, "executionTime": 5678 + seed % 20000, "id": jid,
            "input": {"api": {"method": "POST", "endpoint": "/sdapi/v1/txt2img"},
                      "payload": params},
            "status": status, "webhook": webhook, "workerId": "worker-%d" % seed}
    if input_images:
        body["input"]["payload"]["init_images"] = [
            base64.b64encode(png(w, h, seed * 5000 + i, noise)).decode()
            for i in range(input_images)]
    if status == "COMPLETED":
        info = {"prompt": params["prompt"], "all_seeds": seeds, "index_of_first_image": 0,
                "infotexts": [infotext(s, w, h) for s in seeds]}
        body["output"] = {"images": [base64.b64encode(p).decode() for p in pngs],
                          "info": json.dumps(info), "parameters": params}
    else:
        body["error"] = "worker exited with exit code 1"
        pngs = []
    return body, pngs


def size_for_mb(target_mb, n_images):
    """Square side giving about target_mb of base64 body over n_images noise PNGs."""
    per_image = target_mb * 1e6 * 3 / 4 / max(n_images, 1)
    return max(8, int((per_image / 3) ** 0.5))


def encode(body):
    return json.dumps(body).encode()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=1)
    ap.add_argument("--size", default="64x64")
    ap.add_argument("--target-mb", type=float, help="choose the size for about this many MB")
    ap.add_argument("--id")
    ap.add_argument("--status", default="COMPLETED")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--input-images", type=int, default=0)
    ap.add_argument("--pretty", action="store_true", help="smooth pictures instead of noise")
    a = ap.parse_args()
    if a.target_mb:
        side = size_for_mb(a.target_mb, a.images)
        size = (side, side)
    else:
        size = tuple(int(v) for v in a.size.split("x"))
    body, _ = callback(a.images, size, a.id, a.status, a.seed, input_images=a.input_images,
                       pretty=a.pretty)
    sys.stdout.buffer.write(encode(body))


if __name__ == "__main__":
    main()
