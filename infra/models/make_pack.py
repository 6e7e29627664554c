"""Assemble models/shapes-tiny/manifest.json from the section fragments next to it.

  cd infra/models && /usr/bin/python3 make_pack.py [--pack ../../models/shapes-tiny]

Inputs (kept in the pack folder, so the pack can be re-assembled after either half is retrained):
  segmenter.json  the manifest's "segmenter" section (written by segmenter/export.py)
  embedder.json   {"embedder": {...}, "tokenizer": {...}} (written by embedder/export.py)
The fragments are listed in "files" like every other file; the TypeScript loader ignores them.
Idempotent: the same inputs give byte-identical output. A missing fragment is a warning, not an
error, so either half can integrate before the other exists.
"""
import argparse
import hashlib
import json
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


def build_manifest(pack, header=HEADER):
    """The manifest of the pack folder from its fragments; ``header`` has format, name, version…"""
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
    manifest["files"] = file_entries(pack)
    present = {f["path"] for f in manifest["files"]}
    missing = [f for f in referenced_files(manifest) if f not in present]
    if missing:
        raise SystemExit(f"manifest references files not in {pack}: {sorted(set(missing))}")
    return manifest, warnings


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pack", default=DEFAULT_PACK)
    args = p.parse_args(argv)
    write_manifest(os.path.abspath(args.pack))


def write_manifest(pack, header=HEADER):
    """Build and write ``pack``/manifest.json (warnings to stderr); returns the manifest."""
    manifest, warnings = build_manifest(pack, header)
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
