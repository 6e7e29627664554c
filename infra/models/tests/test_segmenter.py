"""Segmenter contract tests: shapes, official-wrapper semantics, batched == single, ONNX round-trip.

    cd infra/models && /usr/bin/python3 -m unittest discover -s tests
"""
import copy
import os
import shutil
import subprocess
import tempfile
import unittest

import numpy as np
import onnx
import torch

from segmenter import amg, export
from segmenter.fast_decoder import FastBatchedDecoder
from segmenter.model import MASK_SIZE, TinySam
from segmenter.onnx_wrappers import BatchedDecoder, SamOnnxDecoder, resize_longest_image_size

torch.set_num_threads(2)


def no_mask(b):
    return torch.zeros(b, 1, MASK_SIZE, MASK_SIZE), torch.zeros(b)


class SegmenterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.manual_seed(0)
        cls.sam = TinySam().eval()
        with torch.no_grad():
            cls.emb = cls.sam.image_encoder(torch.randn(1, 3, 256, 256))
        cls.single = SamOnnxDecoder(cls.sam)
        cls.batched = BatchedDecoder(cls.sam)

    def decode_single(self, coords, labels, orig=(300.0, 400.0), mask=None, has=None):
        mi, hm = no_mask(1)
        mask = mi if mask is None else mask
        has = hm if has is None else has
        with torch.no_grad():
            return self.single(self.emb, torch.tensor([coords]), torch.tensor([labels]), mask, has,
                               torch.tensor(orig))

    def test_output_shapes(self):
        self.assertEqual(tuple(self.emb.shape), (1, 64, 32, 32))
        masks, iou, low = self.decode_single([[10.0, 20.0], [0.0, 0.0]], [1.0, -1.0], orig=(300.0, 400.0))
        self.assertEqual(tuple(masks.shape), (1, 4, 300, 400))
        self.assertEqual(tuple(iou.shape), (1, 4))
        self.assertEqual(tuple(low.shape), (1, 4, 128, 128))
        with torch.no_grad():
            iou_b, low_b = self.batched(self.emb, torch.rand(7, 3, 2) * 256, torch.ones(7, 3), *no_mask(7))
        self.assertEqual((tuple(iou_b.shape), tuple(low_b.shape)), ((7, 4), (7, 4, 128, 128)))

    def test_batched_equals_single_per_prompt(self):
        coords = torch.tensor([[[30.0, 40.0], [100.0, 90.0]], [[200.0, 10.0], [0.0, 0.0]],
                               [[5.0, 250.0], [60.0, 61.0]], [[128.0, 128.0], [0.0, 0.0]]])
        labels = torch.tensor([[1.0, 0.0], [1.0, -1.0], [2.0, 3.0], [0.0, -1.0]])
        mask_input = torch.randn(4, 1, MASK_SIZE, MASK_SIZE) * 3
        has = torch.tensor([0.0, 1.0, 0.0, 1.0])
        with torch.no_grad():
            iou_b, low_b = self.batched(self.emb, coords, labels, mask_input, has)
        for i in range(4):
            _, iou, low = self.decode_single(coords[i].tolist(), labels[i].tolist(),
                                             mask=mask_input[i:i + 1], has=has[i:i + 1])
            torch.testing.assert_close(iou_b[i], iou[0], atol=1e-5, rtol=1e-5)
            torch.testing.assert_close(low_b[i], low[0], atol=1e-4, rtol=1e-5)

    def test_fast_batched_decoder_equals_the_defining_module(self):
        """The exported batched graph is FastBatchedDecoder; it must compute BatchedDecoder's
        function. float64 and perturbed weights (LayerNorm affine, biases non-trivial), so any
        layout slip shows far above rounding."""
        sam = copy.deepcopy(self.sam).double()
        g = torch.Generator().manual_seed(5)
        with torch.no_grad():
            for p in sam.parameters():
                p.add_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.05)
            emb = torch.randn(1, 64, 32, 32, generator=g, dtype=torch.float64)
            for b, labels in [(9, [[1.0, -1.0], [0.0, 1.0], [1.0, 1.0], [2.0, 3.0], [-1.0, 1.0]] * 2),
                              (3, [[1.0, 0.0, -1.0]] * 3)]:
                labels = torch.tensor(labels[:b], dtype=torch.float64)
                coords = torch.rand(b, labels.shape[1], 2, generator=g, dtype=torch.float64) * 256
                mask = torch.randn(b, 1, MASK_SIZE, MASK_SIZE, generator=g, dtype=torch.float64) * 4
                # Mask prompts on every other row, then on none (the skipped branch AMG takes).
                for has in [(torch.arange(b) % 2).double(), torch.zeros(b, dtype=torch.float64)]:
                    want_iou, want_low = BatchedDecoder(sam)(emb, coords, labels, mask, has)
                    got_iou, got_low = FastBatchedDecoder(sam)(emb, coords, labels, mask, has)
                    self.assertEqual(got_low.shape, want_low.shape)
                    self.assertGreater(want_low.abs().max().item(), 0.1)
                    torch.testing.assert_close(got_low, want_low, atol=1e-9, rtol=1e-9)
                    torch.testing.assert_close(got_iou, want_iou, atol=1e-9, rtol=1e-9)

    def test_padding_points_change_nothing(self):
        ref = self.decode_single([[50.0, 60.0]], [1.0])
        moved = self.decode_single([[50.0, 60.0], [123.0, 7.0]], [1.0, -1.0])
        padded = self.decode_single([[50.0, 60.0], [0.0, 0.0], [9.0, 9.0]], [1.0, -1.0, -1.0])
        for a, b in zip(ref, moved):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
        for a, b in zip(ref, padded):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
        other = self.decode_single([[50.0, 60.0], [123.0, 7.0]], [1.0, 0.0])
        self.assertGreater((other[2] - ref[2]).abs().max().item(), 1e-4)  # a real point does matter

    def test_mask_input_ignored_without_has_mask(self):
        a = self.decode_single([[50.0, 60.0]], [1.0], mask=torch.randn(1, 1, MASK_SIZE, MASK_SIZE))
        b = self.decode_single([[50.0, 60.0]], [1.0])
        torch.testing.assert_close(a[2], b[2])
        c = self.decode_single([[50.0, 60.0]], [1.0], mask=torch.randn(1, 1, MASK_SIZE, MASK_SIZE) * 5,
                               has=torch.ones(1))
        self.assertGreater((c[2] - b[2]).abs().max().item(), 1e-4)

    def test_resized_size_matches_preprocess(self):
        from shapesworld.preprocess import resize_longest_side_size
        for h, w in [(300, 400), (120, 161), (1024, 333), (511, 512), (7, 1000)]:
            got = resize_longest_image_size(torch.tensor([float(h), float(w)]), 256).tolist()
            self.assertEqual(tuple(got), resize_longest_side_size(h, w, 256))

    def test_point_grid_and_nms(self):
        g = amg.build_point_grid(16)
        self.assertEqual(g.shape, (256, 2))
        np.testing.assert_allclose(g[0], [1 / 32, 1 / 32])
        np.testing.assert_allclose(g[1], [3 / 32, 1 / 32])     # x varies fastest
        boxes = torch.tensor([[0.0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]])
        keep = amg.box_nms(boxes, torch.tensor([0.5, 0.9, 0.1]), 0.7)
        self.assertEqual(keep.tolist(), [1, 2])

    def test_onnx_export_round_trip(self):
        tmp = tempfile.mkdtemp()
        try:
            self._round_trip(tmp)
        finally:
            shutil.rmtree(tmp)

    def _round_trip(self, tmp):
        pack, fixtures = os.path.join(tmp, "pack"), os.path.join(tmp, "fixtures")
        os.makedirs(pack)
        emb = None
        for part in ["encoder", "decoder", "batchedDecoder"]:
            inputs = export.example_inputs(part, emb)
            if part == "batchedDecoder":   # other B and N than at export time: dynamic axes
                inputs = (emb, torch.rand(7, 3, 2) * 256, torch.tensor([[1.0, 0.0, -1.0]] * 7),
                          *no_mask(7))
            if part == "decoder":
                inputs = inputs[:5] + (torch.tensor([333.0, 517.0]),)
            with torch.no_grad():
                outputs = export.reference(part)(self.sam)(*inputs)
            outputs = outputs if isinstance(outputs, tuple) else (outputs,)
            emb = outputs[0] if part == "encoder" else emb
            desc = export.export_part(self.sam, part, export.example_inputs(part, emb), pack)
            model = onnx.load(os.path.join(pack, desc["file"]))
            onnx.checker.check_model(model)
            self.assertEqual([i.name for i in model.graph.input], [t["name"] for t in desc["inputs"]])
            self.assertEqual([o.name for o in model.graph.output], [t["name"] for t in desc["outputs"]])
            for value, t in zip(list(model.graph.input) + list(model.graph.output), desc["inputs"] + desc["outputs"]):
                dims = [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]
                self.assertEqual(len(dims), len(t["shape"]), t["name"])
                for d, want in zip(dims, t["shape"]):
                    if isinstance(want, int):
                        self.assertEqual(d, want, t["name"])
                    else:
                        self.assertIsInstance(d, str, t["name"])
            export.write_fixture(part, inputs, outputs, fixtures)
        self._run_onnxruntime_node(pack, fixtures)

    def _run_onnxruntime_node(self, pack, fixtures):
        repo = export.REPO
        if shutil.which("node") is None or not os.path.isdir(os.path.join(repo, "node_modules", "onnxruntime-node")):
            self.skipTest("node / onnxruntime-node not available")
        script = os.path.join(repo, "infra", "models", "parity_check.cjs")
        run = subprocess.run(["node", script, pack, fixtures], cwd=repo, capture_output=True, text=True)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)


if __name__ == "__main__":
    unittest.main()
