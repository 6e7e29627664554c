"""Pre-rendered training data for CLIP-tiny and Alpha-CLIP-tiny, from the shapes world.

Everything goes through ``shapesworld.preprocess`` (the geometry the TypeScript side reproduces);
results are stored as uint8 (exactly invertible for images, 1/255 steps for alpha) so tens of
thousands of scenes fit in memory. Rendering runs in a multiprocessing pool.
"""
import os
import re
from multiprocessing import Pool

import numpy as np

from shapesworld import generate_scene
from shapesworld.preprocess import ALPHA_MEAN, ALPHA_STD, embedder_alpha, embedder_image
from shapesworld.tokenizer import tokenize
from shapesworld.vocab import COLOR_NAMES, PATTERNS, SHAPES, SIZES

E = 112
IMAGE_MEAN = (0.48145466, 0.4578275, 0.40821073)   # CLIP's
IMAGE_STD = (0.26862954, 0.26130258, 0.27577711)
MAX_OBJECTS = 8
# How a text is judged true of a sample (see truth() in train.py).
ATTR, EXACT, SCENE = 0, 1, 2
_FIELDS = (SHAPES, COLOR_NAMES, SIZES, PATTERNS)


def attr_codes(obj) -> tuple:
    return (SHAPES.index(obj.shape), COLOR_NAMES.index(obj.color), SIZES.index(obj.size),
            PATTERNS.index(obj.pattern))


def constraints(text: str) -> tuple:
    """Attribute constraints an attribute caption states; -1 = not stated (any value).

    A caption naming size, colour and shape but no pattern is the canonical caption of a plain
    object ("a small red star"), so it means plain; otherwise a missing word constrains nothing.
    """
    words = re.findall(r"\w+", text.lower())
    out = [next((f.index(w) for w in words if w in f), -1) for f in _FIELDS]
    if out[3] == -1 and min(out[:3]) >= 0:
        out[3] = PATTERNS.index("plain")
    return tuple(out)


def matches(cons, attrs) -> bool:
    return all(c in (-1, a) for c, a in zip(cons, attrs))


def crop_box(obj, h, w, margin):
    """Bounding box grown by ``margin`` × its size on each side, clipped to the image."""
    x, y, bw, bh = obj.bbox_xywh
    mx, my = int(round(bw * margin)), int(round(bh * margin))
    return max(0, x - mx), max(0, y - my), min(w, x + bw + mx), min(h, y + bh + my)


def image_u8(img):
    """embedder_image, stored as the exact uint8 it normalised (the resize output)."""
    x = embedder_image(img, E, IMAGE_MEAN, IMAGE_STD).astype(np.float64)
    u = np.rint((x * np.asarray(IMAGE_STD)[:, None, None] + np.asarray(IMAGE_MEAN)[:, None, None]) * 255)
    return u.astype(np.uint8)


def alpha_u8(mask):
    a = embedder_alpha(mask, E).astype(np.float64)[0] * ALPHA_STD + ALPHA_MEAN
    return np.rint(np.clip(a, 0, 1) * 255).astype(np.uint8)


def scene_texts(scene, rng) -> list:
    """Whole-image texts: two or three object captions joined, and the context expressions."""
    caps = [o.caption for o in scene.objects]
    out = []
    for _ in range(2):
        k = min(len(caps), int(rng.integers(2, 4)))
        out.append(" and ".join(caps[i] for i in sorted(rng.choice(len(caps), k, replace=False))))
    return out + [e.text for e in scene.expressions]


def render_scene(seed: int) -> dict:
    """One scene -> arrays + texts. Crops use a random margin so CLIP sees tight and loose boxes."""
    scene = generate_scene(seed)
    rng = np.random.default_rng(seed + 7_000_003)
    h, w = scene.image.shape[:2]
    crops, alphas, attrs, variants = [], [], [], []
    for obj in scene.objects:
        x0, y0, x1, y1 = crop_box(obj, h, w, rng.uniform(0.0, 0.3))
        crops.append(image_u8(np.ascontiguousarray(scene.image[y0:y1, x0:x1])))
        alphas.append(alpha_u8(obj.mask))
        a = attr_codes(obj)
        attrs.append(a)
        # Drop variants the truth rule calls false (e.g. "a small red star" for a striped one).
        variants.append([t for t in obj.caption_variants() if matches(constraints(t), a)])
    return {"seed": seed, "image": image_u8(scene.image), "crops": np.stack(crops),
            "alphas": np.stack(alphas), "attrs": np.asarray(attrs, np.int64), "variants": variants,
            "expressions": [(e.text, e.target, e.kind) for e in scene.expressions],
            "scene_texts": scene_texts(scene, rng)}


class TextTable:
    """Unique texts -> ids, with their token ids and attribute constraints."""

    def __init__(self):
        self.ids, self.texts = {}, []

    def add(self, text: str) -> int:
        if text not in self.ids:
            self.ids[text] = len(self.texts)
            self.texts.append(text)
        return self.ids[text]

    def tokens(self) -> np.ndarray:
        return np.asarray([tokenize(t) for t in self.texts], np.int64)

    def constraints(self) -> np.ndarray:
        return np.asarray([constraints(t) for t in self.texts], np.int64)


def _ranges(counts):
    counts = np.asarray(counts, np.int64)
    return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64), counts


def assemble(records: list) -> dict:
    """Flatten per-scene records into index arrays (all referenced by global object / text ids)."""
    table, d = TextTable(), {k: [] for k in ("var_text", "var_count", "expr_text", "expr_obj",
                                             "expr_kind", "expr_count", "stext", "stext_count")}
    obj_base, obj_scene = 0, []
    for s, r in enumerate(records):
        n = len(r["attrs"])
        obj_scene += [s] * n
        for vs in r["variants"]:
            d["var_text"] += [table.add(t) for t in vs]
            d["var_count"].append(len(vs))
        for text, target, kind in r["expressions"]:
            d["expr_text"].append(table.add(text))
            d["expr_obj"].append(obj_base + target)
            d["expr_kind"].append(kind)
        d["expr_count"].append(len(r["expressions"]))
        d["stext"] += [table.add(t) for t in r["scene_texts"]]
        d["stext_count"].append(len(r["scene_texts"]))
        obj_base += n
    attrs = np.concatenate([r["attrs"] for r in records])
    scene_attrs = np.full((len(records), MAX_OBJECTS, 4), -9, np.int64)  # -9 never matches
    for s, r in enumerate(records):
        scene_attrs[s, :len(r["attrs"])] = r["attrs"]
    n_obj = np.asarray([len(r["attrs"]) for r in records])
    var_start, _ = _ranges(d["var_count"])
    expr_start, _ = _ranges(d["expr_count"])
    stext_start, _ = _ranges(d["stext_count"])
    obj_start, _ = _ranges(n_obj)
    return {
        "images": np.stack([r["image"] for r in records]),
        "crops": np.concatenate([r["crops"] for r in records]),
        "alphas": np.concatenate([r["alphas"] for r in records]),
        "attrs": attrs, "scene_attrs": scene_attrs, "obj_scene": np.asarray(obj_scene, np.int64),
        "obj_start": obj_start, "obj_count": n_obj.astype(np.int64),
        "var_text": np.asarray(d["var_text"], np.int64), "var_start": var_start,
        "var_count": np.asarray(d["var_count"], np.int64),
        "expr_text": np.asarray(d["expr_text"], np.int64), "expr_obj": np.asarray(d["expr_obj"], np.int64),
        "expr_start": expr_start, "expr_count": np.asarray(d["expr_count"], np.int64),
        "stext": np.asarray(d["stext"], np.int64), "stext_start": stext_start,
        "stext_count": np.asarray(d["stext_count"], np.int64),
        "text_tokens": table.tokens(), "text_cons": table.constraints(),
        "texts": np.asarray(table.texts),
    }


def build_dataset(seeds, workers: int, cache: str = None) -> dict:
    """Render (or load from ``cache``, an .npz path) the dataset for these seeds."""
    if cache and os.path.exists(cache):
        with np.load(cache) as z:
            return {k: z[k] for k in z.files}
    with Pool(workers) as pool:
        records = list(pool.imap(render_scene, seeds, chunksize=16))
    data = assemble(records)
    if cache:
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        np.savez(cache, **data)
    return data
