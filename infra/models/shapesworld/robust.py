"""Robustness variant of a scene: the same objects as users photograph them, turned and partly hidden.

``robust_scene(seed)`` takes the seed's own scene (``generate_scene(seed)``: same size, background,
objects, colours, sizes, patterns, centres and painter's order) and re-renders it with:

* Rotation. Every object is turned away from its pose in the original scene. Shapes whose names do
  not depend on orientation (circle, triangle, star, hexagon, cross, heart) may take any angle: the
  turn is uniform over [MIN_TURN_DEG, period - MIN_TURN_DEG] of the shape's rotational symmetry period
  (triangle 120, star 72, hexagon 60, cross 90, heart 360 degrees; at most a quarter period), so the
  new pose never looks like the old one; a circle only gets a new (invisible) angle. Square and
  diamond keep the generator's +-20 degree limit (MAX_ROTATION_DEG: a square turned 45 degrees reads
  as a diamond, a diamond turned 90 degrees as a wide rhombus), at least ROTATION_LIMITED_TURN_DEG
  away from the original angle. Size, colour and pattern do not change, so every caption stays true.
  A centre moves only where the turned outline would leave the frame.
* Occlusion. Each object is chosen with probability OCCLUDE_PROBABILITY (at least one per scene) to
  be partly covered by an occluder patch: an opaque, grainy, muted rectangle (not a vocabulary shape;
  at least OCCLUDER_MIN_ASPECT times as long as wide, so never a square) that slides in from a random
  direction and covers a fraction drawn from OCCLUDED_FRACTION (10-40 %) of what was visible of the
  object. Patches are painted last, over everything; they may also cover neighbours. Objects keep
  covering each other in painter's order too, and the turned outlines change those overlaps.

Ground truth: each object's mask is its visible part only (its turned footprint minus later objects
and minus every patch), and bbox / area / centre / RLE are recomputed from it. Two more fields:
``visible_fraction`` = visible pixels / the turned object's full footprint, and ``query_target``:

* an object is a query target iff visible_fraction >= MIN_TARGET_VISIBLE_FRACTION (0.5) and it keeps
  at least MIN_TARGET_PIXELS (150) visible pixels; an object with no visible pixel left is dropped;
* ``caption_unique`` (what the evaluation uses for attribute queries) is true only for query targets
  whose attributes no other object of the scene shares (hidden ones included: they are in the photo);
* expressions are recomputed from the visible masks (shapesworld.expressions with ``eligible``):
  targets and spatial anchors are query targets; a compared or left/right pair needs both members to
  be query targets; non-targets still count as candidates, so every expression stays unambiguous.
  "the larger / smaller of the two ..." needs the 1.6 size ratio both in full footprints (real size)
  and in visible areas (what the photo shows), so it is true whichever a user means.

All extra draws come from their own stream (seed, ROBUST_STREAM): the split's own scenes are untouched.
"""
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from .background import _muted
from .render import MAX_ROTATION_DEG, outline, pattern_mask, rasterise
from .scene import BG_MIN_DISTANCE, MIN_VISIBLE_PIXELS, Scene, SceneObject, _finish, generate_scene, scene_start

VARIANT = "robust"
ROBUST_STREAM = 0x0B57
MIN_TURN_DEG = 15.0
ROTATION_LIMITED_TURN_DEG = 10.0
# Rotational symmetry period of each outline in degrees (0: any rotation looks the same).
SYMMETRY_DEG = {"circle": 0.0, "square": 90.0, "triangle": 120.0, "star": 72.0, "hexagon": 60.0,
                "cross": 90.0, "heart": 360.0, "diamond": 180.0}
OCCLUDE_PROBABILITY = 0.5
OCCLUDED_FRACTION = (0.10, 0.40)
OCCLUDER_MIN_ASPECT = 1.8
OCCLUDER_GRAIN = 8
MIN_TARGET_VISIBLE_FRACTION = 0.5
MIN_TARGET_PIXELS = MIN_VISIBLE_PIXELS


@dataclass
class RobustObject(SceneObject):
    original_angle: float = 0.0     # the pose in the seed's own scene
    full_area: int = 0              # pixels of the turned, unoccluded footprint
    visible_fraction: float = 1.0   # area / full_area
    patch_fraction: float = 0.0     # share of its visible pixels its own patch was drawn to cover (0: none)
    query_target: bool = True


def _wrap(angle: float) -> float:
    """Into [-180, 180)."""
    return (angle + 180.0) % 360.0 - 180.0


def turned_angle(rng, shape: str, angle: float) -> float:
    """A new angle for an object at ``angle``, visibly turned where the shape allows (module docstring)."""
    limit = MAX_ROTATION_DEG.get(shape)
    if limit is not None:  # uniform over [-limit, limit] minus (angle - T, angle + T)
        t = ROTATION_LIMITED_TURN_DEG
        low = max(0.0, (angle - t) - (-limit))   # length of [-limit, angle - t]
        high = max(0.0, limit - (angle + t))     # length of [angle + t, limit]
        u = rng.uniform(0.0, low + high)
        return float(-limit + u if u < low else angle + t + (u - low))
    period = SYMMETRY_DEG[shape]
    if period == 0:
        return float(rng.uniform(-180.0, 180.0))
    margin = min(MIN_TURN_DEG, period / 4)
    return float(_wrap(angle + rng.uniform(margin, period - margin)))


def visible_turn(shape: str, before: float, after: float) -> float:
    """How far ``after`` looks turned from ``before`` (degrees, modulo the shape's symmetry)."""
    period = SYMMETRY_DEG[shape] or 360.0
    d = (after - before) % period
    return min(d, period - d)


def _occluder(rng, visible: np.ndarray, diameter: float, fraction: float, h: int, w: int) -> np.ndarray:
    """Bool [h, w] of a rectangle covering about ``fraction`` of ``visible``'s pixels from one side."""
    theta = rng.uniform(0.0, 2 * math.pi)
    c, s = math.cos(theta), math.sin(theta)
    ys, xs = np.nonzero(visible)
    px, py = xs + 0.5, ys + 0.5
    p, q = px * c + py * s, -px * s + py * c        # along / across the direction the patch comes from
    pad = 0.1 * diameter + 3
    p0, p1 = float(p.min()) - pad, float(np.quantile(p, fraction))
    q0, q1 = float(q.min()) - pad, float(q.max()) + pad
    length = max(q1 - q0, OCCLUDER_MIN_ASPECT * (p1 - p0))
    mid = (q0 + q1) / 2
    q0, q1 = mid - length / 2, mid + length / 2
    # (p, q) -> (x, y); minus 0.5: PIL's polygon coordinates are pixel centres.
    corners = [(pp * c - qq * s - 0.5, pp * s + qq * c - 0.5) for pp, qq in ((p0, q0), (p1, q0), (p1, q1), (p0, q1))]
    img = Image.new("L", (w, h), 0)
    ImageDraw.Draw(img).polygon(corners, fill=255)
    return np.asarray(img) > 0


def _occluder_colour(rng, avoid_rgb) -> np.ndarray:
    """A muted colour clearly unlike the object it covers (so the cut is visible)."""
    for _ in range(50):
        base = _muted(rng)
        if np.linalg.norm(base - np.asarray(avoid_rgb, float)) >= BG_MIN_DISTANCE:
            return base
    return np.array([255.0, 255.0, 255.0]) - np.asarray(avoid_rgb, float)  # complement: far by construction


def robust_scene(seed: int) -> Scene:
    """The robustness variant of ``generate_scene(seed)`` (module docstring); deterministic per seed."""
    from .expressions import make_expressions

    base = generate_scene(seed)
    rng = np.random.Generator(np.random.PCG64([seed, ROBUST_STREAM]))
    _, w, h, canvas, kind, _ = scene_start(seed)
    labels = np.zeros((h, w), np.uint8)  # as generate_scene: i + 1 = object i, painter's order
    objects = []
    for i, o in enumerate(base.objects):
        angle = turned_angle(rng, o.shape, o.angle)
        poly = outline(o.shape, o.diameter, angle)
        ext = np.abs(poly).max(0) + 3
        cx = min(max(o.position[0], ext[0]), w - ext[0])
        cy = min(max(o.position[1], ext[1]), h - ext[1])
        x0, y0, foot_img, foot = rasterise(poly, cx, cy)
        box = (x0, y0, x0 + foot.shape[1], y0 + foot.shape[0])
        canvas.paste(o.rgb, box, foot_img)
        if o.pattern != "plain":
            pm = pattern_mask(o.pattern, *foot.shape, o.diameter, max(w, h), rng) & foot
            canvas.paste(o.shade_rgb, box, Image.fromarray(pm))
        labels[y0:y0 + foot.shape[0], x0:x0 + foot.shape[1]][foot] = i + 1
        objects.append(RobustObject(
            shape=o.shape, color=o.color, size=o.size, pattern=o.pattern, rgb=o.rgb, shade_rgb=o.shade_rgb,
            angle=angle, diameter=o.diameter, position=(cx, cy), original_angle=o.angle, full_area=int(foot.sum())))
    image = np.array(canvas)
    occluded = np.zeros((h, w), bool)
    chosen = rng.random(len(objects)) < OCCLUDE_PROBABILITY
    if not chosen.any():
        chosen[int(rng.integers(len(objects)))] = True
    for i in rng.permutation(len(objects)):
        if not chosen[i]:
            continue
        obj = objects[i]
        visible = (labels == i + 1) & ~occluded
        if visible.sum() < MIN_TARGET_PIXELS:
            continue  # hardly anything left to hide
        obj.patch_fraction = float(rng.uniform(*OCCLUDED_FRACTION))
        patch = _occluder(rng, visible, obj.diameter, obj.patch_fraction, h, w)
        colour = _occluder_colour(rng, obj.rgb)
        grain = rng.integers(-OCCLUDER_GRAIN, OCCLUDER_GRAIN + 1, (int(patch.sum()), 3))
        image[patch] = np.clip(colour + grain, 0, 255).astype(np.uint8)
        occluded |= patch
    kept = []
    for i, obj in enumerate(objects):
        mask = (labels == i + 1) & ~occluded
        if not mask.any():
            continue  # nothing of it is left in the picture
        _finish(obj, mask)
        obj.visible_fraction = obj.area / obj.full_area
        obj.query_target = obj.visible_fraction >= MIN_TARGET_VISIBLE_FRACTION and obj.area >= MIN_TARGET_PIXELS
        kept.append(obj)
    for obj in kept:
        obj.caption_unique = obj.query_target and sum(o.attributes == obj.attributes for o in kept) == 1
    scene = Scene(seed=seed, width=w, height=h, image=image, objects=kept, background=kind, variant=VARIANT,
                  occluded=occluded)
    scene.expressions = make_expressions(scene, rng, eligible=[o.query_target for o in kept],
                                         full_areas=[o.full_area for o in kept])
    return scene
