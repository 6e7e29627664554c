"""CLI: python -m shapesworld {write-split,render,stats} ..."""
import argparse
import os
import sys
import time
from collections import Counter

from PIL import Image

from .export import json_bytes, png_bytes, scene_record, write_if_changed
from .scene import generate_scene
from .split import split_seeds


def write_split(args) -> None:
    os.makedirs(args.out, exist_ok=True)
    entries, written = [], 0
    for seed in split_seeds(args.split, args.count):
        scene = generate_scene(seed)
        stem = f"scene-{seed:06d}"
        written += write_if_changed(os.path.join(args.out, stem + ".png"), png_bytes(scene.image))
        written += write_if_changed(os.path.join(args.out, stem + ".json"), json_bytes(scene_record(scene)))
        entries.append({"seed": seed, "image": stem + ".png", "annotations": stem + ".json"})
    index = {"split": args.split, "count": args.count, "scenes": entries}
    written += write_if_changed(os.path.join(args.out, "index.json"), json_bytes(index))
    print(f"{args.split}: {len(entries)} scenes in {args.out} ({written} files written)")


def render(args) -> None:
    scene = generate_scene(args.seed)
    Image.fromarray(scene.image).save(args.out)
    print(f"seed {args.seed}: {scene.width}x{scene.height}, background {scene.background}")
    for i, o in enumerate(scene.objects):
        print(f"  [{i}] {o.caption}  area={o.area} bbox={o.bbox_xywh} unique={o.caption_unique}")
    for e in scene.expressions:
        print(f"  {e.kind:11s} -> [{e.target}] {e.text}")


def stats(args) -> None:
    kinds, per_scene, backgrounds = Counter(), Counter(), Counter()
    generate_scene(0)  # warm-up: builds the shared grain images once
    start = time.perf_counter()
    for seed in split_seeds(args.split, args.count):
        scene = generate_scene(seed)
        kinds.update(e.kind for e in scene.expressions)
        per_scene[len(scene.objects)] += 1
        backgrounds[scene.background] += 1
    ms = (time.perf_counter() - start) * 1000 / max(1, args.count)
    print(f"{args.count} {args.split} scenes, {ms:.2f} ms/scene")
    print("expressions:", dict(sorted(kinds.items())))
    print("objects per scene:", dict(sorted(per_scene.items())))
    print("backgrounds:", dict(sorted(backgrounds.items())))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="shapesworld")
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write-split", help="write PNG + JSON fixtures for a split")
    w.add_argument("--split", required=True, choices=["train", "validation", "test"])
    w.add_argument("--count", type=int, required=True)
    w.add_argument("--out", required=True)
    r = sub.add_parser("render", help="render one scene to a PNG and describe it")
    r.add_argument("--seed", type=int, required=True)
    r.add_argument("--out", required=True)
    s = sub.add_parser("stats", help="expression counts and speed over a split")
    s.add_argument("--split", default="test", choices=["train", "validation", "test"])
    s.add_argument("--count", type=int, default=500)
    args = p.parse_args(argv)
    {"write-split": write_split, "render": render, "stats": stats}[args.cmd](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
