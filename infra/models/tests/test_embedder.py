"""Embedder unit tests: shapes, zero-init alpha conv, EOT pooling, official key names, tokenizer,
the multi-positive truth rule, and the pack manifest (run: python3 -m unittest discover -s tests)."""
import json
import os
import re
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from embedder import model as M  # noqa: E402
from embedder.data import ATTR, constraints, matches  # noqa: E402
from embedder.train import merge_texts, multi_positive_loss, tiny_config  # noqa: E402
from shapesworld.tokenizer import BOS_ID, EOS_ID, PAD_ID, build_vocab, tokenize  # noqa: E402

# Official OpenAI CLIP / Alpha-CLIP state-dict key pattern.
OFFICIAL = re.compile(
    r"^(positional_embedding|text_projection|logit_scale|token_embedding\.weight|ln_final\.(weight|bias)"
    r"|visual\.(class_embedding|positional_embedding|proj|conv1\.weight|conv1_alpha\.weight"
    r"|ln_(pre|post)\.(weight|bias))"
    r"|(visual\.)?transformer\.resblocks\.\d+\.(attn\.(in_proj_weight|in_proj_bias|out_proj\.(weight|bias))"
    r"|ln_[12]\.(weight|bias)|mlp\.(c_fc|c_proj)\.(weight|bias)))$")


def small_config():
    return dict(tiny_config(), vision_width=32, vision_layers=2, vision_heads=2, text_width=32,
                text_layers=2, text_heads=2, embed_dim=16)


class ModelTest(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.cfg = small_config()
        self.clip = M.build(self.cfg).eval()
        self.alpha = M.alpha_from_clip(self.clip, self.cfg).eval()

    def test_output_shapes(self):
        img, a = torch.randn(3, 3, 112, 112), torch.randn(3, 1, 112, 112)
        ids = torch.tensor([tokenize("a red circle")] * 3)
        self.assertEqual(self.alpha.encode_image(img, a).shape, (3, 16))
        self.assertEqual(self.clip.encode_image(img).shape, (3, 16))
        self.assertEqual(self.alpha.encode_text(ids).shape, (3, 16))

    def test_zero_init_alpha_equals_clip(self):
        self.assertEqual(self.alpha.visual.conv1_alpha.weight.abs().sum().item(), 0.0)
        img, a = torch.randn(2, 3, 112, 112), torch.randn(2, 1, 112, 112)
        with torch.no_grad():
            torch.testing.assert_close(self.alpha.encode_image(img, a), self.clip.encode_image(img))

    def test_alpha_changes_output_once_trained(self):
        with torch.no_grad():
            self.alpha.visual.conv1_alpha.weight.normal_()
            img = torch.randn(1, 3, 112, 112)
            diff = self.alpha.encode_image(img, torch.ones(1, 1, 112, 112)) - self.alpha.encode_image(img, -torch.ones(1, 1, 112, 112))
        self.assertGreater(diff.abs().max().item(), 1e-3)

    def test_eot_pooling_ignores_later_padding_and_uses_eot(self):
        ids = torch.tensor([tokenize("a red circle")])
        eot = ids[0].tolist().index(EOS_ID)
        self.assertEqual(ids.argmax(-1).item(), eot)
        with torch.no_grad():
            base = self.clip.encode_text(ids)
            changed = ids.clone()
            changed[0, eot + 1:] = 5          # tokens after EOT cannot matter (causal mask + pooling)
            torch.testing.assert_close(self.clip.encode_text(changed), base)
            changed = ids.clone()
            changed[0, eot - 1] = 7           # a token before EOT does matter
            self.assertGreater((self.clip.encode_text(changed) - base).abs().max().item(), 1e-4)

    def test_state_dict_keys_follow_official_names(self):
        keys = list(self.alpha.state_dict())
        bad = [k for k in keys if not OFFICIAL.match(k)]
        self.assertEqual(bad, [])
        for k in ("visual.conv1.weight", "visual.conv1_alpha.weight", "visual.proj", "text_projection",
                  "visual.transformer.resblocks.0.attn.in_proj_weight", "transformer.resblocks.1.mlp.c_fc.weight"):
            self.assertIn(k, keys)
        self.assertNotIn("visual.conv1_alpha.weight", self.clip.state_dict())
        self.assertIsNone(self.alpha.visual.conv1.bias)

    def test_strict_round_trip(self):
        fresh = M.build(self.cfg, alpha=True)
        fresh.load_state_dict(self.alpha.state_dict(), strict=True)


class TokenizerTest(unittest.TestCase):
    def test_ids(self):
        vocab = build_vocab()
        self.assertEqual((vocab[PAD_ID], vocab[BOS_ID], vocab[EOS_ID]), ("<|pad|>", "<|startoftext|>", "<|endoftext|>"))
        self.assertEqual(EOS_ID, len(vocab) - 1)
        ids = tokenize("A Red  circle")
        self.assertEqual(len(ids), 77)
        self.assertEqual(ids[:5], [BOS_ID, vocab.index("a"), vocab.index("red"), vocab.index("circle"), EOS_ID])
        self.assertEqual(set(ids[5:]), {PAD_ID})
        self.assertEqual(tokenize(" ".join(["red"] * 100))[-1], EOS_ID)   # EOS survives truncation
        self.assertLess(max(ids), tiny_config()["vocab_size"])


class TruthTest(unittest.TestCase):
    def test_constraints(self):
        # canonical caption of a plain object means plain; a shorter phrase constrains less
        self.assertEqual(constraints("a small red star")[3], 0)
        self.assertEqual(constraints("a red star")[2:], (-1, -1))
        striped_small_red_star = (3, 0, 0, 1)
        self.assertFalse(matches(constraints("a small red star"), striped_small_red_star))
        self.assertTrue(matches(constraints("a striped star"), striped_small_red_star))

    def test_duplicate_texts_merge_into_one_positive_column(self):
        meta = {"text": torch.tensor([4, 4, 9]), "ttype": torch.full((3,), ATTR)}
        truth = torch.tensor([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=torch.bool)
        uniq, pos = merge_texts(meta, truth)
        self.assertEqual(uniq.tolist(), [4, 9])
        self.assertEqual(pos.tolist(), [[True, False], [True, False], [False, True]])
        loss, acc = multi_positive_loss(torch.eye(3)[:, :2] + torch.tensor([[0, 0], [0, 0], [0, 1.0]]),
                                        torch.tensor([[1.0, 0], [0, 1.0]]), pos, torch.tensor(10.0))
        self.assertTrue(torch.isfinite(loss))


class PackTest(unittest.TestCase):
    def test_make_pack_is_idempotent_and_lists_files(self):
        import make_pack
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "x.onnx"), "wb") as f:
                f.write(b"abc")
            emb = {"embedder": {"image": {"file": "x.onnx"}}, "tokenizer": {"file": "x.onnx"}}
            with open(os.path.join(d, "embedder.json"), "w") as f:
                json.dump(emb, f)
            make_pack.main(["--pack", d])
            first = open(os.path.join(d, "manifest.json")).read()
            make_pack.main(["--pack", d])
            self.assertEqual(first, open(os.path.join(d, "manifest.json")).read())
            man = json.loads(first)
            self.assertNotIn("segmenter", man)          # missing fragment: warning, no section
            self.assertEqual([f["path"] for f in man["files"]], ["embedder.json", "x.onnx"])
            self.assertEqual(man["files"][1]["sha256"],
                             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


if __name__ == "__main__":
    unittest.main()
