"""ONNX external data (weights outside the .onnx, needed over 2 GiB): `external_data.py` and the
external-data branch of the SAM exporter write exactly the files their manifest entry names.
Loading such a pack runs in TypeScript (test/node/pack-external-data.test.ts).

    cd infra/models && /usr/bin/python3 -m unittest tests.test_external_data
"""
import os
import sys
import tempfile
import unittest

import onnx
import torch
from onnx import numpy_helper
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from export.sam import export_part  # noqa: E402
from export.sam_model import Sam  # noqa: E402
from external_data import save_with_external_data  # noqa: E402
from make_pack import referenced_files  # noqa: E402

ENCODER = os.path.join(os.path.dirname(__file__), "..", "..", "..", "models", "shapes-tiny",
                       "segmenter-encoder.onnx")


def external_locations(path):
    """{initializer name: location} of the initializers stored outside `path`, and the inline ones."""
    model = onnx.load(path, load_external_data=False)
    external, inline = {}, []
    for t in model.graph.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            external[t.name] = {e.key: e.value for e in t.external_data}["location"]
        else:
            inline.append(t.name)
    return external, inline


class SaveWithExternalDataTest(unittest.TestCase):
    def test_every_initializer_moves_to_the_one_named_file_and_loads_back_identical(self):
        original = onnx.load(ENCODER)
        with tempfile.TemporaryDirectory() as out:
            dst = os.path.join(out, "m.onnx")
            names = save_with_external_data(onnx.load(ENCODER), dst, size_threshold=0)
            self.assertEqual(names, ["m.onnx.data"])
            self.assertEqual(sorted(os.listdir(out)), ["m.onnx", "m.onnx.data"])
            external, inline = external_locations(dst)
            self.assertEqual(inline, [])
            self.assertEqual(set(external.values()), {"m.onnx.data"})
            self.assertEqual(len(external), len(original.graph.initializer))
            back = {t.name: numpy_helper.to_array(t) for t in onnx.load(dst).graph.initializer}
            for t in original.graph.initializer:
                self.assertTrue((back[t.name] == numpy_helper.to_array(t)).all(), t.name)


class SamExternalDataBranchTest(unittest.TestCase):
    """The 2 GiB threshold lowered to 0 on a small graph (SAM's decoder, 16 MB) forces the branch
    ViT-H's fp32 encoder takes."""

    @classmethod
    def setUpClass(cls):
        torch.manual_seed(0)
        cls.sam = Sam(nn.Identity()).eval()

    def test_manifest_entry_names_exactly_the_files_written(self):
        with tempfile.TemporaryDirectory() as out:
            entry = export_part(self.sam, "decoder", out, external_data_threshold=0)
            self.assertEqual(entry["file"], "segmenter-decoder.onnx")
            self.assertEqual(entry["externalData"], ["segmenter-decoder.onnx.data"])
            self.assertEqual(sorted(os.listdir(out)), sorted([entry["file"], *entry["externalData"]]))
            path = os.path.join(out, entry["file"])
            external, inline = external_locations(path)
            self.assertEqual(set(external.values()), set(entry["externalData"]))
            # Only tensors under 1 KiB stay inline: the weights are in the .data file.
            data_bytes = os.path.getsize(os.path.join(out, entry["externalData"][0]))
            self.assertGreater(data_bytes, 10 * os.path.getsize(path))
            onnx.checker.check_model(path)
            model = onnx.load(path)
            for value, want in zip(model.graph.input, entry["inputs"]):
                dims = [d.dim_value if d.HasField("dim_value") else d.dim_param
                        for d in value.type.tensor_type.shape.dim]
                self.assertEqual((value.name, dims), (want["name"], want["shape"]))

    def test_default_threshold_writes_one_file_and_no_external_data_key(self):
        with tempfile.TemporaryDirectory() as out:
            entry = export_part(self.sam, "decoder", out)
            self.assertNotIn("externalData", entry)
            self.assertEqual(os.listdir(out), [entry["file"]])
            self.assertEqual(external_locations(os.path.join(out, entry["file"]))[0], {})


class MakePackTest(unittest.TestCase):
    def test_external_data_names_count_as_referenced_files(self):
        section = {"segmenter": {"encoder": {"file": "e.onnx", "externalData": ["e.onnx.data"]},
                                 "decoder": {"file": "d.onnx"}}}
        self.assertEqual(referenced_files(section), ["e.onnx", "e.onnx.data", "d.onnx"])


if __name__ == "__main__":
    unittest.main()
