"""Payload cost of masks (infra/qdrant/README.md, "Sizing"): COCO-RLE size of shapes-world masks.

Run from infra/models so the shapesworld package imports:
    cd infra/models && /usr/bin/python3 ../qdrant/measure_masks.py [scenes]
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.getcwd())  # run from infra/models: the script lives elsewhere
from shapesworld import generate_scene  # noqa: E402
from shapesworld.rle import rle_encode  # noqa: E402


def counts_len(mask) -> int:
    c = rle_encode(mask)["counts"]
    return len(c.decode() if isinstance(c, bytes) else c)


def payload_len(scene, obj, counts_chars: int) -> int:
    # The payload exactly as the adapter stores it (snake_case), with a realistic tenant/pack/time.
    p = {"tenant": "tenant-0001", "image_id": "img-000000000001", "kind": "region", "region_index": 12,
         "bbox": [int(v) for v in obj.bbox_xywh], "area": int(obj.area), "predicted_iou": 0.9312345,
         "stability": 0.9712345, "mask": {"size": [scene.height, scene.width], "counts": "x" * counts_chars},
         "pack": "alpha-clip-b16@1.0.0", "image_width": scene.width, "image_height": scene.height,
         "created_at": "2025-01-02T03:04:05.000Z"}
    return len(json.dumps(p, separators=(",", ":")))


def main(n: int) -> None:
    counts, counts4, payloads = [], [], []
    for seed in range(n):
        scene = generate_scene(seed)
        for obj in scene.objects:
            k = counts_len(obj.mask)
            counts.append(k)
            counts4.append(counts_len(np.repeat(np.repeat(obj.mask, 4, axis=0), 4, axis=1)))
            payloads.append(payload_len(scene, obj, k))
    c, c4, p = (np.array(x) for x in (counts, counts4, payloads))
    print(f"{n} scenes, {len(c)} objects")
    print(f"counts string: mean {c.mean():.0f} B, median {np.median(c):.0f} B, p95 {np.percentile(c, 95):.0f} B, max {c.max()} B")
    print(f"upscaled x4: mean {c4.mean():.0f} B, median {np.median(c4):.0f} B, p95 {np.percentile(c4, 95):.0f} B")
    print(f"payload JSON: mean {p.mean():.0f} B, p95 {np.percentile(p, 95):.0f} B; without the mask {(p - c).mean():.0f} B")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)
