"""CLI: python -m shapesworld {write-split,render,stats} ... [--robust]

--robust: the robustness variant of the same seeds (shapesworld/robust.py): objects turned and partly
hidden, masks = visible parts, expressions recomputed, "visible_fraction" / "query_target" per object.
  python3 -m shapesworld write-split --split test --count 500 --out DIR --robust
"""
import argparse
import os
import sys
import time
from collections import Counter

from PIL import Image

from .export import json_bytes, png_bytes, scene_record, write_if_changed
from .scene import generate_scene
from .split import split_seeds


def scene_for(args):
    """generate_scene, or robust.robust_scene with --robust."""
    if getattr(args, "robust", False):
        from .robust import robust_scene
        return robust_scene
    return generate_scene


def write_split(args) -> None:
    os.makedirs(args.out, exist_ok=True)
    entries, written, make = [], 0, scene_for(args)
    for seed in split_seeds(args.split, args.count):
        scene = make(seed)
        stem = f"scene-{seed:06d}"
        written += write_if_changed(os.path.join(args.out, stem + ".png"), png_bytes(scene.image))
        written += write_if_changed(os.path.join(args.out, stem + ".json"), json_bytes(scene_record(scene)))
        entries.append({"seed": seed, "image": stem + ".png", "annotations": stem + ".json"})
    index = {"split": args.split, "count": args.count, "scenes": entries}
    if args.robust:
        index["variant"] = "robust"
    written += write_if_changed(os.path.join(args.out, "index.json"), json_bytes(index))
    name = args.split + (" (robust)" if args.robust else "")
    print(f"{name}: {len(entries)} scenes in {args.out} ({written} files written)")


def render(args) -> None:
    scene = scene_for(args)(args.seed)
    Image.fromarray(scene.image).save(args.out)
    print(f"seed {args.seed}: {scene.width}x{scene.height}, background {scene.background}")
    for i, o in enumerate(scene.objects):
        extra = f" visible={o.visible_fraction:.2f} target={o.query_target}" if scene.variant else ""
        print(f"  [{i}] {o.caption}  area={o.area} bbox={o.bbox_xywh} unique={o.caption_unique}{extra}")
    for e in scene.expressions:
        print(f"  {e.kind:11s} -> [{e.target}] {e.text}")


def stats(args) -> None:
    kinds, per_scene, backgrounds = Counter(), Counter(), Counter()
    make = scene_for(args)
    generate_scene(0)  # warm-up: builds the shared grain images once
    start = time.perf_counter()
    for seed in split_seeds(args.split, args.count):
        scene = make(seed)
        kinds.update(e.kind for e in scene.expressions)
        per_scene[len(scene.objects)] += 1
        backgrounds[scene.background] += 1
    ms = (time.perf_counter() - start) * 1000 / max(1, args.count)
    print(f"{args.count} {args.split}{' robust' if args.robust else ''} scenes, {ms:.2f} ms/scene")
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
    robust_help = "the robustness variant of the same seeds: objects turned and partly hidden (robust.py)"
    w.add_argument("--robust", action="store_true", help=robust_help)
    r = sub.add_parser("render", help="render one scene to a PNG and describe it")
    r.add_argument("--seed", type=int, required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--robust", action="store_true", help=robust_help)
    s = sub.add_parser("stats", help="expression counts and speed over a split")
    s.add_argument("--split", default="test", choices=["train", "validation", "test"])
    s.add_argument("--count", type=int, default=500)
    s.add_argument("--robust", action="store_true", help=robust_help)
    args = p.parse_args(argv)
    {"write-split": write_split, "render": render, "stats": stats}[args.cmd](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
