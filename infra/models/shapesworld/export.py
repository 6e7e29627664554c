"""Scene -> JSON record and files on disk (the fixture format TypeScript reads)."""
import io
import json
import os

from PIL import Image

from .rle import rle_encode


def scene_record(scene) -> dict:
    """The scene's JSON record. A robust scene (robust.py) adds "variant": "robust" and, per object,
    "visible_fraction" (visible / full footprint pixels, 4 decimals) and "query_target"."""
    record = {
        "seed": scene.seed, "width": scene.width, "height": scene.height,
        "objects": [{
            "index": i, "shape": o.shape, "color": o.color, "size": o.size, "pattern": o.pattern,
            "caption": o.caption, "caption_unique": o.caption_unique,
            "bbox": list(o.bbox_xywh), "area": o.area, "mask": rle_encode(o.mask),
        } for i, o in enumerate(scene.objects)],
        "expressions": [{"text": e.text, "target": e.target, "kind": e.kind} for e in scene.expressions],
    }
    if scene.variant:
        record["variant"] = scene.variant
        for r, o in zip(record["objects"], scene.objects):
            r["visible_fraction"] = round(float(o.visible_fraction), 4)
            r["query_target"] = bool(o.query_target)
    return record


def png_bytes(image) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def write_if_changed(path: str, data: bytes) -> bool:
    """Idempotent write: leaves an identical existing file untouched. True if written."""
    if os.path.exists(path):
        with open(path, "rb") as f:
            if f.read() == data:
                return False
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return True


def json_bytes(obj) -> bytes:
    return (json.dumps(obj, indent=1) + "\n").encode()
