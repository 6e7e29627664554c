"""Production model packs from official checkpoints (``python3 infra/models/export --help``).

Modules: ``clip`` (Alpha-CLIP image + CLIP text towers → ONNX), ``clip_model`` (the towers with the
official state-dict keys, checkpoint reading), ``tokenizer`` (CLIP's BPE → ``tokenizer.json``),
``onnx_weights`` (fp16 / int8 variants), ``preprocess`` (the PyTorch/PIL reference preprocessing),
``reference`` (PyTorch outputs for parity checks) and ``sam`` (the SAM segmenter exporter).
Imports are absolute (``export.…``) with ``infra/models`` on ``sys.path``; ``__main__`` arranges that.
"""
