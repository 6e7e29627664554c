"""Tests for the shapes-world generator and its helpers.

Run: cd infra/models && /usr/bin/python3 -m unittest discover -s tests
Rules are re-derived here from masks, independently of shapesworld.expressions.
"""
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from shapesworld import COLORS, PATTERNS, SHAPES, SIZES, generate_scene, split_seeds  # noqa: E402
from shapesworld.preprocess import (embedder_alpha, embedder_alpha_full, embedder_image,  # noqa: E402
                                    resize_longest_side_size, segmenter_input)
from shapesworld.render import outline, rasterise  # noqa: E402
from shapesworld.rle import rle_decode, rle_encode  # noqa: E402
from shapesworld.tokenizer import build_vocab, tokenize, write_tokenizer_json  # noqa: E402

SEEDS = range(0, 60)
_CACHE = {}


def scene(seed):
    if seed not in _CACHE:
        _CACHE[seed] = generate_scene(seed)
    return _CACHE[seed]


def centroid(mask):
    ys, xs = np.nonzero(mask)
    return xs.mean() + 0.5, ys.mean() + 0.5


def footprint(obj, h, w):
    """Full (unoccluded) footprint re-rasterised from the stored placement."""
    x0, y0, _, foot = rasterise(outline(obj.shape, obj.diameter, obj.angle), *obj.position)
    full = np.zeros((h, w), bool)
    full[y0:y0 + foot.shape[0], x0:x0 + foot.shape[1]] = foot
    return full


class DeterminismTest(unittest.TestCase):
    def test_same_seed_same_bytes(self):
        a, b = generate_scene(123), generate_scene(123)
        self.assertEqual(a.image.tobytes(), b.image.tobytes())
        self.assertEqual([o.caption for o in a.objects], [o.caption for o in b.objects])
        self.assertTrue(all((x.mask == y.mask).all() for x, y in zip(a.objects, b.objects)))
        self.assertEqual(a.expressions, b.expressions)

    def test_same_seed_in_fresh_process(self):
        code = ("import hashlib,sys; sys.path.insert(0,'.'); from shapesworld import generate_scene;"
                "print(hashlib.sha256(generate_scene(77).image.tobytes()).hexdigest())")
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
        self.assertEqual(out.stdout.strip(), hashlib.sha256(scene(77).image.tobytes()).hexdigest())

    def test_different_seeds_differ(self):
        self.assertNotEqual(generate_scene(1).image.tobytes(), generate_scene(2).image.tobytes())


class SceneTest(unittest.TestCase):
    def test_image_and_object_counts(self):
        sizes = set()
        for s in SEEDS:
            sc = scene(s)
            self.assertEqual(sc.image.dtype, np.uint8)
            self.assertEqual(sc.image.shape, (sc.height, sc.width, 3))
            self.assertTrue(320 <= sc.width <= 1024 and 320 <= sc.height <= 1024)
            self.assertTrue(2 <= len(sc.objects) <= 8, len(sc.objects))
            sizes.add((sc.width, sc.height))
        self.assertTrue(any(w != h for w, h in sizes))

    def test_masks_disjoint_and_equal_to_painted_pixels(self):
        for s in SEEDS:
            sc = scene(s)
            stack = np.stack([o.mask for o in sc.objects])
            self.assertEqual(stack.dtype, bool)
            self.assertLessEqual(stack.sum(0).max(), 1, f"seed {s}: masks overlap")
            for o in sc.objects:
                px = sc.image[o.mask]
                is_fill = (px == o.rgb).all(1)
                is_shade = (px == o.shade_rgb).all(1)
                self.assertTrue((is_fill | is_shade).all(), f"seed {s}: {o.caption} has foreign pixels")
                if o.pattern == "plain":
                    self.assertFalse(is_shade.any())
                else:
                    self.assertGreater(is_shade.mean(), 0.05, f"seed {s}: {o.caption} pattern invisible")
                    self.assertGreater(is_fill.mean(), 0.2)
                # No stray object-coloured pixels just outside the mask (off-by-one rasterisation).
                x, y, w, h = o.bbox_xywh
                box = sc.image[max(0, y - 2):y + h + 2, max(0, x - 2):x + w + 2]
                inside = o.mask[max(0, y - 2):y + h + 2, max(0, x - 2):x + w + 2]
                stray = ((box == o.rgb).all(2) & ~inside).sum()
                self.assertLessEqual(stray, 0.01 * o.area + 2, f"seed {s}: {o.caption}")

    def test_occlusion_is_painters_order_with_visibility_limits(self):
        for s in SEEDS:
            sc = scene(s)
            feet = [footprint(o, sc.height, sc.width) for o in sc.objects]
            for i, o in enumerate(sc.objects):
                later = np.zeros_like(o.mask)
                for f in feet[i + 1:]:
                    later |= f
                np.testing.assert_array_equal(o.mask, feet[i] & ~later, f"seed {s} object {i}")
                self.assertGreaterEqual(o.area, 150)
                self.assertGreaterEqual(o.area, 0.6 * feet[i].sum() - 1e-9)

    def test_derived_fields(self):
        for s in SEEDS:
            sc = scene(s)
            for o in sc.objects:
                ys, xs = np.nonzero(o.mask)
                self.assertEqual(o.area, len(xs))
                self.assertEqual(o.bbox_xywh, (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1))
                np.testing.assert_allclose(o.center, centroid(o.mask))
                same = [p for p in sc.objects if (p.shape, p.color, p.size, p.pattern)
                        == (o.shape, o.color, o.size, o.pattern)]
                self.assertEqual(o.caption_unique, len(same) == 1)

    def test_attributes_and_captions(self):
        for s in SEEDS:
            sc = scene(s)
            short = min(sc.width, sc.height)
            for o in sc.objects:
                self.assertIn(o.shape, SHAPES)
                self.assertIn(o.color, COLORS)
                self.assertIn(o.size, SIZES)
                self.assertIn(o.pattern, PATTERNS)
                frac = o.diameter / short
                self.assertTrue(0.09 <= frac <= 0.14 if o.size == "small" else 0.20 <= frac <= 0.30)
                if o.shape in ("square", "diamond"):
                    self.assertLessEqual(abs(o.angle), 20)
                words = o.caption.split()
                self.assertEqual(words[:2], ["a", o.size])
                self.assertEqual(words[-2:], [o.color, o.shape])
                self.assertEqual(o.pattern in words, o.pattern != "plain")
                for v in o.caption_variants():
                    self.assertIn(o.shape, v.split())
                    self.assertNotIn(1, tokenize(v), v)  # no unknown words

    def test_distinct_colours(self):
        names = list(COLORS)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                self.assertGreater(np.linalg.norm(np.subtract(COLORS[a], COLORS[b])), 60, (a, b))


class ExpressionTest(unittest.TestCase):
    SINGULAR = {s + ("es" if s.endswith("ss") else "s"): s for s in SHAPES}

    def same(self, sc, color, shape):
        return [i for i, o in enumerate(sc.objects) if o.color == color and o.shape == shape]

    def check_spatial(self, sc, e, m, cents):
        shape, rel, acolor, ashape = re.fullmatch(
            r"the (\w+) (left of|right of|above|below) the (\w+) (\w+)", e.text).groups()
        anchors = self.same(sc, acolor, ashape)
        self.assertEqual(len(anchors), 1, e.text)
        ax, ay = cents[anchors[0]]
        sign = {"left of": (-1, 0), "right of": (1, 0), "above": (0, -1), "below": (0, 1)}[rel]

        def main(i):
            return sign[0] * (cents[i][0] - ax) + sign[1] * (cents[i][1] - ay)
        self.assertEqual(sc.objects[e.target].shape, shape)
        self.assertGreaterEqual(main(e.target), m, e.text)
        for i, o in enumerate(sc.objects):
            if o.shape == shape and i not in (e.target, anchors[0]):
                self.assertLessEqual(main(i), 0, f"{e.text}: object {i} also qualifies")

    def check_comparative(self, sc, e):
        which, color, plural = re.fullmatch(r"the (larger|smaller) of the two (\w+) (\w+)", e.text).groups()
        pair = self.same(sc, color, self.SINGULAR[plural])
        self.assertEqual(len(pair), 2, e.text)
        self.assertIn(e.target, pair)
        other = pair[0] if pair[1] == e.target else pair[1]
        t, o = sc.objects[e.target].area, sc.objects[other].area
        ratio = t / o if which == "larger" else o / t
        self.assertGreaterEqual(ratio, 1.6, e.text)

    def check_distractor(self, sc, e, m, cents):
        g = re.fullmatch(r"the (\w+) (\w+) on the (left|right)", e.text)
        if g:
            color, shape, side = g.groups()
            axis, sign = 0, (-1 if side == "left" else 1)
        else:
            side, color, shape = re.fullmatch(r"the (top|bottom) (\w+) (\w+)", e.text).groups()
            axis, sign = 1, (-1 if side == "top" else 1)
        pair = self.same(sc, color, shape)
        self.assertEqual(len(pair), 2, e.text)
        self.assertIn(e.target, pair)
        other = pair[0] if pair[1] == e.target else pair[1]
        self.assertGreaterEqual(sign * (cents[e.target][axis] - cents[other][axis]), m, e.text)

    def test_every_expression_is_unambiguous(self):
        kinds = {"spatial": 0, "comparative": 0, "distractor": 0}
        ambiguous_spatial = 0
        for s in range(0, 150):
            sc = scene(s)
            m = max(12.0, 0.08 * min(sc.width, sc.height))
            cents = [centroid(o.mask) for o in sc.objects]
            for e in sc.expressions:
                kinds[e.kind] += 1
                self.assertTrue(0 <= e.target < len(sc.objects))
                self.assertNotIn(1, tokenize(e.text), e.text)
                if e.kind == "spatial":
                    self.check_spatial(sc, e, m, cents)
                    tshape = sc.objects[e.target].shape
                    ambiguous_spatial += sum(o.shape == tshape for o in sc.objects) >= 2
                elif e.kind == "comparative":
                    self.check_comparative(sc, e)
                else:
                    self.check_distractor(sc, e, m, cents)
        for k, n in kinds.items():
            self.assertGreaterEqual(n, 60, f"too few {k} expressions: {kinds}")
        self.assertGreater(ambiguous_spatial, 0.7 * kinds["spatial"])


class SplitTest(unittest.TestCase):
    def test_ranges(self):
        self.assertEqual(split_seeds("test", 3), [0, 1, 2])
        self.assertEqual(split_seeds("validation", 2), [10000, 10001])
        self.assertEqual(split_seeds("train", 2), [100000, 100001])
        self.assertEqual(split_seeds("test", 10000)[-1], 9999)
        with self.assertRaises(ValueError):
            split_seeds("test", 10001)
        with self.assertRaises(ValueError):
            split_seeds("dev", 1)

    def test_cli_write_split_is_idempotent(self):
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        with tempfile.TemporaryDirectory() as d:
            cmd = [sys.executable, "-m", "shapesworld", "write-split", "--split", "test", "--count", "2", "--out", d]
            subprocess.run(cmd, cwd=root, check=True, capture_output=True)
            mtimes = {f: os.stat(os.path.join(d, f)).st_mtime_ns for f in os.listdir(d)}
            out = subprocess.run(cmd, cwd=root, check=True, capture_output=True, text=True).stdout
            self.assertIn("(0 files written)", out)
            self.assertEqual(mtimes, {f: os.stat(os.path.join(d, f)).st_mtime_ns for f in os.listdir(d)})
            self.assertEqual(sorted(mtimes), ["index.json", "scene-000000.json", "scene-000000.png",
                                              "scene-000001.json", "scene-000001.png"])
            with open(os.path.join(d, "scene-000001.json")) as f:
                rec = json.load(f)
            sc = scene(1)
            self.assertEqual((rec["seed"], rec["width"], rec["height"]), (1, sc.width, sc.height))
            for o, r in zip(sc.objects, rec["objects"]):
                np.testing.assert_array_equal(rle_decode(r["mask"]), o.mask)
                self.assertEqual(r["caption"], o.caption)
            self.assertEqual(len(rec["expressions"]), len(sc.expressions))


class RleTest(unittest.TestCase):
    def test_hand_vectors(self):
        # 3x3, column-major: col0 000, col1 110, col2 011 -> runs 3 zeros, 2 ones, 2 zeros, 2 ones.
        # Chars: 3,2,2 -> '3','2','2'; the 4th is stored as 2 - counts[1] = 0 -> '0'.
        m = np.array([[0, 1, 0], [0, 1, 1], [0, 0, 1]], bool)
        self.assertEqual(rle_encode(m), {"size": [3, 3], "counts": "3220"})
        # Starts with ones: an empty zeros run first -> counts [0, 9] -> "09".
        self.assertEqual(rle_encode(np.ones((3, 3), bool))["counts"], "09")
        self.assertEqual(rle_encode(np.zeros((2, 2), bool))["counts"], "4")
        # 2x4 column-major 0,1 | 1,1 | 1,1 | 0,1 -> counts [1,5,1,1]; 4th: 1 - 5 = -4:
        # low 5 bits of -4 = 28 (sign bit 0x10 set), rest -1 -> stop -> chr(48 + 28) = 'L'.
        m = np.array([[0, 1, 1, 0], [1, 1, 1, 1]], bool)
        self.assertEqual(rle_encode(m)["counts"], "151L")
        # 10x10, first 5 columns empty -> counts [50, 50]: 50 = 18 + 1*32; 18 has bit 0x10 and
        # the rest (1) is not -1 -> continue: chr(48 + (18 | 32)) = 'b', then chr(48 + 1) = '1'.
        m = np.zeros((10, 10), bool)
        m[:, 5:] = True
        self.assertEqual(rle_encode(m), {"size": [10, 10], "counts": "b1b1"})

    def test_decode_hand_vector_and_list_counts(self):
        m = rle_decode({"size": [2, 4], "counts": "151L"})
        np.testing.assert_array_equal(m, [[0, 1, 1, 0], [1, 1, 1, 1]])
        np.testing.assert_array_equal(rle_decode({"size": [3, 3], "counts": [3, 2, 2, 2]}),
                                      [[0, 1, 0], [0, 1, 1], [0, 0, 1]])
        with self.assertRaises(ValueError):
            rle_decode({"size": [3, 3], "counts": [3, 2]})

    def test_round_trip(self):
        rng = np.random.default_rng(0)
        for shape in [(1, 1), (5, 7), (64, 33), (200, 150)]:
            for p in (0.02, 0.5, 0.98):
                m = rng.random(shape) < p
                np.testing.assert_array_equal(rle_decode(rle_encode(m)), m)
        for o in scene(3).objects:
            np.testing.assert_array_equal(rle_decode(rle_encode(o.mask)), o.mask)


class TokenizerTest(unittest.TestCase):
    def test_special_ids(self):
        v = build_vocab()
        self.assertEqual(v[:3], ["<|pad|>", "<|unk|>", "<|startoftext|>"])
        self.assertEqual(v[-1], "<|endoftext|>")
        self.assertEqual(len(v), len(set(v)))
        for w in ["circle", "triangles", "crosses", "gray", "striped", "dotted", "plain", "larger", "an"]:
            self.assertIn(w, v)

    def test_tokenize(self):
        v = build_vocab()
        eos = len(v) - 1
        ids = tokenize("A Red STAR")
        self.assertEqual(len(ids), 77)
        self.assertEqual(ids[:5], [2, v.index("a"), v.index("red"), v.index("star"), eos])
        self.assertEqual(set(ids[5:]), {0})
        self.assertEqual(tokenize("zebra, star")[:5], [2, 1, 1, v.index("star"), eos])
        self.assertEqual(max(tokenize("the larger of the two green triangles")), eos)

    def test_truncation_keeps_eos(self):
        v = build_vocab()
        ids = tokenize(" ".join(["star"] * 100))
        self.assertEqual(len(ids), 77)
        self.assertEqual(ids[0], 2)
        self.assertEqual(ids[-1], len(v) - 1)
        self.assertEqual(ids[1:-1], [v.index("star")] * 75)
        self.assertEqual(tokenize(" ".join(["star"] * 75))[-1], len(v) - 1)
        self.assertEqual(tokenize(" ".join(["star"] * 74))[-1], 0)
        self.assertEqual(tokenize("a star a star a star", context_length=5),
                         [2, v.index("a"), v.index("star"), v.index("a"), len(v) - 1])

    def test_tokenizer_json(self):
        v = build_vocab()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "tokenizer.json")
            write_tokenizer_json(path)
            with open(path) as f:
                tj = json.load(f)
        self.assertEqual(tj["model"]["type"], "WordPiece")
        self.assertEqual(tj["model"]["vocab"], {w: i for i, w in enumerate(v)})
        self.assertEqual({t["content"]: t["id"] for t in tj["added_tokens"]},
                         {"<|pad|>": 0, "<|unk|>": 1, "<|startoftext|>": 2, "<|endoftext|>": len(v) - 1})
        self.assertTrue(all(t["special"] for t in tj["added_tokens"]))
        pp = tj["post_processor"]
        self.assertEqual(pp["special_tokens"]["<|endoftext|>"]["ids"], [len(v) - 1])
        self.assertEqual(pp["single"][0], {"SpecialToken": {"id": "<|startoftext|>", "type_id": 0}})
        self.assertEqual(tj["normalizer"], {"type": "Lowercase"})


class PreprocessTest(unittest.TestCase):
    MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
    CMEAN, CSTD = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]

    def test_resize_longest_side(self):
        self.assertEqual(resize_longest_side_size(480, 640, 1024), (768, 1024))
        self.assertEqual(resize_longest_side_size(100, 300, 256), (85, 256))
        self.assertEqual(resize_longest_side_size(5, 8, 4), (3, 4))  # 2.5 rounds half up, not to even
        self.assertEqual(resize_longest_side_size(640, 480, 1024), (1024, 768))

    def test_segmenter_padding_bottom_right(self):
        img = np.zeros((100, 300, 3), np.uint8)
        img[:] = (200, 100, 50)
        x = segmenter_input(img, 64, self.MEAN, self.STD)
        self.assertEqual((x.shape, x.dtype), ((3, 64, 64), np.float32))
        nh, nw = resize_longest_side_size(100, 300, 64)
        self.assertEqual((nh, nw), (21, 64))
        self.assertTrue((x[:, nh:, :] == 0).all())
        expect = (np.array([200, 100, 50]) - self.MEAN) / self.STD
        np.testing.assert_allclose(x[:, :nh, :nw], np.broadcast_to(expect[:, None, None], (3, nh, nw)), atol=1e-6)
        tall = segmenter_input(np.full((300, 100, 3), 200, np.uint8), 64, self.MEAN, self.STD)
        self.assertTrue((tall[:, :, 21:] == 0).all())
        self.assertTrue((tall[:, :, :21] != 0).all())

    def test_embedder_image_centred_pad(self):
        img = np.full((50, 100, 3), 255, np.uint8)
        x = embedder_image(img, 10, self.CMEAN, self.CSTD)
        self.assertEqual((x.shape, x.dtype), ((3, 10, 10), np.float32))
        white = (1 - np.array(self.CMEAN)) / self.CSTD
        pad = (np.floor(np.array(self.CMEAN) * 255 + 0.5) / 255 - self.CMEAN) / self.CSTD
        np.testing.assert_allclose(x[:, 0, 0], pad, atol=1e-6)   # top padding: mean colour
        np.testing.assert_allclose(x[:, 9, 5], pad, atol=1e-6)   # bottom padding
        np.testing.assert_allclose(x[:, 5, 0], white, atol=1e-6)  # no padding left/right

    def test_embedder_alpha_area_average(self):
        mask = np.ones((50, 100), bool)
        a = embedder_alpha(mask, 10)
        self.assertEqual((a.shape, a.dtype), ((1, 10, 10), np.float32))
        frac = a[0] * 0.26 + 0.5
        # L=100, image rows 25..74; output row r covers rows 10r..10r+9.
        np.testing.assert_allclose(frac[:, 0], [0, 0, 0.5, 1, 1, 1, 1, 0.5, 0, 0], atol=1e-6)
        full_square = embedder_alpha(np.ones((40, 40), bool), 10)
        np.testing.assert_allclose(full_square, (1 - 0.5) / 0.26, atol=1e-6)
        np.testing.assert_allclose(embedder_alpha_full(10), full_square, atol=1e-6)
        self.assertEqual(embedder_alpha_full(7).shape, (1, 7, 7))
        one = np.zeros((20, 20), bool)
        one[0:2, 0:2] = True  # exactly one 2x2 output cell when E = 10
        frac = embedder_alpha(one, 10)[0] * 0.26 + 0.5
        self.assertAlmostEqual(float(frac[0, 0]), 1.0, places=6)
        self.assertAlmostEqual(float(frac.sum()), 1.0, places=5)


if __name__ == "__main__":
    unittest.main()
