"""Scene generation: sample objects, place them with occlusion limits, paint them."""
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .background import make_background
from .render import MAX_ROTATION_DEG, outline, pattern_mask, rasterise, shade_of
from .vocab import COLORS, COLOR_NAMES, PATTERNS, SHAPES, SIZE_RANGES, SIZES, article

MIN_SIDE, MAX_SIDE = 320, 1024
MIN_VISIBLE_FRACTION = 0.6   # every object keeps >= 60 % of its own area
MIN_VISIBLE_PIXELS = 150
BG_MIN_DISTANCE = 70.0       # object base colour vs background mean (RGB distance)
PLACEMENT_TRIES = 40
OVERLAP_BIAS = 0.35          # chance a placement aims near an earlier object


@dataclass
class Expression:
    text: str
    target: int   # index into Scene.objects
    kind: str     # "spatial" | "comparative" | "distractor"


@dataclass
class SceneObject:
    shape: str
    color: str
    size: str
    pattern: str
    rgb: tuple          # exact fill colour (after jitter)
    shade_rgb: tuple    # exact pattern colour (unused when plain)
    angle: float
    diameter: float
    position: tuple     # polygon centre (x, y) as placed: re-rasterises the full footprint
    mask: np.ndarray = None            # bool [H, W], visible pixels after occlusion
    caption_unique: bool = False
    bbox_xywh: tuple = (0, 0, 0, 0)
    area: int = 0
    center: tuple = (0.0, 0.0)         # centroid (x, y) of the visible mask

    @property
    def attributes(self) -> tuple:
        return (self.shape, self.color, self.size, self.pattern)

    @property
    def caption(self) -> str:
        pat = "" if self.pattern == "plain" else self.pattern + " "
        return f"a {self.size} {pat}{self.color} {self.shape}"

    def caption_variants(self) -> list:
        """Shorter phrasings for training augmentation (all true of this object)."""
        s, c, z, p = self.shape, self.color, self.size, self.pattern
        out = [self.caption, f"{article(c)} {c} {s}", f"the {z} {s}", f"a {s}", f"the {c} {s}",
               f"a {z} {c} {s}", f"a {z} {s}"]
        if p != "plain":
            out += [f"a {p} {s}", f"a {p} {c} {s}", f"the {p} {s}"]
        return list(dict.fromkeys(out))


@dataclass
class Scene:
    seed: int
    width: int
    height: int
    image: np.ndarray
    objects: list
    expressions: list = field(default_factory=list)
    background: str = ""
    variant: str = ""                  # "" for the split's scenes, "robust" for robust.robust_scene
    occluded: np.ndarray = None        # robust scenes: bool [H, W], pixels under occluder patches


def _object_spec(rng, bg_mean, shape=None, color=None, size=None, pattern=None) -> dict:
    """Attributes for one object; colours too close to the background are re-drawn."""
    if color is None:
        while True:
            color = COLOR_NAMES[int(rng.integers(len(COLOR_NAMES)))]
            if np.linalg.norm(np.array(COLORS[color]) - bg_mean) >= BG_MIN_DISTANCE:
                break
    return {"shape": shape or SHAPES[int(rng.integers(len(SHAPES)))], "color": color,
            "size": size or SIZES[int(rng.integers(len(SIZES)))],
            "pattern": pattern or PATTERNS[int(rng.integers(len(PATTERNS)))]}


def _planted_pair(rng, bg_mean) -> list:
    """Two objects of one colour+shape: look-alikes, or a small/large two-of-a-kind."""
    a = _object_spec(rng, bg_mean)
    if rng.random() < 0.5:  # look-alikes: size and pattern often equal too
        b = dict(a)
        if rng.random() < 0.5:
            b["size"] = SIZES[int(rng.integers(2))]
        if rng.random() < 0.5:
            b["pattern"] = PATTERNS[int(rng.integers(3))]
        return [a, b]
    a["size"] = "small"
    return [a, _object_spec(rng, bg_mean, a["shape"], a["color"], "large")]


def _sample_specs(rng, bg_mean) -> list:
    n = int(rng.integers(2, 9))
    specs = _planted_pair(rng, bg_mean) if rng.random() < 0.5 else []
    specs += [_object_spec(rng, bg_mean) for _ in range(n - len(specs))]
    return [specs[i] for i in rng.permutation(len(specs))]


def _centre(rng, ext, w_img, h_img, placed) -> tuple:
    """Uniform centre, or (often) one near an earlier object so scenes overlap partly."""
    if placed and rng.random() < OVERLAP_BIAS:
        px, py, pd = placed[int(rng.integers(len(placed)))]
        reach = 0.5 * pd + ext.max()
        cx = px + rng.uniform(-reach, reach)
        cy = py + rng.uniform(-reach, reach)
        return min(max(cx, ext[0]), w_img - ext[0]), min(max(cy, ext[1]), h_img - ext[1])
    return rng.uniform(ext[0], w_img - ext[0]), rng.uniform(ext[1], h_img - ext[1])


def _try_place(rng, spec, labels, full, visible, placed):
    """One placement attempt; returns (obj, x0, y0, footprint, new_visible) or None."""
    h_img, w_img = labels.shape
    lo, hi = SIZE_RANGES[spec["size"]]
    diameter = rng.uniform(lo, hi) * min(h_img, w_img)
    limit = MAX_ROTATION_DEG.get(spec["shape"], 180.0)
    angle = rng.uniform(-limit, limit)
    poly = outline(spec["shape"], diameter, angle)
    ext = np.abs(poly).max(0) + 3
    if 2 * ext[0] >= w_img or 2 * ext[1] >= h_img:
        return None
    cx, cy = _centre(rng, ext, w_img, h_img, placed)
    x0, y0, foot_img, foot = rasterise(poly, cx, cy)
    area = int(foot.sum())
    if area < MIN_VISIBLE_PIXELS / MIN_VISIBLE_FRACTION:
        return None
    under = labels[y0:y0 + foot.shape[0], x0:x0 + foot.shape[1]][foot]
    lost = np.bincount(under, minlength=len(full) + 1)[1:]
    new_visible = visible - lost
    if len(full) and ((new_visible < MIN_VISIBLE_FRACTION * full).any()
                      or (new_visible < MIN_VISIBLE_PIXELS).any()):
        return None
    return angle, diameter, (cx, cy), x0, y0, foot_img, foot, area, new_visible


def _paint(rng, canvas, spec, x0, y0, foot_img, foot, diameter) -> tuple:
    """Fill the footprint with the jittered colour, then the pattern shade on top
    (PIL paste through the exact footprint mask); returns (rgb, shade)."""
    rgb = tuple(min(255, max(0, c + int(j))) for c, j in zip(COLORS[spec["color"]], rng.integers(-12, 13, 3)))
    shade = shade_of(rgb)
    canvas.paste(rgb, (x0, y0, x0 + foot.shape[1], y0 + foot.shape[0]), foot_img)
    if spec["pattern"] != "plain":
        pm = pattern_mask(spec["pattern"], *foot.shape, diameter, max(canvas.size), rng) & foot
        canvas.paste(shade, (x0, y0, x0 + foot.shape[1], y0 + foot.shape[0]), Image.fromarray(pm))
    return rgb, shade


def _finish(obj: SceneObject, mask: np.ndarray) -> None:
    """Derived fields from the visible mask."""
    obj.mask = mask
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    obj.bbox_xywh = (int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))
    ys, xs = np.nonzero(mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])
    obj.area = int(len(xs))
    obj.center = (float(xs.mean() + cols[0] + 0.5), float(ys.mean() + rows[0] + 0.5))


def scene_start(seed: int) -> tuple:
    """The first draws of a seed's scene: (rng, width, height, background canvas, kind, bg mean).
    Shared with the robustness variant (robust.py), which repaints the same background."""
    rng = np.random.Generator(np.random.PCG64(seed))
    w, h = (int(v) for v in rng.integers(MIN_SIDE, MAX_SIDE + 1, 2))
    canvas, kind, bg_mean = make_background(rng, h, w)
    return rng, w, h, canvas, kind, bg_mean


def generate_scene(seed: int) -> Scene:
    """Deterministic scene for a seed (numpy PCG64)."""
    from .expressions import make_expressions  # late import: expressions uses Scene types

    rng, w, h, canvas, kind, bg_mean = scene_start(seed)
    labels = np.zeros((h, w), np.uint8)  # 0 = background, i + 1 = object i (painter's order)
    objects, full, visible, centres = [], np.zeros(0), np.zeros(0), []
    for spec in _sample_specs(rng, bg_mean):
        for _ in range(PLACEMENT_TRIES):
            placed = _try_place(rng, spec, labels, full, visible, centres)
            if placed is not None:
                break
        else:
            continue  # could not fit this object without hiding another: drop it
        angle, diameter, (cx, cy), x0, y0, foot_img, foot, area, visible = placed
        centres.append((cx, cy, diameter))
        labels[y0:y0 + foot.shape[0], x0:x0 + foot.shape[1]][foot] = len(objects) + 1
        rgb, shade = _paint(rng, canvas, spec, x0, y0, foot_img, foot, diameter)
        objects.append(SceneObject(rgb=rgb, shade_rgb=shade, angle=angle, diameter=diameter,
                                   position=(cx, cy), **spec))
        full, visible = np.append(full, area), np.append(visible, area)
    for i, obj in enumerate(objects):
        _finish(obj, labels == i + 1)
        obj.caption_unique = sum(o.attributes == obj.attributes for o in objects) == 1
    scene = Scene(seed=seed, width=w, height=h, image=np.array(canvas), objects=objects, background=kind)
    scene.expressions = make_expressions(scene, rng)
    return scene
