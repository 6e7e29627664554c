"""Textured, muted backgrounds so segmentation is not trivial.

Kinds: noise, gradient, stripes, clutter. Clutter uses thin lines and specks,
never vocabulary shapes, so no background mark can be mistaken for an object.
"""
import math

import numpy as np
from PIL import Image, ImageChops, ImageDraw

KINDS = ("noise", "gradient", "stripes", "clutter")
GRAIN_AMP = 7
# Background colours stay <= COLOR_MAX so adding grain modulo 256 never wraps
# (add_modulo is ~3x faster than a clipped add).
COLOR_MAX = 255 - 2 * GRAIN_AMP
_GRAIN_BANK = []  # a few full-size grain images, made once per process (deterministic)


def _muted(rng) -> np.ndarray:
    """A desaturated mid-tone: grey level plus a small tint."""
    return rng.uniform(70, 190) + rng.uniform(-25, 25, 3)


def _clip_u8(a) -> np.ndarray:
    return np.clip(a, 0, COLOR_MAX).astype(np.uint8)


def _jitter(rng, base, amp) -> tuple:
    """Base colour plus uniform jitter, as a clipped int tuple (cheap: no numpy clip)."""
    return tuple(min(COLOR_MAX, max(0, int(v))) for v in base + rng.uniform(-amp, amp, 3))


def _smooth_field(rng, h, w, base, amp, cells) -> Image.Image:
    """Low-resolution random colours upsampled bilinearly: blotches or a gradient."""
    gh, gw = max(2, h // cells + 2), max(2, w // cells + 2)
    lum = rng.uniform(-amp, amp, (gh, gw, 1))
    small = _clip_u8(base + lum + rng.uniform(-amp / 3, amp / 3, (gh, gw, 3)))
    # Bilinear at quarter resolution, then nearest: 3x faster than a full-size
    # bilinear upscale, and the 4-px steps are hidden under the grain.
    quarter = Image.fromarray(small).resize((-(-w // 4), -(-h // 4)), Image.BILINEAR)
    return quarter.resize((w, h), Image.NEAREST)


def _grain_bank() -> list:
    """Per-pixel noise is too slow to draw per scene, so scenes crop a random
    window out of one of a few pre-made grain images (fixed seed: deterministic)."""
    if not _GRAIN_BANK:
        g = np.random.Generator(np.random.PCG64(0x5EED))
        for _ in range(4):
            arr = g.integers(0, 2 * GRAIN_AMP + 1, (1024 + 64, 1024 + 64, 3), dtype=np.uint8)
            _GRAIN_BANK.append(Image.fromarray(arr))
    return _GRAIN_BANK


def _add_grain(rng, img: Image.Image) -> Image.Image:
    w, h = img.size
    bank = _grain_bank()
    grain = bank[int(rng.integers(len(bank)))]
    ox, oy = (int(v) for v in rng.integers(0, 64, 2))
    window = grain.crop((ox, oy, ox + w, oy + h))
    return ImageChops.add_modulo(img, window)


def _stripes(rng, h, w, base) -> Image.Image:
    img = Image.new("RGB", (w, h), _jitter(rng, base, 0))
    draw = ImageDraw.Draw(img)
    other = _jitter(rng, base, 18)
    period, a = rng.uniform(16, 60), rng.uniform(0, math.pi)
    d = np.array([math.cos(a), math.sin(a)])  # across the stripes
    n = np.array([-d[1], d[0]])              # along the stripes
    reach = math.hypot(w, h)
    c = np.array([w / 2, h / 2])
    for k in np.arange(-reach / period, reach / period):
        p0 = c + d * k * period
        p1 = p0 + d * period * 0.5
        quad = [p0 - n * reach, p0 + n * reach, p1 + n * reach, p1 - n * reach]
        draw.polygon([tuple(map(float, q)) for q in quad], fill=other)
    return img


def _clutter(rng, h, w, base) -> Image.Image:
    img = _smooth_field(rng, h, w, base, 12, 256)
    draw = ImageDraw.Draw(img)
    area_k = h * w / 100_000
    for _ in range(int(rng.integers(4, 10) * area_k) + 5):   # thin strokes
        col = _jitter(rng, base, 35)
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        ln, a = rng.uniform(10, 0.3 * max(h, w)), rng.uniform(0, 2 * math.pi)
        draw.line([(x, y), (x + ln * math.cos(a), y + ln * math.sin(a))],
                  fill=col, width=int(rng.integers(1, 3)))
    for _ in range(int(rng.integers(20, 40) * area_k)):      # specks
        col = _jitter(rng, base, 35)
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.5, 2.5)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=col)
    return img


def make_background(rng, h: int, w: int):
    """Returns (RGB PIL image [h, w], kind, mean RGB as float array)."""
    kind = KINDS[int(rng.integers(len(KINDS)))]
    base = _muted(rng) - GRAIN_AMP  # grain is 0..2*amp: keep the mean where it was
    if kind == "noise":
        img = _smooth_field(rng, h, w, base, 30, int(rng.integers(24, 80)))
    elif kind == "gradient":
        img = _smooth_field(rng, h, w, base, 40, 100_000)  # 2x2 grid: corner-to-corner gradient
    elif kind == "stripes":
        img = _stripes(rng, h, w, base)
    else:
        img = _clutter(rng, h, w, base)
    return _add_grain(rng, img), kind, base
