#!/usr/bin/python3
"""Writes realistic RunPod A1111-worker callback bodies for the benchmark.

usage: gen.py OUTDIR [NAME...]     (NAME: small batch4 big huge; default all)

Each body is a COMPLETED txt2img/img2img status record with real PNGs that look
like photographs (smooth shapes, gradients and film grain, compressing like a
Stable Diffusion output, not like noise), carrying A1111's `parameters` text chunk.
The job id is the fixed PLACEHOLDER, which ihbench replaces per request.

  small   1 x 512x512                                 ~0.34 MB
  batch4  4 x 768x768                                 ~3 MB
  big     8 x 1024x1024                               ~10.5 MB
  huge    8 x 1536x1536 + 4 init images 2048x2048     ~40 MB (img2img)

Output is deterministic for a given Pillow version. Needs python3-pil.
"""
import base64
import io
import json
import multiprocessing
import os
import random
import sys

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps, PngImagePlugin

PLACEHOLDER = "sync-IHBENCH-JOB-ID-PLACEHOLDER"
PROMPT = "an astronaut riding a horse on the moon, highly detailed, 35mm photograph"
MODEL = "deliberate_v2"

# name: (images, width, height, init images, their width = height, seed)
SPECS = {
    "small": (1, 512, 512, 0, 0, 11),
    "batch4": (4, 768, 768, 0, 0, 22),
    "big": (8, 1024, 1024, 0, 0, 33),
    "huge": (8, 1536, 1536, 4, 2048, 44),
}


def smooth_noise(rnd, w, h, cell):
    """Value noise: random values on a coarse grid, bicubically enlarged."""
    gw, gh = max(2, w // cell + 2), max(2, h // cell + 2)
    grid = Image.frombytes("L", (gw, gh), rnd.randbytes(gw * gh))
    return grid.resize((w, h), Image.BICUBIC)


def fractal_noise(rnd, w, h, octaves):
    """Detail at every scale, weaker as it gets finer, like natural textures."""
    layer = smooth_noise(rnd, w, h, max(w, h) // 3)
    for cell, weight in octaves:
        layer = Image.blend(layer, smooth_noise(rnd, w, h, max(2, cell)), weight)
    return ImageOps.autocontrast(layer)


def vertical_gradient(w, h, top, bottom):
    ramp = Image.linear_gradient("L").resize((w, h))
    return Image.composite(Image.new("RGB", (w, h), bottom), Image.new("RGB", (w, h), top), ramp)


def photo_like(w, h, seed):
    """An RGB picture with the statistics of a photo: a sky over textured ground,
    a few shaded objects, soft focus and a little sensor grain."""
    rnd = random.Random(seed)

    def colour(lo, hi):
        return tuple(rnd.randint(lo, hi) for _ in range(3))

    sky = vertical_gradient(w, h, colour(20, 120), colour(140, 240))
    ground = vertical_gradient(w, h, colour(60, 160), colour(10, 80))
    texture = fractal_noise(rnd, w, h, ((w // 12, 0.5), (w // 48, 0.3), (4, 0.1)))
    ground = ImageChops.multiply(ground, Image.merge("RGB", (texture.point(lambda v: 96 + v * 5 // 8),) * 3))
    clouds = fractal_noise(rnd, w, h, ((w // 8, 0.4), (w // 32, 0.2)))
    sky = Image.composite(Image.new("RGB", (w, h), (235, 235, 240)), sky,
                          clouds.point(lambda v: max(0, v - 140) * 2))
    # A horizon that wanders like a range of hills.
    hills = smooth_noise(rnd, w, 1, max(2, w // 6)).resize((w, h), Image.BICUBIC)
    horizon = rnd.randint(h * 2 // 5, h * 3 // 5)
    ramp = Image.linear_gradient("L").resize((w, h))
    mask = ImageChops.add(ramp, hills.point(lambda v: v // 3), 1.0, -(horizon * 255 // h) + 128 - 42)
    mask = mask.point(lambda v: 255 if v >= 128 else 0).filter(ImageFilter.GaussianBlur(2))
    img = Image.composite(ground, sky, mask)
    # Shaded objects: a soft disc lit from the upper left.
    for _ in range(rnd.randint(2, 5)):
        r = rnd.randint(w // 14, w // 5)
        x, y = rnd.randrange(r, w - r), rnd.randrange(h // 3, h - r)
        disc = Image.new("L", (w, h), 0)
        ImageDraw.Draw(disc).ellipse((x - r, y - r, x + r, y + r), fill=255)
        light = Image.radial_gradient("L").resize((3 * r, 3 * r))
        shade = Image.new("L", (w, h), 255)
        shade.paste(light, (x - r // 3 - 3 * r // 2, y - r // 3 - 3 * r // 2))
        base = Image.new("RGB", (w, h), colour(30, 220))
        body = ImageChops.subtract(base, Image.merge("RGB", (shade,) * 3).point(lambda v: v * 2 // 3))
        img = Image.composite(body, img, disc.filter(ImageFilter.GaussianBlur(1.5)))
    img = img.filter(ImageFilter.GaussianBlur(0.8))
    # Film grain: what keeps real photos from compressing to nothing.
    grain = Image.frombytes("L", (w, h), rnd.randbytes(w * h)).point(lambda v: 126 + v // 52)
    return ImageChops.add(img, Image.merge("RGB", (grain,) * 3), 1.0, -128)


def png_base64(job):
    """job: (width, height, seed, infotext) -> the PNG in base64, as A1111 sends it."""
    w, h, seed, text = job
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", text)  # A1111's convention (enable_pnginfo)
    buf = io.BytesIO()
    photo_like(w, h, seed).save(buf, "PNG", pnginfo=info)
    return base64.b64encode(buf.getvalue()).decode()


def infotext(seed, w, h, denoise=None):
    extra = ", Denoising strength: %.2f" % denoise if denoise is not None else ""
    return ("%s\nSteps: 30, Sampler: DPM++ SDE Karras, CFG scale: 7.0, Seed: %d, "
            "Size: %dx%d, Model: %s%s, Version: 1.5.1" % (PROMPT, seed, w, h, MODEL, extra))


def callback(pool, n, w, h, n_init, init_size, seed):
    """The body RunPod posts when an A1111 job completes."""
    rnd = random.Random(seed)
    img2img = n_init > 0
    params = {"prompt": PROMPT, "negative_prompt": "blurry, lowres", "seed": -1,
              "batch_size": n, "steps": 30, "cfg_scale": 7, "width": w, "height": h,
              "sampler_name": "DPM++ SDE Karras", "sampler_index": "DPM++ SDE Karras",
              "restore_faces": False}
    if img2img:
        params["denoising_strength"] = 0.55
        params["init_images"] = pool.map(png_base64, [
            (init_size, init_size, seed * 1000 + 500 + i, "init image") for i in range(n_init)])
    seeds = [rnd.randint(0, 2**32 - 1) for _ in range(n)]
    texts = [infotext(s, w, h, 0.55 if img2img else None) for s in seeds]
    info = {"prompt": PROMPT, "all_prompts": [PROMPT] * n, "seed": seeds[0],
            "all_seeds": seeds, "width": w, "height": h,
            "sampler_name": params["sampler_name"], "cfg_scale": 7.0, "steps": 30,
            "batch_size": n, "infotexts": texts}
    images = pool.map(png_base64, [(w, h, seed * 1000 + i, texts[i]) for i in range(n)])
    out_params = {k: v for k, v in params.items() if k != "init_images"}
    if img2img:
        out_params["init_images"] = None  # A1111 does not echo them in output
    endpoint = "/sdapi/v1/img2img" if img2img else "/sdapi/v1/txt2img"
    return {
        "delayTime": rnd.randint(100, 90000),
        "executionTime": rnd.randint(1000, 60000),
        "id": PLACEHOLDER,
        "input": {"api": {"method": "POST", "endpoint": endpoint}, "payload": params},
        "output": {"images": images, "info": json.dumps(info), "parameters": out_params},
        "status": "COMPLETED",
        "webhook": "https://example.invalid/callback?token=REDACTME",
        "workerId": "ihbench%08x" % rnd.getrandbits(32),
    }


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        sys.stderr.write(__doc__)
        return 2
    out, names = argv[1], argv[2:] or list(SPECS)
    unknown = [n for n in names if n not in SPECS]
    if unknown:
        sys.stderr.write("gen.py: unknown payload %s (known: %s)\n"
                         % (", ".join(unknown), " ".join(SPECS)))
        return 2
    os.makedirs(out, exist_ok=True)
    with multiprocessing.Pool() as pool:
        bodies = [(name, json.dumps(callback(pool, *SPECS[name])).encode()) for name in names]
    for name, body in bodies:
        path = os.path.join(out, name + ".json")
        with open(path + ".tmp", "wb") as f:
            f.write(body)
        os.replace(path + ".tmp", path)
        print("%s %d" % (name, len(body)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
