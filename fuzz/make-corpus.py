#!/usr/bin/python3
"""Writes the fuzz targets' seed corpora into fuzz/corpus/<target>/ (run from the top folder).

The seeds are small valid inputs, so libFuzzer starts from deep paths: PNGs with every
text chunk kind, palette and 16-bit PNGs, the JPEG and WebP images of the unit tests,
RunPod callbacks of each worker shape (besides tests/golden/*.json, which the payload
target reads directly), base64 texts, and token/redaction/signature inputs.
Deterministic: running it again rewrites the same files.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import struct
import sys
import zlib

sys.path.insert(0, "tests")
import callbacks  # noqa: E402


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)


def png(w, h, depth=8, color=2, extra=(), interlace=0, rows=None):
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color]
    stride = (w * channels * depth + 7) // 8
    raw = rows if rows is not None else b"".join(b"\0" + bytes((x + y) & 0xff for x in range(stride))
                                                 for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, interlace)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    for kind, data in extra:
        out += chunk(kind, data)
    return out + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def c_arrays(path):
    """The `static const unsigned char name[] = {...}` arrays of a C file."""
    text = open(path).read()
    found = {}
    for m in re.finditer(r"static const unsigned char (\w+)\[\d*\] = \{([^}]*)\}", text):
        found[m.group(1)] = bytes(int(v, 0) for v in re.findall(r"0x[0-9a-fA-F]+|\d+", m.group(2)))
    return found


def write(target, name, data):
    d = os.path.join("fuzz", "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def images():
    write("image", "rgb8.png", png(8, 8))
    write("image", "text.png", png(8, 8, extra=[(b"tEXt", b"parameters\0a cat, Steps: 20")]))
    write("image", "ztxt.png", png(8, 8, extra=[(b"zTXt", b"prompt\0\0" + zlib.compress(b'{"1": {}}' * 20))]))
    write("image", "itxt.png", png(8, 8, extra=[(b"iTXt", b"parameters\0\0\0\0\0" + "ünï 🎨".encode()),
                                                (b"iTXt", b"workflow\0\1\0en\0\0" + zlib.compress(b"{}" * 50))]))
    write("image", "iccp.png", png(8, 8, extra=[(b"iCCP", b"sRGB\0\0" + zlib.compress(b"\0" * 300))]))
    write("image", "palette.png", png(4, 4, 8, 3, extra=[(b"PLTE", bytes(range(12))), (b"tRNS", b"\0\x80")]))
    write("image", "gray16.png", png(3, 3, 16, 0))
    write("image", "rgba-interlaced.png", png(5, 5, 8, 6, interlace=1))
    write("image", "bomb.png", png(2, 2, extra=[(b"zTXt", b"c\0\0" + zlib.compress(b"\0" * (1 << 20), 9))]))
    for name in ("tiny.jpg", "tiny.webp", "tiny-lossless.webp"):
        with open(os.path.join("tests", "fixtures", name), "rb") as f:
            write("image", name, f.read())
    # One real file of every container (GIF, APNG, AVIF, HEIF, MP4, MOV, WebM, Matroska, ...).
    media = os.path.join("tests", "fixtures", "media")
    for name in sorted(os.listdir(media)):
        if name != "README":
            with open(os.path.join(media, name), "rb") as f:
                write("image", "media-" + name, f.read())
    arrays = c_arrays(os.path.join("tests", "unit", "test_image.c"))
    for name in ("jpeg_rst", "jpeg_prog", "webp_vp8l", "webp_vp8", "webp_vp8x"):
        if name in arrays:
            write("image", name + (".jpg" if name.startswith("jpeg") else ".webp"), arrays[name])


def payloads():
    body, _ = callbacks.callback(2, (8, 8), jid="sync-fuzz-1", seed=3, input_images=1)
    write("payload", "a1111.json", json.dumps(body).encode())
    write("payload", "comfy5.json", json.dumps({
        "id": "c5", "status": "COMPLETED", "output": {"images": [
            {"filename": "a.png", "type": "base64", "data": base64.b64encode(png(2, 2)).decode()},
            {"filename": "b.png", "type": "s3_url", "data": "https://bucket.invalid/b.png"}],
            "errors": ["node 7 failed"]}}).encode())
    write("payload", "sdxl.json", json.dumps({
        "id": "sd", "status": "COMPLETED", "output": {
            "images": ["data:image/png;base64," + base64.b64encode(png(2, 2)).decode()],
            "image_url": "data:image/png;base64," + base64.b64encode(png(2, 2)).decode(), "seed": 1}}).encode())
    write("payload", "failed-json-error.json", json.dumps({
        "id": "f", "status": "FAILED", "error": json.dumps({"error_type": "ValueError",
                                                          "error_message": "bad", "hostname": "h"})}).encode())
    write("payload", "hostile.json", b'{"id": "../a\\u0000", "id": "b\\ud800", "status": 1e999, '
          b'"delayTime": 18446744073709551616, "executionTime": -1, "workerId": "\\u001b[31m", '
          b'"webhook": "https://h/x?token=abc&token=", "output": {"images": ["", "====", "data:", '
          b'"data:image/png;base64,", "s3://b/k"], "info": "{\\"infotexts\\": [1, \\"x\\"]}", '
          b'"message": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="}}')


def base64s():
    for i, raw in enumerate((b"", b"f", b"fo", b"foo", bytes(range(256)), png(2, 2))):
        write("base64", "enc-%d.txt" % i, base64.b64encode(raw))
    write("base64", "wrapped.txt", base64.encodebytes(bytes(range(200))))
    write("base64", "padding.txt", b"QQ==\r\n  ")
    write("base64", "bad.txt", b"QQ=A")


def auth_inputs():
    key = base64.b64decode("abcdefghijklmnopqrstuvwx")
    body = b'{"id": "x", "webhook": "https://h/hook/fixed-token-0123456789?token=fixed-token-0123456789"}'
    ts = b"1767225600"
    sig = b"v1," + base64.b64encode(hmac.new(key, b"msg_1." + ts + b"." + body, hashlib.sha256).digest())
    write("auth", "signed.txt", b"\n".join([b"tok", b"token=fixed-token-0123456789", b"/hook/x",
                                            b"msg_1", ts, b"v1a,xx " + sig, body]))
    write("auth", "redact.txt", b"\n".join([b"abcdefghijklmnop", b"a=1&token=%61bc", b"/x/abcdefghijklmnop",
                                            b"", b"", b"",
                                            b"token=&token=abcdefghijklmnopq abcdefghijklmnop whsec_"
                                            b"abcdefghijklmnopqrstuvwx REDACTED"]))


if __name__ == "__main__":
    images()
    payloads()
    base64s()
    auth_inputs()
