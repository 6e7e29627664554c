"""Production-pack exporter (infra/models/export): CLIP tokenizer.json against an implementation of
CLIP's SimpleTokenizer and hand-verified ids, official checkpoint formats and key names (strict
loads), architecture checks, Alpha-CLIP attention = MultiheadAttention maths, fp16 / int8 graph
rewrites, and the command's argument checks; the default export (CLIP's image tower + views) on a tiny
architecture, with ONNX-vs-PyTorch parity of its image towers through onnxruntime-node. Full-size
numeric parity against onnxruntime-node is in test/node/production-pack.test.ts."""
import contextlib
import io
import json
import os
import re
import sys
import tempfile
import unittest
from unittest import mock

import numpy as np
import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
from clip_oracle import ClipTokenizer  # noqa: E402
from export import clip_model as C  # noqa: E402
from export import onnx_weights  # noqa: E402
from export import tokenizer as T  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
BPE = os.path.abspath(os.path.join(REPO, "third_party", "clip", "bpe_simple_vocab_16e6.txt.gz"))
CASES = os.path.join(REPO, "test", "fixtures", "clip-tokenizer-cases.json")
TINY_ARCH = "test-tiny"
TINY = dict(embed_dim=16, image_size=32, patch_size=8, vision_width=64, vision_layers=2, vision_heads=1,
            context_length=77, vocab_size=300, text_width=64, text_layers=2, text_heads=1)


class TokenizerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.isfile(BPE):
            raise AssertionError(f"CLIP's BPE file is needed at {BPE} (third_party/clip)")
        cls.oracle = ClipTokenizer(BPE)
        cls.tj = T.tokenizer_json(BPE)

    def test_vocabulary_and_merges_are_clips(self):
        model = self.tj["model"]
        self.assertEqual(model["vocab"], self.oracle.encoder)
        self.assertEqual(model["merges"], [" ".join(m) for m in self.oracle.merges])
        self.assertEqual(len(model["vocab"]), 49408)
        self.assertEqual((model["type"], model["end_of_word_suffix"]), ("BPE", "</w>"))

    def test_special_ids_and_manifest_section(self):
        with tempfile.TemporaryDirectory() as d:
            section = T.write_tokenizer(BPE, os.path.join(d, "tokenizer.json"))
            with open(os.path.join(d, "tokenizer.json"), encoding="utf-8") as f:
                self.assertEqual(json.load(f)["model"]["vocab"]["<|endoftext|>"], 49407)
        self.assertEqual(section, {"file": "tokenizer.json", "contextLength": 77, "bosId": 49406,
                                   "eosId": 49407, "padId": 0})
        self.assertEqual(max(self.tj["model"]["vocab"].values()), 49407)  # eos largest: argmax pooling

    def test_hand_verified_strings(self):
        with open(CASES, encoding="utf-8") as f:
            cases = json.load(f)["cases"]
        self.assertGreaterEqual(len(cases), 15)
        for case in cases:
            with self.subTest(text=case["text"]):
                self.assertEqual(self.oracle.encode(case["text"]), case["ids"])

    def test_hand_verified_segmentations(self):
        decode = {i: s for s, i in self.oracle.encoder.items()}
        words = lambda text: [decode[i] for i in self.oracle.encode(text)]  # noqa: E731
        self.assertEqual(words("It's a DOG, don't!"), ["it</w>", "'s</w>", "a</w>", "dog</w>", ",</w>", "don</w>",
                                                        "'t</w>", "!</w>"])
        self.assertEqual(words("42"), ["4</w>", "2</w>"])  # [\p{N}]: one digit per token
        self.assertEqual(words("a   \t b"), ["a</w>", "b</w>"])

    def test_tokenize_truncates_keeping_the_end_token(self):
        ids = self.oracle.tokenize("photo " * 200)
        self.assertEqual(len(ids), 77)
        self.assertEqual((ids[0], ids[-1]), (49406, 49407))
        self.assertEqual(set(ids[1:-1]), {self.oracle.encoder["photo</w>"]})

    def test_bad_bpe_file_is_refused(self):
        import gzip
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "bpe.txt.gz")
            with gzip.open(bad, "wt") as f:
                f.write("#version\na b\n")
            with self.assertRaisesRegex(ValueError, "merge lines"):
                T.read_merges(bad)


def tiny_towers(seed=0):
    torch.manual_seed(seed)
    visual = C.alpha_visual(TINY)
    C.randomise_alpha_conv(visual)
    return visual.eval(), C.clip_model(TINY).eval()


class CheckpointTest(unittest.TestCase):
    def setUp(self):
        C.ARCHS[TINY_ARCH] = TINY
        self.addCleanup(C.ARCHS.pop, TINY_ARCH)
        self.visual, self.clip = tiny_towers()
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def save(self, obj, name):
        path = os.path.join(self.dir.name, name)
        torch.save(obj, path)
        return path

    def assert_same_visual(self, loaded):
        x, a = torch.randn(2, 3, 32, 32), torch.randn(2, 1, 32, 32)
        with torch.no_grad():
            torch.testing.assert_close(loaded(x, a), self.visual(x, a))

    def test_alpha_clip_keys_are_the_released_ones(self):
        keys = set(self.visual.state_dict())
        for k in ("conv1.weight", "conv1_alpha.weight", "class_embedding", "positional_embedding", "proj",
                  "transformer.resblocks.1.attn.in_proj.weight", "transformer.resblocks.1.attn.in_proj.bias",
                  "transformer.resblocks.1.attn.out_proj.weight", "transformer.resblocks.1.mlp.c_fc.weight",
                  "ln_pre.weight", "ln_post.bias"):
            self.assertIn(k, keys)
        self.assertFalse(any(k.startswith("visual.") or "in_proj_weight" in k for k in keys))

    def test_released_fp16_state_dict_loads_strictly(self):
        half = {k: v.half() for k, v in self.visual.state_dict().items()}
        loaded = C.load_alpha_visual(self.save(half, "alpha.pth"), TINY_ARCH)
        self.assertEqual(loaded.conv1.weight.dtype, torch.float32)
        with torch.no_grad():
            x, a = torch.randn(1, 3, 32, 32), torch.randn(1, 1, 32, 32)
            self.assertLess((loaded(x, a) - self.visual(x, a)).abs().max().item(), 1e-2)

    def test_visual_prefix_module_prefix_and_full_model_checkpoints_load(self):
        sd = self.visual.state_dict()
        full = {**{f"visual.{k}": v for k, v in sd.items()}, "text_projection": torch.zeros(3)}
        for name, obj in [("prefixed.pth", full), ("ddp.pth", {f"module.{k}": v for k, v in sd.items()}),
                          ("wrapped.pth", {"state_dict": sd})]:
            with self.subTest(name):
                self.assert_same_visual(C.load_alpha_visual(self.save(obj, name), TINY_ARCH))

    def test_clip_style_attention_keys_are_renamed(self):
        sd = {k.replace("attn.in_proj.weight", "attn.in_proj_weight").replace("attn.in_proj.bias", "attn.in_proj_bias"): v
              for k, v in self.visual.state_dict().items()}
        self.assert_same_visual(C.load_alpha_visual(self.save(sd, "clip-style.pth"), TINY_ARCH))

    def test_not_alpha_clip_lora_and_wrong_arch_are_refused(self):
        sd = self.visual.state_dict()
        no_alpha = {k: v for k, v in sd.items() if k != "conv1_alpha.weight"}
        with self.assertRaisesRegex(ValueError, "conv1_alpha"):
            C.load_alpha_visual(self.save(no_alpha, "plain.pth"), TINY_ARCH)
        with self.assertRaisesRegex(ValueError, "LoRA"):
            C.load_alpha_visual(self.save({**sd, "transformer.resblocks.0.attn.in_proj.lora_A": torch.zeros(1)}, "l.pth"), TINY_ARCH)
        C.ARCHS["deeper"] = dict(TINY, vision_layers=3)
        self.addCleanup(C.ARCHS.pop, "deeper")
        with self.assertRaisesRegex(ValueError, r"vision_layers 2 \(expected 3\)"):
            C.load_alpha_visual(self.save(sd, "a.pth"), "deeper")

    def test_clip_torchscript_archive_loads_strictly(self):
        ids = torch.zeros(2, 77, dtype=torch.int64)
        ids[:, :3] = torch.tensor([1, 2, 299])
        traced = torch.jit.trace_module(self.clip, {"encode_text": ids})
        path = os.path.join(self.dir.name, "ViT-test.pt")
        traced.save(path)
        loaded = C.load_clip(path, TINY_ARCH)
        with torch.no_grad():
            torch.testing.assert_close(loaded.encode_text(ids), self.clip.encode_text(ids))

    def test_clip_with_metadata_keys_and_wrong_text_width(self):
        sd = {**self.clip.state_dict(), "input_resolution": torch.tensor(32), "vocab_size": torch.tensor(300)}
        path = self.save(sd, "clip.pt")
        self.assertIsNotNone(C.load_clip(path, TINY_ARCH))
        C.ARCHS["wider"] = dict(TINY, text_width=128)
        self.addCleanup(C.ARCHS.pop, "wider")
        with self.assertRaisesRegex(ValueError, r"text_width 64 \(expected 128\)"):
            C.load_clip(path, "wider")

    def test_alpha_attention_computes_multihead_attention(self):
        torch.manual_seed(1)
        mine, ref = C.AlphaClipAttention(64, 4), torch.nn.MultiheadAttention(64, 4)
        with torch.no_grad():
            ref.in_proj_weight.copy_(mine.in_proj.weight)
            ref.in_proj_bias.copy_(mine.in_proj.bias)
            ref.out_proj.load_state_dict(mine.out_proj.state_dict())
            x = torch.randn(10, 3, 64)
            mask = torch.full((10, 10), float("-inf")).triu_(1)
            for m in (None, mask):
                torch.testing.assert_close(mine(x, x, x, attn_mask=m)[0], ref(x, x, x, need_weights=False, attn_mask=m)[0])

    def test_official_sizes(self):
        b16, l14 = C.ARCHS["ViT-B/16"], C.ARCHS["ViT-L/14"]
        self.assertEqual(sum(p.numel() for p in C.alpha_visual(b16).parameters()), 86_389_248)  # CLIP ViT-B/16 visual + alpha conv
        self.assertEqual((l14["vision_width"], l14["vision_layers"], l14["embed_dim"], l14["text_width"]), (1024, 24, 768, 768))
        self.assertEqual(C.ARCHS["ViT-L/14@336px"]["image_size"], 336)


# The official architectures, written out from OpenAI CLIP's / Alpha-CLIP's model code (not from
# export.clip_model): vision width, layers, patch, image size, embedding size, text width, text layers;
# and the published parameter counts of CLIP's image tower and of the whole CLIP model.
OFFICIAL = {
    "ViT-B/16": ((768, 12, 16, 224, 512, 512, 12), 86_192_640, 149_620_737),
    "ViT-L/14": ((1024, 24, 14, 224, 768, 768, 12), 303_966_208, 427_616_513),
    "ViT-L/14@336px": ((1024, 24, 14, 336, 768, 768, 12), 304_293_888, 427_944_193),
}


def block_shapes(prefix, w, linear_attn):
    """One residual block; Alpha-CLIP's vision blocks use nn.Linear (in_proj.weight), CLIP's MultiheadAttention."""
    qkv = ("attn.in_proj.weight", "attn.in_proj.bias") if linear_attn else ("attn.in_proj_weight", "attn.in_proj_bias")
    shapes = {qkv[0]: [3 * w, w], qkv[1]: [3 * w], "attn.out_proj.weight": [w, w], "attn.out_proj.bias": [w],
              "mlp.c_fc.weight": [4 * w, w], "mlp.c_fc.bias": [4 * w], "mlp.c_proj.weight": [w, 4 * w], "mlp.c_proj.bias": [w]}
    for ln in ("ln_1", "ln_2"):
        shapes.update({f"{ln}.weight": [w], f"{ln}.bias": [w]})
    return {prefix + k: v for k, v in shapes.items()}


def official_visual(arch, alpha, prefix=""):
    (w, layers, p, size, d, _, _), _, _ = OFFICIAL[arch]
    g = size // p
    shapes = {"conv1.weight": [w, 3, p, p], "class_embedding": [w], "positional_embedding": [g * g + 1, w],
              "ln_pre.weight": [w], "ln_pre.bias": [w], "ln_post.weight": [w], "ln_post.bias": [w], "proj": [w, d]}
    if alpha:
        shapes["conv1_alpha.weight"] = [w, 1, p, p]
    for i in range(layers):
        shapes.update(block_shapes(f"transformer.resblocks.{i}.", w, linear_attn=alpha))
    return {prefix + k: v for k, v in shapes.items()}


def official_clip(arch):
    (_, _, _, _, d, tw, layers), _, _ = OFFICIAL[arch]
    shapes = {**official_visual(arch, alpha=False, prefix="visual."), "token_embedding.weight": [49408, tw],
              "positional_embedding": [77, tw], "ln_final.weight": [tw], "ln_final.bias": [tw],
              "text_projection": [tw, d], "logit_scale": []}
    for i in range(layers):
        shapes.update(block_shapes(f"transformer.resblocks.{i}.", tw, linear_attn=False))
    return shapes


def meta_state(shapes):
    """A state dict of the given shapes on the meta device: shapes without memory."""
    return {k: torch.empty(v, device="meta") for k, v in shapes.items()}


@contextlib.contextmanager
def skip_init():
    """Build modules without initialising their weights (a strict load replaces them all)."""
    noop = lambda *_a, **_k: None  # noqa: E731
    nn = torch.nn
    with contextlib.ExitStack() as stack:
        for cls, name in ((nn.Linear, "reset_parameters"), (nn.Conv2d, "reset_parameters"),
                          (nn.LayerNorm, "reset_parameters"), (nn.Embedding, "reset_parameters"),
                          (nn.MultiheadAttention, "_reset_parameters"), (nn.init, "normal_"), (nn.init, "zeros_")):
            stack.enter_context(mock.patch.object(cls, name, noop))
        yield


def numel(shapes):
    return sum(int(np.prod(v)) for v in shapes.values())


class OfficialArchitectureTest(unittest.TestCase):
    """Every --clip-arch against the official key set and shapes, strict loads on the meta device
    (no weights, no export: milliseconds). The full-size export and its parity run are scripted
    (docs/production-packs.md, "ViT-L/14@336px")."""

    def test_spec_matches_the_published_parameter_counts(self):
        for arch, (_, visual, total) in OFFICIAL.items():
            with self.subTest(arch):
                self.assertEqual(numel(official_visual(arch, alpha=False)), visual)
                self.assertEqual(numel(official_clip(arch)), total)

    def test_alpha_clip_checkpoint_of_each_arch_loads_strictly(self):
        for arch in OFFICIAL:
            with self.subTest(arch):
                shapes = official_visual(arch, alpha=True)
                sd = C.checked_alpha_visual_state(meta_state(shapes), arch, arch)
                with skip_init():
                    visual = C.alpha_visual(C.ARCHS[arch]).to("meta")
                self.assertEqual({k: list(v.shape) for k, v in visual.state_dict().items()}, shapes)
                visual.load_state_dict(sd, strict=True)
        shapes = official_visual("ViT-L/14@336px", alpha=True)
        self.assertEqual(shapes["positional_embedding"], [24 * 24 + 1, 1024])
        self.assertEqual(shapes["conv1_alpha.weight"], [1024, 1, 14, 14])

    def test_clip_checkpoint_of_each_arch_loads_strictly(self):
        for arch in OFFICIAL:
            with self.subTest(arch):
                shapes = official_clip(arch)
                archive = {**meta_state(shapes), **{k: torch.tensor(1) for k in C.CLIP_METADATA_KEYS}}
                sd, cfg = C.checked_clip_state(archive, arch, arch)
                with skip_init():
                    clip = C.clip_model(cfg).to("meta")
                self.assertEqual({k: list(v.shape) for k, v in clip.state_dict().items()}, shapes)
                clip.load_state_dict(sd, strict=True)

    def test_a_checkpoint_of_the_other_size_is_refused(self):
        l336 = meta_state(official_visual("ViT-L/14@336px", alpha=True))
        with self.assertRaisesRegex(ValueError, r"image_size 336 \(expected 224\)"):
            C.checked_alpha_visual_state(l336, "ViT-L/14", "x.pth")
        with self.assertRaisesRegex(ValueError, r"vision_width 1024 \(expected 768\)"):
            C.checked_alpha_visual_state(l336, "ViT-B/16", "x.pth")
        with self.assertRaisesRegex(ValueError, r"text_width 768 \(expected 512\)"):
            C.checked_clip_state(meta_state(official_clip("ViT-L/14")), "ViT-B/16", "x.pt")
        with skip_init():
            visual = C.alpha_visual(C.ARCHS["ViT-L/14@336px"]).to("meta")
        del l336["conv1_alpha.weight"]
        with self.assertRaisesRegex(RuntimeError, "Missing key.*conv1_alpha"):
            visual.load_state_dict(l336, strict=True)


class OnnxWeightsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from embedder import model as M
        torch.manual_seed(0)
        cls.dir = tempfile.TemporaryDirectory()
        cls.path = os.path.join(cls.dir.name, "text.onnx")
        ids = torch.zeros(1, 77, dtype=torch.int64)
        with contextlib.redirect_stderr(io.StringIO()):
            torch.onnx.export(M.TextOnnx(C.clip_model(TINY).eval()), (ids,), cls.path, input_names=["input_ids"],
                              output_names=["embedding"], opset_version=17)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_fp16_stores_weights_as_half_keeps_float_io(self):
        m = onnx_weights.to_fp16_weights(onnx.load(self.path))
        onnx.checker.check_model(m)
        big = [i for i in m.graph.initializer if np.prod(i.dims) >= 16]
        self.assertTrue(big and all(i.data_type == onnx.TensorProto.FLOAT16 for i in big))
        self.assertEqual(m.graph.output[0].type.tensor_type.elem_type, onnx.TensorProto.FLOAT)

    def test_int8_replaces_every_constant_matmul(self):
        before = onnx.load(self.path)
        inits = {i.name for i in before.graph.initializer}
        n_const = sum(1 for n in before.graph.node if n.op_type in ("MatMul", "Gemm") and n.input[1] in inits)
        m = onnx_weights.to_int8_dynamic(before)
        ops = [n.op_type for n in m.graph.node]
        self.assertGreater(n_const, 0)
        self.assertEqual(ops.count("DynamicQuantizeMatMul"), n_const)
        left = {i.name for i in m.graph.initializer}
        self.assertFalse(any(n.op_type == "MatMul" and n.input[1] in left for n in m.graph.node))

    def test_quantise_columns_error_is_within_half_a_step(self):
        w = np.random.default_rng(0).standard_normal((64, 8)).astype(np.float32) * np.arange(1, 9, dtype=np.float32)
        q, scale = onnx_weights.quantise_columns(w)
        self.assertEqual(q.dtype, np.int8)
        self.assertLessEqual(float(np.abs(q * scale - w).max() / scale.max()), 0.5 + 1e-6)
        np.testing.assert_allclose(np.abs(q).max(axis=0), 127)


class CommandTest(unittest.TestCase):
    def run_cli(self, *argv):
        from export.__main__ import main
        err = io.StringIO()
        with contextlib.redirect_stderr(err), self.assertRaises(SystemExit) as cm:
            main(list(argv))
        return str(cm.exception.code) + err.getvalue()

    def test_argument_errors_are_clear(self):
        base = ["--clip-arch", "ViT-B/16", "--bpe", BPE, "--out", tempfile.gettempdir()]
        self.assertIn("--alpha-clip and --clip are required", self.run_cli(*base))
        self.assertIn("takes no checkpoint", self.run_cli(*base, "--random-weights", "--clip", BPE))
        self.assertIn("--sam needs --sam-arch", self.run_cli(*base, "--alpha-clip", BPE, "--clip", BPE, "--sam", "x"))
        self.assertIn("no such file", self.run_cli(*base, "--alpha-clip", "/nonexistent.pth", "--clip", BPE))
        self.assertIn("not allowed with", self.run_cli(*base, "--random-weights", "--fp16", "--int8"))
        self.assertIn("--sam-precision applies to an exported segmenter",
                      self.run_cli(*base, "--random-weights", "--sam-precision", "int8"))
        self.assertIn("invalid choice: 'int4'", self.run_cli(*base, "--random-weights", "--sam-arch", "vit_b",
                                                              "--sam-precision", "int4"))

    def test_precision_flags_reach_both_halves_and_sam_precision_overrides(self):
        from export.__main__ import embedder_precision, parse_args, sam_precision
        base = ["--clip-arch", "ViT-B/16", "--bpe", BPE, "--out", "x", "--random-weights", "--sam-arch", "vit_b"]
        for extra, want in (([], ("fp32", "fp32")), (["--int8"], ("int8", "int8")), (["--fp16"], ("fp16", "fp16")),
                            (["--int8", "--sam-precision", "fp32"], ("int8", "fp32")),
                            (["--sam-precision", "fp16"], ("fp32", "fp16"))):
            args = parse_args(base + extra)
            self.assertEqual((embedder_precision(args), sam_precision(args)), want, extra)


    def test_clip_image_flags(self):
        from export.__main__ import parse_args, views_for
        base = ["--clip-arch", "ViT-B/16", "--bpe", BPE, "--out", "x", "--random-weights"]
        default = {"context": {"weight": 0.5}, "detail": {"weight": 0.5, "cropMargin": 0.1}}
        self.assertEqual(views_for(parse_args(base)), default)
        self.assertEqual(views_for(parse_args(base + ["--with-clip-image"])), default)  # deprecated no-op
        self.assertIsNone(views_for(parse_args(base + ["--no-clip-image"])))
        self.assertEqual(views_for(parse_args(base + ["--detail-weight", "0.25", "--crop-margin", "0"])),
                         {"context": {"weight": 0.75}, "detail": {"weight": 0.25, "cropMargin": 0.0}})
        self.assertIn("not allowed with", self.run_cli(*base, "--no-clip-image", "--with-clip-image"))
        self.assertIn("needs the clip image tower", self.run_cli(*base, "--no-clip-image", "--detail-weight", "0.3"))
        self.assertIn("needs the clip image tower", self.run_cli(*base, "--no-clip-image", "--crop-margin", "0.3"))
        self.assertIn("--detail-weight must be in [0, 1], not 1.5", self.run_cli(*base, "--detail-weight", "1.5"))
        self.assertIn("--detail-weight must be in [0, 1], not nan", self.run_cli(*base, "--detail-weight", "nan"))
        self.assertIn("--crop-margin must be in [0, 1], not -0.1", self.run_cli(*base, "--crop-margin", "-0.1"))


class DefaultExportTest(unittest.TestCase):
    """The export command's default path on a tiny architecture with seeded random weights: the pack
    has CLIP's plain image tower (clipImage) and the dual-view "views", and the exported ONNX towers
    reproduce the PyTorch modules (onnxruntime-node through infra/models/parity_check.cjs: max |diff|
    <= 1e-4, at another batch size than the export's). --no-clip-image gives an alpha-only pack."""
    SEED = 3
    ARCH = "test-tiny-clip-vocab"  # TINY with CLIP's vocabulary: the export traces the text tower on CLIP's ids

    @classmethod
    def setUpClass(cls):
        if not os.path.isfile(BPE):
            raise AssertionError(f"CLIP's BPE file is needed at {BPE} (third_party/clip)")
        C.ARCHS[cls.ARCH] = dict(TINY, vocab_size=49408)
        cls.tmp = tempfile.TemporaryDirectory()
        cls.pack = os.path.join(cls.tmp.name, "pack")
        cls.manifest = cls.export(cls.pack)

    @classmethod
    def tearDownClass(cls):
        C.ARCHS.pop(cls.ARCH, None)
        cls.tmp.cleanup()

    @classmethod
    def export(cls, out, *extra):
        from export.__main__ import main
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            main(["--clip-arch", cls.ARCH, "--random-weights", "--seed", str(cls.SEED), "--bpe", BPE,
                  "--out", out, *extra])
        with open(os.path.join(out, "manifest.json"), encoding="utf-8") as f:
            return json.load(f)

    def test_default_pack_has_the_clip_image_tower_and_views(self):
        emb = self.manifest["embedder"]
        self.assertEqual(emb["views"], {"context": {"weight": 0.5}, "detail": {"weight": 0.5, "cropMargin": 0.1}})
        self.assertEqual(emb["clipImage"], {
            "file": "clip-image.onnx", "inputs": [{"name": "image", "dtype": "float32", "shape": ["B", 3, 32, 32]}],
            "outputs": [{"name": "embedding", "dtype": "float32", "shape": ["B", 16]}]})
        self.assertIn("clip-image.onnx", [f["path"] for f in self.manifest["files"]])
        self.assertIn("CLIP text and image towers (detail view weight 0.5, crop margin 0.1)", self.manifest["description"])
        with open(os.path.join(self.pack, "embedder.json"), encoding="utf-8") as f:
            self.assertEqual(json.load(f)["embedder"]["views"], emb["views"])  # make_pack keeps the fragment's
        model = onnx.load(os.path.join(self.pack, "clip-image.onnx"))
        onnx.checker.check_model(model)
        self.assertEqual([i.name for i in model.graph.input], ["image"])
        self.assertEqual([o.name for o in model.graph.output], ["embedding"])
        self.assertEqual(model.graph.input[0].type.tensor_type.shape.dim[0].dim_param, "B")

    def test_onnx_towers_match_pytorch(self):
        import shutil
        import subprocess
        if shutil.which("node") is None or not os.path.isdir(os.path.join(REPO, "node_modules", "onnxruntime-node")):
            self.skipTest("node / onnxruntime-node not available")
        visual, clip = C.random_towers(self.ARCH, self.SEED)  # the exported weights, rebuilt from the seed
        g = torch.Generator().manual_seed(11)
        image, alpha = torch.randn(3, 3, 32, 32, generator=g), torch.randn(3, 1, 32, 32, generator=g)
        with torch.no_grad():
            clip_out, alpha_out = clip.encode_image(image), visual(image, alpha)
        self.assertGreater(float((clip_out - visual(image, torch.zeros_like(alpha))).abs().max()), 1e-3)  # two models
        fixtures = os.path.join(self.tmp.name, "fixtures")
        write_parity_fixture(os.path.join(fixtures, "clip-image"), "clip-image.onnx", {"image": image}, clip_out)
        write_parity_fixture(os.path.join(fixtures, "image"), "alpha-clip-image.onnx", {"image": image, "alpha": alpha},
                             alpha_out)
        run = subprocess.run(["node", os.path.join(REPO, "infra", "models", "parity_check.cjs"), self.pack, fixtures],
                             cwd=REPO, capture_output=True, text=True)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        diffs = dict(re.findall(r"^(\S+) embedding \[[\d,]+\] max\|diff\| = (\S+)$", run.stdout, re.M))
        self.assertEqual(sorted(diffs), ["clip-image", "image"], run.stdout)
        for name, diff in diffs.items():
            self.assertLessEqual(float(diff), 1e-4, name)

    def test_no_clip_image_is_an_alpha_only_pack(self):
        out = os.path.join(self.tmp.name, "alpha-only")
        man = self.export(out, "--no-clip-image")
        self.assertNotIn("clipImage", man["embedder"])
        self.assertNotIn("views", man["embedder"])
        self.assertFalse(os.path.exists(os.path.join(out, "clip-image.onnx")))
        self.assertIn("+ CLIP text tower (fp32)", man["description"])
        self.assertEqual(man["embedder"]["image"], self.manifest["embedder"]["image"])


def write_parity_fixture(folder, model_file, inputs, output):
    """A parity_check.cjs fixture: meta.json + little-endian raw tensors."""
    os.makedirs(folder)
    meta = {"model": model_file, "inputs": [], "outputs": []}
    for kind, items in (("inputs", inputs.items()), ("outputs", [("embedding", output)])):
        for name, t in items:
            arr = np.ascontiguousarray(t.numpy(), dtype="<f4")
            arr.tofile(os.path.join(folder, f"{kind}-{name}.bin"))
            meta[kind].append({"name": name, "dtype": "float32", "shape": list(arr.shape), "file": f"{kind}-{name}.bin"})
    with open(os.path.join(folder, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f)


if __name__ == "__main__":
    unittest.main()
