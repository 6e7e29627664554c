"""Rasterisation helpers: shape outlines, object fills, textured backgrounds.

Everything is drawn without antialiasing so masks are exact: a pixel either
belongs to an object or it does not.
"""
import math

import numpy as np
from PIL import Image, ImageDraw


def _regular(n: int, radius: float, phase: float = -math.pi / 2) -> np.ndarray:
    t = phase + np.arange(n) * 2 * math.pi / n
    return np.stack([np.cos(t), np.sin(t)], 1) * radius


def _fit_unit(pts: np.ndarray) -> np.ndarray:
    """Centre on the bbox and scale so the larger bbox side is 1 (the 'diameter')."""
    lo, hi = pts.min(0), pts.max(0)
    return (pts - (lo + hi) / 2) / (hi - lo).max()


def _star() -> np.ndarray:
    outer, inner = _regular(5, 1.0), _regular(5, 0.45, -math.pi / 2 + math.pi / 5)
    return np.stack([outer, inner], 1).reshape(-1, 2)


def _cross() -> np.ndarray:
    a, b = 1 / 6, 1 / 2  # arm half-width, arm half-length
    return np.array([(-a, -b), (a, -b), (a, -a), (b, -a), (b, a), (a, a),
                     (a, b), (-a, b), (-a, a), (-b, a), (-b, -a), (-a, -a)])


def _heart() -> np.ndarray:
    t = np.linspace(0, 2 * math.pi, 72, endpoint=False)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    return np.stack([x, y], 1)


# Unit outlines (image coordinates, y down), each fitting a 1x1 box.
OUTLINES = {
    "circle": _fit_unit(_regular(64, 1.0)),
    "square": _fit_unit(np.array([(-1, -1), (1, -1), (1, 1), (-1, 1)], float)),
    "triangle": _fit_unit(_regular(3, 1.0)),
    "star": _fit_unit(_star()),
    "hexagon": _fit_unit(_regular(6, 1.0, 0.0)),
    "cross": _fit_unit(_cross()),
    "heart": _fit_unit(_heart()),
    # A rhombus 1.5x taller than wide, so it never reads as a rotated square.
    "diamond": _fit_unit(np.array([(0, -1.5), (1, 0), (0, 1.5), (-1, 0)], float)),
}
# Squares and diamonds only rotate a little: a square at 45 degrees is a diamond.
MAX_ROTATION_DEG = {"square": 20.0, "diamond": 20.0}


def outline(shape: str, diameter: float, angle_deg: float) -> np.ndarray:
    """Polygon (N, 2) centred at the origin, rotated by angle_deg."""
    a = math.radians(angle_deg)
    rot = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    return OUTLINES[shape] @ rot * diameter


def rasterise(poly: np.ndarray, cx: float, cy: float):
    """Footprint of a polygon centred at (cx, cy) in a tight local box:
    (x0, y0, 'L' image with 255 inside, the same as a bool array)."""
    x0 = int(math.floor(cx + poly[:, 0].min())) - 1
    y0 = int(math.floor(cy + poly[:, 1].min())) - 1
    w = int(math.ceil(cx + poly[:, 0].max())) - x0 + 2
    h = int(math.ceil(cy + poly[:, 1].max())) - y0 + 2
    canvas = Image.new("L", (w, h), 0)
    pts = [(float(x + cx - x0), float(y + cy - y0)) for x, y in poly]
    ImageDraw.Draw(canvas).polygon(pts, fill=255)
    return x0, y0, canvas, np.asarray(canvas) > 0


def shade_of(rgb) -> tuple:
    """Contrasting shade of the same hue: lighter for near-black, otherwise darker.
    Light colours darken less, so white's shade stays well above gray."""
    r, g, b = rgb
    lum = (0.299 * r + 0.587 * g + 0.114 * b) / 255
    if lum < 0.2:
        return tuple(int(c + (255 - c) * 0.35) for c in rgb)
    factor = 0.72 if lum > 0.8 else 0.55
    return tuple(int(c * factor) for c in rgb)


def pattern_period(diameter: float, longest_side: int, per_diameter: float) -> float:
    """Stripe period / dot spacing in pixels.

    The embedder sees the whole image shrunk to ~112 px, so the period must be
    a few output pixels (>= 3 % of the longest side); it still scales with the
    object, and is capped so even a small object shows two periods.
    """
    period = max(12.0, diameter / per_diameter, 0.03 * longest_side)
    return min(period, max(8.0, diameter / 2.2))


def pattern_mask(pattern: str, h: int, w: int, diameter: float, longest_side: int, rng) -> np.ndarray:
    """Where the shade goes within an object's local box (False everywhere for plain)."""
    if pattern == "plain":
        return np.zeros((h, w), bool)
    yy, xx = np.ogrid[0:h, 0:w]
    if pattern == "striped":
        period = pattern_period(diameter, longest_side, 3.5)
        a = rng.uniform(0, math.pi)
        u = xx * math.cos(a) + yy * math.sin(a) + rng.uniform(0, period)
        return (u % period) < period * 0.45
    spacing = pattern_period(diameter, longest_side, 4.0)  # dotted: a jittered grid of round dots
    ox, oy = rng.uniform(0, spacing, 2)
    dx = (xx + ox) % spacing - spacing / 2
    dy = (yy + oy) % spacing - spacing / 2
    return dx * dx + dy * dy < (spacing * 0.3) ** 2
