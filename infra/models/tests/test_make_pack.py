"""make_pack.py: --version, --views FILE / --views-json and the views rules (both weights in [0, 1]
summing to 1 within 1e-9, cropMargin in [0, 1], exactly the documented keys, the detail view needs
embedder.clipImage); a fragment's own "views" is kept when none is given."""
import contextlib
import io
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import make_pack  # noqa: E402

VIEWS = {"context": {"weight": 0.7}, "detail": {"weight": 0.3, "cropMargin": 0.1}}


class MakePackViewsTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name
        for name in ("image.onnx", "clip-image.onnx", "tokenizer.json"):
            with open(os.path.join(self.dir, name), "wb") as f:
                f.write(name.encode())
        self.write_fragment()

    def write_fragment(self, clip_image=True, views=None):
        emb = {"image": {"file": "image.onnx"}, "embedDim": 8}
        if clip_image:
            emb["clipImage"] = {"file": "clip-image.onnx"}
        if views is not None:
            emb["views"] = views
        with open(os.path.join(self.dir, "embedder.json"), "w", encoding="utf-8") as f:
            json.dump({"embedder": emb, "tokenizer": {"file": "tokenizer.json"}}, f)

    def run_main(self, *argv):
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            make_pack.main(["--pack", self.dir, *argv])
        with open(os.path.join(self.dir, "manifest.json"), encoding="utf-8") as f:
            return json.load(f)

    def error_of(self, *argv):
        """The message a failing run ends with (argparse's usage error or build_manifest's SystemExit)."""
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err), \
                self.assertRaises(SystemExit) as cm:
            make_pack.main(["--pack", self.dir, *argv])
        self.assertNotEqual(cm.exception.code, 0)
        return f"{cm.exception.code} {err.getvalue()}"

    def test_no_views_is_an_alpha_only_pack_with_the_default_version(self):
        man = self.run_main()
        self.assertNotIn("views", man["embedder"])
        self.assertEqual(man["version"], make_pack.HEADER["version"])

    def test_version_override(self):
        self.assertEqual(self.run_main("--version", "1.1.0")["version"], "1.1.0")
        self.assertIn("--version must not be empty", self.error_of("--version", ""))

    def test_views_json_is_written_into_the_embedder_section(self):
        man = self.run_main("--views-json", json.dumps(VIEWS))
        self.assertEqual(man["embedder"]["views"], VIEWS)
        self.assertEqual(man["embedder"]["clipImage"], {"file": "clip-image.onnx"})  # the rest untouched
        with open(os.path.join(self.dir, "embedder.json"), encoding="utf-8") as f:
            self.assertNotIn("views", json.load(f)["embedder"])  # the fragment is not rewritten

    def test_views_file_and_idempotence(self):
        path = os.path.join(self.dir, "..", os.path.basename(self.dir) + "-views.json")
        self.addCleanup(os.remove, path)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(VIEWS, f)
        first = self.run_main("--views", path)
        with open(os.path.join(self.dir, "manifest.json"), "rb") as f:
            first_bytes = f.read()
        self.assertEqual(self.run_main("--views", path), first)
        with open(os.path.join(self.dir, "manifest.json"), "rb") as f:
            self.assertEqual(f.read(), first_bytes)
        self.assertEqual(first["embedder"]["views"], VIEWS)

    def test_fragment_views_are_kept_unless_overridden(self):
        mine = {"context": {"weight": 0.5}, "detail": {"weight": 0.5, "cropMargin": 0.25}}
        self.write_fragment(views=mine)
        self.assertEqual(self.run_main()["embedder"]["views"], mine)
        self.assertEqual(self.run_main("--views-json", json.dumps(VIEWS))["embedder"]["views"], VIEWS)

    def test_edge_values_are_accepted(self):
        for views in ({"context": {"weight": 1}, "detail": {"weight": 0, "cropMargin": 0}},
                      {"context": {"weight": 0.0}, "detail": {"weight": 1.0, "cropMargin": 1.0}},
                      {"context": {"weight": 0.1}, "detail": {"weight": 0.9 + 5e-10, "cropMargin": 0.5}}):
            with self.subTest(views=views):
                self.assertEqual(self.run_main("--views-json", json.dumps(views))["embedder"]["views"], views)

    def test_invalid_views_are_refused_clearly(self):
        bad = [
            ({"context": {"weight": 0.6}, "detail": {"weight": 0.5, "cropMargin": 0.1}}, "must be 1"),
            ({"context": {"weight": 0.5}, "detail": {"weight": 0.5 + 2e-9, "cropMargin": 0.1}}, "must be 1"),
            ({"context": {"weight": 1.5}, "detail": {"weight": -0.5, "cropMargin": 0.1}}, r"views.context.weight must be in \[0, 1\]"),
            ({"context": {"weight": 0.5}, "detail": {"weight": 0.5, "cropMargin": 1.5}}, r"views.detail.cropMargin must be in \[0, 1\]"),
            ({"context": {"weight": 0.5}, "detail": {"weight": 0.5, "cropMargin": -0.1}}, "cropMargin must be in"),
            ({"context": {"weight": 0.5}, "detail": {"weight": 0.5}}, "views.detail must have exactly weight, cropMargin"),
            ({"context": {"weight": 0.5, "cropMargin": 0.1}, "detail": {"weight": 0.5, "cropMargin": 0.1}},
             "views.context must have exactly weight"),
            ({"context": {"weight": 0.5}}, "exactly the keys context and detail"),
            ({"context": {"weight": 0.5}, "detail": {"weight": 0.5, "cropMargin": 0.1}, "extra": 1}, "exactly the keys"),
            ({"context": {"weight": "0.5"}, "detail": {"weight": 0.5, "cropMargin": 0.1}}, "must be a finite number"),
            ({"context": {"weight": True}, "detail": {"weight": False, "cropMargin": 0.1}}, "must be a finite number"),
            ([0.5, 0.5], "views must be an object"),
            ({"context": {"weight": 0.5, "relationWords": ["Left"]}, "detail": {"weight": 0.5, "cropMargin": 0.1}},
             "relationWords must be a list of at most 64 lowercase words"),
            ({"context": {"weight": 0.5, "relationWords": "left"}, "detail": {"weight": 0.5, "cropMargin": 0.1}},
             "relationWords must be a list"),
        ]
        for views, message in bad:
            with self.subTest(views=views):
                self.assertRegex(self.error_of("--views-json", json.dumps(views)), message)
        self.assertIn("not JSON", self.error_of("--views-json", "{context: 0.5}"))
        self.assertIn("No such file", self.error_of("--views", os.path.join(self.dir, "missing.json")))
        self.assertIn("not allowed with", self.error_of("--views", "x.json", "--views-json", "{}"))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "manifest.json")))  # nothing written

    def test_views_need_the_clip_image_model(self):
        self.write_fragment(clip_image=False)
        self.assertIn("needs embedder.clipImage", self.error_of("--views-json", json.dumps(VIEWS)))
        self.write_fragment(clip_image=False, views=VIEWS)  # an inconsistent fragment is refused too
        message = self.error_of()
        self.assertIn("invalid embedder views (embedder.json)", message)
        self.assertIn("needs embedder.clipImage", message)

    def test_views_without_an_embedder_fragment_are_refused(self):
        os.remove(os.path.join(self.dir, "embedder.json"))
        self.assertIn("embedder.json is missing", self.error_of("--views-json", json.dumps(VIEWS)))

    def test_check_views_is_usable_on_its_own(self):
        self.assertIs(make_pack.check_views(VIEWS), VIEWS)
        with self.assertRaisesRegex(ValueError, "needs embedder.clipImage"):
            make_pack.check_views(VIEWS, {"image": {}})
        with self.assertRaisesRegex(ValueError, "finite"):
            make_pack.check_views({"context": {"weight": float("nan")}, "detail": {"weight": 0.5, "cropMargin": 0}})


if __name__ == "__main__":
    unittest.main()
