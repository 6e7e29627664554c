#!/usr/bin/env bash
# Python tests of the model tooling (scene generator, segmenter, embedder) on Debian's python3
# (python3-torch, python3-onnx, python3-numpy, python3-pil); PYTHON overrides the interpreter.
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-/usr/bin/python3}"
[ -x "$PY" ] || PY=python3
exec "$PY" -m unittest discover -s tests "$@"
