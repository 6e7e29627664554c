"""The robustness variant of the shapes world (shapesworld/robust.py): same seeds, objects turned and
partly hidden; masks are the visible parts; captions and expressions stay true; query-target rule;
determinism; the split's own scenes are byte-for-byte what they were.

Run: cd infra/models && /usr/bin/python3 -m unittest tests.test_shapesworld_robust
Rules are re-derived here from the stored placements and masks, independently of robust.py.
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

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

import test_shapesworld as base_tests  # noqa: E402
from shapesworld import SHAPES, generate_scene  # noqa: E402
from shapesworld.export import json_bytes, scene_record  # noqa: E402
from shapesworld.render import outline, rasterise  # noqa: E402
from shapesworld.rle import rle_decode  # noqa: E402
from shapesworld.robust import robust_scene, turned_angle, visible_turn  # noqa: E402
from shapesworld.tokenizer import tokenize  # noqa: E402

SEEDS = range(0, 60)
_CACHE = {}


def robust(seed):
    if seed not in _CACHE:
        _CACHE[seed] = robust_scene(seed)
    return _CACHE[seed]


def original(seed):
    return base_tests.scene(seed)  # test_shapesworld's cache of generate_scene


def footprint(obj, h, w):
    x0, y0, _, foot = rasterise(outline(obj.shape, obj.diameter, obj.angle), *obj.position)
    full = np.zeros((h, w), bool)
    full[y0:y0 + foot.shape[0], x0:x0 + foot.shape[1]] = foot
    return full


def identity(o):
    return (o.shape, o.color, o.size, o.pattern, o.rgb, o.shade_rgb, o.diameter)


class DefaultSplitUnchangedTest(unittest.TestCase):
    # sha256 (first 32 hex digits) of the raw RGB pixels and of the JSON record of test-split scenes,
    # taken before the robustness variant was added: the split's scenes must stay byte-identical.
    GOLDEN = {
        0: ("728e760a9ad6de4a59217f7b4a5f12e9", "5b76e13b815ecfb482c3dbf8a3cbba43"),
        1: ("96141a9d80328ac5f8499844bc4efe9c", "6749a79324bf7725dc08eb77d72322eb"),
        2: ("2a6d2864352a3e22bc812aad4b0f4f47", "3cabd94274e372f7dbf831da0484e612"),
        77: ("ba83d75e97b08712b5e8b704ff18abbe", "5345228bf6c7285a3d9dbd007b88ff1d"),
        9999: ("8bda70aca6b8be350b3b2fd97c688ab3", "4b06f0531cdd0d46d3ca59a34c5ddf8b"),
    }

    def test_split_scenes_are_unchanged(self):
        for seed, (pixels, record) in self.GOLDEN.items():
            with self.subTest(seed=seed):
                sc = generate_scene(seed)
                self.assertEqual(sc.variant, "")
                self.assertEqual(hashlib.sha256(sc.image.tobytes()).hexdigest()[:32], pixels)
                self.assertEqual(hashlib.sha256(json_bytes(scene_record(sc))).hexdigest()[:32], record)

    def test_robust_scene_leaves_the_split_scene_alone(self):
        before = hashlib.sha256(generate_scene(5).image.tobytes()).hexdigest()
        robust_scene(5)
        self.assertEqual(hashlib.sha256(generate_scene(5).image.tobytes()).hexdigest(), before)


class RobustDeterminismTest(unittest.TestCase):
    def test_same_seed_same_scene(self):
        a, b = robust_scene(11), robust_scene(11)
        self.assertEqual(a.image.tobytes(), b.image.tobytes())
        self.assertEqual(json_bytes(scene_record(a)), json_bytes(scene_record(b)))
        self.assertTrue((a.occluded == b.occluded).all())

    def test_same_seed_in_fresh_process(self):
        code = ("import hashlib,sys; sys.path.insert(0,'.'); from shapesworld.robust import robust_scene;"
                "print(hashlib.sha256(robust_scene(7).image.tobytes()).hexdigest())")
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
        self.assertEqual(out.stdout.strip(), hashlib.sha256(robust(7).image.tobytes()).hexdigest())

    def test_seeds_differ_and_differ_from_the_split_scene(self):
        self.assertNotEqual(robust(1).image.tobytes(), robust(2).image.tobytes())
        self.assertNotEqual(robust(1).image.tobytes(), original(1).image.tobytes())


class RobustSceneTest(unittest.TestCase):
    def test_same_scene_transformed(self):
        """Same size and background kind; the objects are the split scene's, in painter's order, with
        the same attributes and captions (an object left with no visible pixel is dropped)."""
        dropped = 0
        for s in SEEDS:
            sc, org = robust(s), original(s)
            self.assertEqual((sc.width, sc.height, sc.background, sc.variant), (org.width, org.height, org.background, "robust"))
            ids = [identity(o) for o in org.objects]
            pos = [ids.index(identity(o)) for o in sc.objects]
            self.assertEqual(pos, sorted(set(pos)), f"seed {s}: not the split scene's objects in order")
            dropped += len(org.objects) - len(sc.objects)
            for o, p in zip(sc.objects, pos):
                self.assertEqual(o.caption, org.objects[p].caption)
                self.assertEqual(o.original_angle, org.objects[p].angle)
                self.assertLessEqual(np.hypot(*np.subtract(o.position, org.objects[p].position)), 0.5 * o.diameter)
        self.assertLessEqual(dropped, 0.02 * sum(len(original(s).objects) for s in SEEDS))

    def test_rotation_keeps_captions_true(self):
        turned = 0
        for s in SEEDS:
            sc = robust(s)
            short = min(sc.width, sc.height)
            for o in sc.objects:
                self.assertIn(o.shape, SHAPES)
                frac = o.diameter / short  # the size word follows the diameter, which rotation keeps
                self.assertTrue(0.09 <= frac <= 0.14 if o.size == "small" else 0.20 <= frac <= 0.30)
                words = o.caption.split()
                self.assertEqual((words[:2], words[-2:]), (["a", o.size], [o.color, o.shape]))
                self.assertEqual(o.pattern in words, o.pattern != "plain")
                for v in o.caption_variants():
                    self.assertNotIn(1, tokenize(v), v)
                if o.shape in ("square", "diamond"):  # their names depend on orientation
                    self.assertLessEqual(abs(o.angle), 20)
                    self.assertGreaterEqual(abs(o.angle - o.original_angle), 10 - 1e-9)
                elif o.shape != "circle":
                    self.assertGreaterEqual(visible_turn(o.shape, o.original_angle, o.angle), 15 - 1e-9, o.shape)
                turned += o.shape != "circle"
        self.assertGreater(turned, 100)

    def test_turned_angle_ranges(self):
        rng = np.random.default_rng(0)
        for before in (-20.0, -5.0, 0.0, 12.0, 20.0):
            angles = [turned_angle(rng, "square", before) for _ in range(300)]
            self.assertTrue(all(-20 <= a <= 20 and abs(a - before) >= 10 for a in angles), before)
            self.assertGreater(max(angles) - min(angles), 15)
        hearts = [turned_angle(rng, "heart", 30.0) for _ in range(500)]
        self.assertTrue(all(-180 <= a < 180 and visible_turn("heart", 30.0, a) >= 15 for a in hearts))
        self.assertGreater(max(hearts) - min(hearts), 300)  # any orientation, upside down included
        self.assertTrue(all(visible_turn("hexagon", 0.0, turned_angle(rng, "hexagon", 0.0)) >= 15 for _ in range(200)))

    def test_masks_are_the_visible_parts(self):
        """mask = turned footprint minus later objects minus occluder patches: inside the object's own
        unoccluded silhouette, disjoint from every occluder pixel, painted in the object's colours."""
        for s in SEEDS:
            sc = robust(s)
            self.assertEqual(sc.occluded.shape, (sc.height, sc.width))
            feet = [footprint(o, sc.height, sc.width) for o in sc.objects]
            stack = np.stack([o.mask for o in sc.objects])
            self.assertLessEqual(stack.sum(0).max(), 1, f"seed {s}: masks overlap")
            for i, o in enumerate(sc.objects):
                later = np.zeros_like(o.mask)
                for f in feet[i + 1:]:
                    later |= f
                np.testing.assert_array_equal(o.mask, feet[i] & ~later & ~sc.occluded, f"seed {s} object {i}")
                self.assertFalse((o.mask & ~feet[i]).any())
                self.assertFalse((o.mask & sc.occluded).any())
                self.assertEqual(o.full_area, int(feet[i].sum()))
                ys, xs = np.nonzero(o.mask)
                self.assertEqual(o.area, len(xs))
                self.assertEqual(o.bbox_xywh, (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1))
                np.testing.assert_allclose(o.center, base_tests.centroid(o.mask))
                self.assertAlmostEqual(o.visible_fraction, o.area / o.full_area)
                px = sc.image[o.mask]
                self.assertTrue(((px == o.rgb).all(1) | (px == o.shade_rgb).all(1)).all(), f"seed {s}: {o.caption}")
                if o.pattern != "plain" and o.query_target:
                    self.assertGreater((px == o.shade_rgb).all(1).mean(), 0.05, f"seed {s}: {o.caption}")

    def test_occluder_patches_hide_a_share_of_their_object(self):
        patched, scenes_with_patch, hidden = 0, 0, []
        for s in SEEDS:
            sc = robust(s)
            feet = [footprint(o, sc.height, sc.width) for o in sc.objects]
            scenes_with_patch += sc.occluded.any()
            for i, o in enumerate(sc.objects):
                if not o.patch_fraction:
                    continue
                patched += 1
                self.assertTrue(0.10 <= o.patch_fraction <= 0.40)
                later = np.zeros_like(o.mask)
                for f in feet[i + 1:]:
                    later |= f
                unpatched = feet[i] & ~later  # what the objects alone leave visible
                share = (unpatched & sc.occluded).sum() / unpatched.sum()
                self.assertGreaterEqual(share, o.patch_fraction - 0.03, f"seed {s} object {i}")
                hidden.append(share)
            # Patch pixels are no object colour the masks claim, and nothing else is painted over objects.
            painted = np.zeros_like(sc.occluded)
            for o in sc.objects:
                painted |= o.mask
            self.assertFalse((painted & sc.occluded).any())
        self.assertEqual(scenes_with_patch, len(SEEDS))
        self.assertGreater(patched, 0.3 * sum(len(robust(s).objects) for s in SEEDS))
        self.assertTrue(0.15 <= float(np.median(hidden)) <= 0.45, np.median(hidden))

    def test_query_target_rule(self):
        targets = others = 0
        for s in SEEDS:
            sc = robust(s)
            for o in sc.objects:
                self.assertEqual(o.query_target, o.visible_fraction >= 0.5 and o.area >= 150, f"seed {s}: {o.caption}")
                same = [p for p in sc.objects if p.attributes == o.attributes]
                self.assertEqual(o.caption_unique, o.query_target and len(same) == 1)
                targets += o.query_target
                others += not o.query_target
        self.assertGreater(others, 0)                        # some objects are really hidden
        self.assertGreater(targets, 0.8 * (targets + others))


class RobustExpressionTest(unittest.TestCase):
    SINGULAR = base_tests.ExpressionTest.SINGULAR
    same = base_tests.ExpressionTest.same
    check_spatial = base_tests.ExpressionTest.check_spatial
    check_comparative = base_tests.ExpressionTest.check_comparative
    check_distractor = base_tests.ExpressionTest.check_distractor

    def pair_of(self, text):
        """(colour, shape) of a comparative or distractor expression."""
        g = re.fullmatch(r"the (?:larger|smaller) of the two (\w+) (\w+)", text)
        if g:
            return g.group(1), self.SINGULAR[g.group(2)]
        g = re.fullmatch(r"the (\w+) (\w+) on the (?:left|right)", text) or re.fullmatch(r"the (?:top|bottom) (\w+) (\w+)", text)
        return g.groups()

    def test_expressions_stay_true_and_name_query_targets(self):
        kinds = {"spatial": 0, "comparative": 0, "distractor": 0}
        for s in range(0, 100):
            sc = robust(s)
            m = max(12.0, 0.08 * min(sc.width, sc.height))
            cents = [base_tests.centroid(o.mask) for o in sc.objects]
            for e in sc.expressions:
                kinds[e.kind] += 1
                self.assertTrue(0 <= e.target < len(sc.objects))
                self.assertTrue(sc.objects[e.target].query_target, f"seed {s}: {e.text}")
                self.assertNotIn(1, tokenize(e.text), e.text)
                if e.kind == "spatial":
                    self.check_spatial(sc, e, m, cents)  # unambiguous among all objects, hidden ones too
                    acolor, ashape = re.fullmatch(r"the \w+ .+ the (\w+) (\w+)", e.text).groups()
                    (anchor,) = self.same(sc, acolor, ashape)
                    self.assertTrue(sc.objects[anchor].query_target, f"seed {s}: anchor of {e.text}")
                    continue
                pair = self.same(sc, *self.pair_of(e.text))
                self.assertEqual(len(pair), 2, e.text)
                self.assertTrue(all(sc.objects[i].query_target for i in pair), f"seed {s}: {e.text}")
                if e.kind == "comparative":
                    self.check_comparative(sc, e)  # visible areas
                    big, small = sorted(pair, key=lambda i: -sc.objects[i].area)
                    self.assertGreaterEqual(sc.objects[big].full_area, 1.6 * sc.objects[small].full_area, e.text)
                else:
                    self.check_distractor(sc, e, m, cents)
        for k, n in kinds.items():
            self.assertGreaterEqual(n, 25, f"too few {k} expressions: {kinds}")


class RobustCliTest(unittest.TestCase):
    def test_write_split_robust(self):
        with tempfile.TemporaryDirectory() as d:
            cmd = [sys.executable, "-m", "shapesworld", "write-split", "--split", "test", "--count", "2", "--out", d, "--robust"]
            first = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
            self.assertIn("test (robust): 2 scenes", first)
            self.assertEqual(sorted(os.listdir(d)), ["index.json", "scene-000000.json", "scene-000000.png",
                                                     "scene-000001.json", "scene-000001.png"])
            again = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
            self.assertIn("(0 files written)", again)
            with open(os.path.join(d, "index.json")) as f:
                index = json.load(f)
            self.assertEqual((index["split"], index["variant"], [e["seed"] for e in index["scenes"]]), ("test", "robust", [0, 1]))
            with open(os.path.join(d, "scene-000001.json")) as f:
                rec = json.load(f)
            sc = robust(1)
            self.assertEqual((rec["seed"], rec["width"], rec["height"], rec["variant"]), (1, sc.width, sc.height, "robust"))
            self.assertEqual(len(rec["objects"]), len(sc.objects))
            for i, (o, r) in enumerate(zip(sc.objects, rec["objects"])):
                self.assertEqual(r["index"], i)
                np.testing.assert_array_equal(rle_decode(r["mask"]), o.mask)
                self.assertEqual((r["caption"], r["caption_unique"], r["area"], r["bbox"]),
                                 (o.caption, o.caption_unique, o.area, list(o.bbox_xywh)))
                self.assertEqual((r["visible_fraction"], r["query_target"]), (round(o.visible_fraction, 4), o.query_target))
            self.assertEqual(rec["expressions"], [{"text": e.text, "target": e.target, "kind": e.kind} for e in sc.expressions])


if __name__ == "__main__":
    unittest.main()
