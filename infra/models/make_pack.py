"""Assemble models/shapes-tiny/manifest.json from the section fragments next to it.

  cd infra/models && /usr/bin/python3 make_pack.py [--pack ../../models/shapes-tiny] [--version V]
      [--views FILE | --views-json '{"context": {"weight": 0.5}, "detail": {"weight": 0.5, "cropMargin": 0.1}}']

Inputs (kept in the pack folder, so the pack can be re-assembled after either half is retrained):
  segmenter.json  the manifest's "segmenter" section (written by segmenter/export.py)
  embedder.json   {"embedder": {...}, "tokenizer": {...}} (written by embedder/export.py)
The fragments are listed in "files" like every other file; the TypeScript loader ignores them.
Idempotent: the same inputs give byte-identical output. A missing fragment is a warning, not an
error, so either half can integrate before the other exists.

--views / --views-json write the embedder's dual-view setting (manifest["embedder"]["views"], see
check_views for the rules; a region's stored vector is [sqrt(1-w)*alpha, sqrt(w)*crop] with w the
detail weight); without them the "views" of embedder.json, if any, is kept (none: an alpha-only pack).
Views or weights change the vector space, so a pack that changes them should get a new --version.
"""
import argparse
import hashlib
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PACK = os.path.join(HERE, "..", "..", "models", "shapes-tiny")
HEADER = {"format": "region-search-pack/1", "name": "shapes-tiny", "version": "1.0.0",
          "description": "Tiny SAM-contract segmenter and Alpha-CLIP-contract embedder trained on the "
                         "synthetic shapes world: knows shapes, colours, sizes, patterns and layouts, "
                         "not photographs."}


def read_json(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def file_entries(pack):
    """bytes + sha256 of every regular file but manifest.json, sorted for a stable manifest."""
    out = []
    for name in sorted(os.listdir(pack)):
        full = os.path.join(pack, name)
        if name == "manifest.json" or not os.path.isfile(full):
            continue
        digest = hashlib.sha256()
        with open(full, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        out.append({"path": name, "bytes": os.path.getsize(full), "sha256": digest.hexdigest()})
    return out


def referenced_files(manifest):
    """Every "file" value anywhere in the manifest's model sections, and every "externalData" name
    (a model's weights file beside it, see docs/model-pack.md)."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "file" and isinstance(v, str):
                    found.append(v)
                elif k == "externalData" and isinstance(v, list):
                    found.extend(x for x in v if isinstance(x, str))
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk({k: v for k, v in manifest.items() if k != "files"})
    return found


VIEWS_WEIGHT_TOLERANCE = 1e-9
VIEW_KEYS = {"context": ("weight",), "detail": ("weight", "cropMargin")}


def _number(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where} must be a finite number, not {value!r}")
    return value


def check_views(views, embedder=None):
    """Raise ValueError (naming the field) unless ``views`` is a valid embedder "views" object:
    exactly {"context": {"weight": wc[, "relationWords": [...]]}, "detail": {"weight": wd, "cropMargin": m}} with wc, wd in
    [0, 1], |wc + wd - 1| <= 1e-9 and m in [0, 1] (the fraction of the region box's width / height
    added on each side of the detail crop). ``embedder`` (the section it goes into) must then have
    "clipImage": the detail view is CLIP's plain image tower on the crop."""
    if not isinstance(views, dict):
        raise ValueError(f"views must be an object, not {type(views).__name__}")
    if set(views) != set(VIEW_KEYS):
        raise ValueError(f"views must have exactly the keys context and detail (has: {', '.join(sorted(views)) or 'none'})")
    for view, keys in VIEW_KEYS.items():
        section = views[view]
        optional = {"relationWords"} if view == "context" else set()
        if not isinstance(section, dict) or not set(keys) <= set(section) <= set(keys) | optional:
            found = ", ".join(sorted(section)) if isinstance(section, dict) else type(section).__name__
            allowed = ", ".join(keys) + (" (and optionally relationWords)" if optional else "")
            raise ValueError(f"views.{view} must have exactly {allowed} (has: {found or 'none'})")
        words = section.get("relationWords", [])
        if not isinstance(words, list) or len(words) > 64 or not all(isinstance(w, str) and w.isascii() and w.isalpha() and w.islower() for w in words):
            raise ValueError(f"views.{view}.relationWords must be a list of at most 64 lowercase words")
        for key in keys:
            value = _number(section[key], f"views.{view}.{key}")
            if not 0 <= value <= 1:
                raise ValueError(f"views.{view}.{key} must be in [0, 1], not {value!r}")
    total = views["context"]["weight"] + views["detail"]["weight"]
    if abs(total - 1) > VIEWS_WEIGHT_TOLERANCE:
        raise ValueError(f"views: context.weight + detail.weight must be 1 (is {total!r})")
    if embedder is not None and "clipImage" not in embedder:
        raise ValueError("views: the detail view needs embedder.clipImage (CLIP's image tower) in the pack")
    return views


def read_views(path=None, text=None):
    """The views object of --views FILE or --views-json TEXT (None when neither); ValueError if not JSON."""
    if path is None and text is None:
        return None
    try:
        if path is not None:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{'--views ' + path if path is not None else '--views-json'}: not JSON ({e})") from None


def build_manifest(pack, header=HEADER, views=None):
    """The manifest of the pack folder from its fragments; ``header`` has format, name, version…
    ``views`` (a dict) replaces the embedder fragment's "views"; otherwise the fragment's is kept.
    Raises SystemExit on invalid views or missing files."""
    manifest, warnings = dict(header), []
    seg = read_json(os.path.join(pack, "segmenter.json"))
    emb = read_json(os.path.join(pack, "embedder.json"))
    if seg is None:
        warnings.append("segmenter.json missing: manifest has no 'segmenter' section")
    else:
        manifest["segmenter"] = seg
    if emb is None:
        warnings.append("embedder.json missing: manifest has no 'embedder'/'tokenizer' sections")
    else:
        manifest["embedder"], manifest["tokenizer"] = emb["embedder"], emb["tokenizer"]
    if views is not None:
        if emb is None:
            raise SystemExit("views given but embedder.json is missing: no embedder section to put them in")
        manifest["embedder"] = dict(manifest["embedder"], views=views)
    if emb is not None and "views" in manifest["embedder"]:
        try:
            check_views(manifest["embedder"]["views"], manifest["embedder"])
        except ValueError as e:
            where = "--views" if views is not None else "embedder.json"
            raise SystemExit(f"invalid embedder views ({where}): {e}") from None
    manifest["files"] = file_entries(pack)
    present = {f["path"] for f in manifest["files"]}
    missing = [f for f in referenced_files(manifest) if f not in present]
    if missing:
        raise SystemExit(f"manifest references files not in {pack}: {sorted(set(missing))}")
    return manifest, warnings


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pack", default=DEFAULT_PACK)
    p.add_argument("--version", default=HEADER["version"], help=f"the pack's version (default {HEADER['version']})")
    given = p.add_mutually_exclusive_group()
    given.add_argument("--views", metavar="FILE", help="JSON file with the embedder's views object")
    given.add_argument("--views-json", metavar="JSON", help="the embedder's views object as JSON text")
    args = p.parse_args(argv)
    if not args.version:
        p.error("--version must not be empty")
    try:
        views = read_views(args.views, args.views_json)
        if views is not None:
            check_views(views)
    except (OSError, ValueError) as e:
        p.error(str(e))
    write_manifest(os.path.abspath(args.pack), dict(HEADER, version=args.version), views=views)


def write_manifest(pack, header=HEADER, views=None):
    """Build and write ``pack``/manifest.json (warnings to stderr); returns the manifest.
    ``views``: see build_manifest."""
    manifest, warnings = build_manifest(pack, header, views)
    for w in warnings:
        print(f"WARNING: {w}", file=sys.stderr)
    with open(os.path.join(pack, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    total = sum(f["bytes"] for f in manifest["files"])
    print(f"manifest.json: {len(manifest['files'])} files, {total / 1e6:.1f} MB")
    return manifest


if __name__ == "__main__":
    main()
