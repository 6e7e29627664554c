"""Canonical model-input geometry (docs/model-pack.md). TypeScript reproduces
this exactly, so every step is spelled out: no library 'auto' behaviour.

Normalisation is computed in float64 and stored as float32, like JavaScript
doubles written into a Float32Array.
"""
import math

import numpy as np
from PIL import Image

ALPHA_MEAN, ALPHA_STD = 0.5, 0.26


def resize_longest_side_size(h: int, w: int, S: int) -> tuple:
    """SAM's ResizeLongestSide: (newH, newW) with floor(x * scale + 0.5)."""
    scale = S / max(h, w)
    return int(math.floor(h * scale + 0.5)), int(math.floor(w * scale + 0.5))


def segmenter_input(img: np.ndarray, S: int, mean, std) -> np.ndarray:
    """uint8 [H, W, 3] -> float32 [3, S, S]: resize (PIL bilinear, antialiased),
    normalise in 0..255 units, then zero-pad bottom/right."""
    h, w = img.shape[:2]
    nh, nw = resize_longest_side_size(h, w, S)
    resized = np.asarray(Image.fromarray(img).resize((nw, nh), Image.BILINEAR), np.float64)
    out = np.zeros((3, S, S), np.float32)
    norm = (resized - np.asarray(mean, np.float64)) / np.asarray(std, np.float64)
    out[:, :nh, :nw] = norm.transpose(2, 0, 1)
    return out


def pad_offset(h: int, w: int) -> tuple:
    """(L, x offset, y offset) of the centred square canvas."""
    L = max(h, w)
    return L, (L - w) // 2, (L - h) // 2


def mean_fill(mean) -> tuple:
    """round(mean * 255), half-up like JavaScript's Math.round."""
    return tuple(int(math.floor(m * 255 + 0.5)) for m in mean)


def embedder_image(img: np.ndarray, E: int, mean, std) -> np.ndarray:
    """uint8 [H, W, 3] -> float32 [3, E, E]: centred pad with the mean colour,
    PIL bilinear resize L x L -> E x E, /255, normalise."""
    h, w = img.shape[:2]
    L, ox, oy = pad_offset(h, w)
    canvas = Image.new("RGB", (L, L), mean_fill(mean))
    canvas.paste(Image.fromarray(img), (ox, oy))
    small = np.asarray(canvas.resize((E, E), Image.BILINEAR), np.float64) / 255.0
    norm = (small - np.asarray(mean, np.float64)) / np.asarray(std, np.float64)
    return norm.transpose(2, 0, 1).astype(np.float32)


def alpha_fraction(mask: np.ndarray, E: int) -> np.ndarray:
    """bool [H, W] -> float [E, E] in 0..1: centred pad with 0, then area average (PIL BOX)."""
    h, w = mask.shape
    L, ox, oy = pad_offset(h, w)
    canvas = np.zeros((L, L), np.float32)
    canvas[oy:oy + h, ox:ox + w] = mask
    return np.asarray(Image.fromarray(canvas, mode="F").resize((E, E), Image.BOX), np.float64)


def embedder_alpha(mask: np.ndarray, E: int, alpha_mean=ALPHA_MEAN, alpha_std=ALPHA_STD) -> np.ndarray:
    """bool [H, W] -> float32 [1, E, E], normalised (a - mean) / std."""
    a = alpha_fraction(mask, E)
    return ((a - alpha_mean) / alpha_std).astype(np.float32)[None]


def embedder_alpha_full(E: int, alpha_mean=ALPHA_MEAN, alpha_std=ALPHA_STD) -> np.ndarray:
    """Whole-image alpha: 1 everywhere, padding included."""
    return np.full((1, E, E), (1.0 - alpha_mean) / alpha_std, np.float32)


def embedder_alpha_batch(masks, E: int, alpha_mean=ALPHA_MEAN, alpha_std=ALPHA_STD) -> np.ndarray:
    """Several masks of one image -> float32 [B, 1, E, E] (same result as embedder_alpha)."""
    if len(masks) == 0:
        return np.zeros((0, 1, E, E), np.float32)
    return np.stack([embedder_alpha(m, E, alpha_mean, alpha_std) for m in masks])
