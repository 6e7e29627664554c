"""Production SAM exporter: official state-dict layout per arch, strict loading, decoder semantics,
the exported graphs' declared contract. Numeric parity against onnxruntime runs in TypeScript
(test/node/production-sam.test.ts).

    cd infra/models && /usr/bin/python3 -m unittest tests.test_export_sam
"""
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import onnx
import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from export.sam import (GRAPH_HEADROOM, SAM_AMG_DEFAULTS, export_part, export_segmenter,  # noqa: E402
                        initializer_bytes)
from export.sam_decoder import SamFastDecoder  # noqa: E402
from export.sam_model import (Sam, build_sam, load_sam, relative_position_table,  # noqa: E402
                              window_partition, window_unpartition)
from export.sam_preprocess import sam_preprocess, synthetic_image  # noqa: E402
from export.tiny_vit import attention_bias_index  # noqa: E402
from segmenter.onnx_wrappers import BatchedDecoder, SamOnnxDecoder  # noqa: E402
from shapesworld.preprocess import segmenter_input  # noqa: E402

torch.set_num_threads(2)

# Facts from segment-anything's / MobileSAM's own modules (state_dict() of build_sam_vit_b/l/h and
# build_sam_vit_t): number of entries, number of values, and a sample of names with their shapes.
OFFICIAL = {
    "vit_b": (314, 93_735_728, {
        "image_encoder.pos_embed": [1, 64, 64, 768],
        "image_encoder.patch_embed.proj.weight": [768, 3, 16, 16],
        "image_encoder.blocks.0.attn.rel_pos_h": [27, 64],
        "image_encoder.blocks.2.attn.rel_pos_h": [127, 64],
        "image_encoder.blocks.11.attn.rel_pos_w": [127, 64],
        "image_encoder.blocks.11.attn.qkv.weight": [2304, 768],
        "image_encoder.blocks.11.mlp.lin1.weight": [3072, 768],
        "image_encoder.neck.0.weight": [256, 768, 1, 1],
        "image_encoder.neck.3.bias": [256]}),
    "vit_l": (482, 312_343_088, {
        "image_encoder.pos_embed": [1, 64, 64, 1024],
        "image_encoder.blocks.2.attn.rel_pos_h": [27, 64],
        "image_encoder.blocks.23.attn.rel_pos_w": [127, 64],
        "image_encoder.blocks.22.attn.rel_pos_w": [27, 64],
        "image_encoder.neck.0.weight": [256, 1024, 1, 1]}),
    "vit_h": (594, 641_090_864, {
        "image_encoder.pos_embed": [1, 64, 64, 1280],
        "image_encoder.blocks.30.attn.rel_pos_h": [27, 80],
        "image_encoder.blocks.31.attn.rel_pos_h": [127, 80],
        "image_encoder.blocks.31.attn.proj.weight": [1280, 1280],
        "image_encoder.neck.0.weight": [256, 1280, 1, 1]}),
    "mobile_sam": (439, 10_140_231, {
        "image_encoder.patch_embed.seq.0.c.weight": [32, 3, 3, 3],
        "image_encoder.patch_embed.seq.0.bn.num_batches_tracked": [],
        "image_encoder.layers.0.blocks.0.conv2.c.weight": [256, 1, 3, 3],
        "image_encoder.layers.1.blocks.0.attn.attention_biases": [4, 49],
        "image_encoder.layers.2.blocks.5.attn.attention_biases": [5, 196],
        "image_encoder.layers.2.downsample.conv2.c.weight": [320, 1, 3, 3],
        "image_encoder.layers.3.blocks.1.attn.attention_biases": [10, 49],
        "image_encoder.norm_head.weight": [320],
        "image_encoder.head.weight": [1000, 320],
        "image_encoder.neck.0.weight": [256, 320, 1, 1]}),
}
SHARED = {  # prompt encoder and mask decoder: identical in all four
    "prompt_encoder.pe_layer.positional_encoding_gaussian_matrix": [2, 128],
    "prompt_encoder.point_embeddings.3.weight": [1, 256],
    "prompt_encoder.not_a_point_embed.weight": [1, 256],
    "prompt_encoder.no_mask_embed.weight": [1, 256],
    "prompt_encoder.mask_downscaling.0.weight": [4, 1, 2, 2],
    "prompt_encoder.mask_downscaling.4.bias": [16],
    "prompt_encoder.mask_downscaling.6.weight": [256, 16, 1, 1],
    "mask_decoder.transformer.layers.0.self_attn.q_proj.weight": [256, 256],
    "mask_decoder.transformer.layers.1.cross_attn_token_to_image.k_proj.weight": [128, 256],
    "mask_decoder.transformer.layers.1.cross_attn_image_to_token.out_proj.weight": [256, 128],
    "mask_decoder.transformer.layers.1.mlp.lin1.weight": [2048, 256],
    "mask_decoder.transformer.layers.1.norm4.weight": [256],
    "mask_decoder.transformer.final_attn_token_to_image.v_proj.weight": [128, 256],
    "mask_decoder.transformer.norm_final_attn.bias": [256],
    "mask_decoder.iou_token.weight": [1, 256],
    "mask_decoder.mask_tokens.weight": [4, 256],
    "mask_decoder.output_upscaling.0.weight": [256, 64, 2, 2],
    "mask_decoder.output_upscaling.1.weight": [64],
    "mask_decoder.output_upscaling.3.weight": [64, 32, 2, 2],
    "mask_decoder.output_hypernetworks_mlps.3.layers.2.weight": [32, 256],
    "mask_decoder.iou_prediction_head.layers.2.weight": [4, 256],
}


class StateDictLayoutTest(unittest.TestCase):
    def check_arch(self, arch):
        count, values, sample = OFFICIAL[arch]
        state = build_sam(arch).state_dict()
        self.assertEqual(len(state), count)
        self.assertEqual(sum(t.numel() for t in state.values()), values)
        for name, shape in {**sample, **SHARED}.items():
            self.assertIn(name, state)
            self.assertEqual(list(state[name].shape), shape, name)
        self.assertFalse(any("pixel_mean" in k or "attention_bias_idxs" in k for k in state),
                         "non-persistent buffers must stay out of the state dict")

    def test_vit_b(self):
        self.check_arch("vit_b")

    def test_vit_l(self):
        self.check_arch("vit_l")

    def test_vit_h(self):
        self.check_arch("vit_h")

    def test_mobile_sam(self):
        self.check_arch("mobile_sam")

    def test_checkpoint_round_trip_is_strict(self):
        sam = load_sam("mobile_sam", seed=5)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "mobile_sam.pt")
            torch.save(sam.state_dict(), path)
            loaded = load_sam("mobile_sam", checkpoint=path)
            for (k, a), (_, b) in zip(sam.state_dict().items(), loaded.state_dict().items()):
                self.assertTrue(torch.equal(a, b), k)
            state = sam.state_dict()
            state.pop("mask_decoder.iou_token.weight")
            torch.save(state, path)
            with self.assertRaisesRegex(RuntimeError, "Missing key.*iou_token"):
                load_sam("mobile_sam", checkpoint=path)
            state = {**sam.state_dict(), "image_encoder.extra": torch.zeros(1)}
            torch.save(state, path)
            with self.assertRaisesRegex(RuntimeError, "Unexpected key.*image_encoder.extra"):
                load_sam("mobile_sam", checkpoint=path)

    def test_random_weights_are_seeded(self):
        a, b, c = (load_sam("mobile_sam", seed=s).state_dict() for s in (1, 1, 2))
        key = "image_encoder.layers.1.blocks.0.attn.attention_biases"
        self.assertTrue(torch.equal(a[key], b[key]))
        self.assertFalse(torch.equal(a[key], c[key]))
        self.assertGreater(a[key].abs().max().item(), 0, "position biases must not stay zero")


class GeometryTest(unittest.TestCase):
    def test_window_partition_pads_64_to_70_and_round_trips(self):
        x = torch.randn(1, 64, 64, 3)
        windows, padded = window_partition(x, 14)
        self.assertEqual(padded, (70, 70))
        self.assertEqual(list(windows.shape), [25, 14, 14, 3])
        self.assertTrue(torch.equal(windows[0], x[0, :14, :14]))     # top-left window
        self.assertTrue(torch.equal(windows[1], x[0, :14, 14:28]))   # row-major order of windows
        self.assertEqual(windows[24, 8:].abs().sum().item(), 0)       # rows 64..69: padding
        self.assertTrue(torch.equal(window_unpartition(windows, 14, padded, (64, 64)), x))

    def test_relative_position_table_indexes_offset_q_minus_k(self):
        table = torch.arange(5.0)[:, None]     # rows for offsets -2..2
        got = relative_position_table(3, table)[..., 0]
        self.assertEqual(got.tolist(), [[2, 1, 0], [3, 2, 1], [4, 3, 2]])
        with self.assertRaises(ValueError):
            relative_position_table(4, table)

    def test_tiny_vit_bias_index_numbers_offsets_in_first_appearance_order(self):
        index, n = attention_bias_index(2)
        self.assertEqual(n, 4)
        self.assertEqual(index.tolist(), [[0, 1, 2, 3], [1, 0, 3, 2], [2, 3, 0, 1], [3, 2, 1, 0]])

    def test_sam_preprocess_matches_the_pipeline_reference(self):
        img = synthetic_image(48, 64)
        sam = sam_preprocess(img, 128)[0].numpy()
        ours = segmenter_input(img, 128, [123.675, 116.28, 103.53], [58.395, 57.12, 57.375])
        self.assertLessEqual(np.abs(sam - ours).max(), 1e-5)
        self.assertEqual(np.abs(sam[:, 96:, :]).max(), 0)            # 48x64 -> 96x128, padded below


class DecoderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.manual_seed(0)
        cls.sam = Sam(nn.Identity()).eval()
        cls.emb = torch.randn(1, 256, 64, 64)

    def test_batched_prompt_k_equals_single_prompt_k(self):
        coords = torch.tensor([[[100.0, 200.0], [0.0, 0.0]], [[900.0, 40.0], [0.0, 0.0]]])
        labels = torch.tensor([[1.0, -1.0], [0.0, -1.0]])
        mask = torch.randn(2, 1, 256, 256)
        has = torch.tensor([0.0, 1.0])
        with torch.no_grad():
            iou, low = BatchedDecoder(self.sam)(self.emb, coords, labels, mask, has)
            for k in range(2):
                masks, iou_k, low_k = SamOnnxDecoder(self.sam)(
                    self.emb, coords[k:k + 1], labels[k:k + 1], mask[k:k + 1], has[k:k + 1],
                    torch.tensor([480.0, 640.0]))
                self.assertEqual(list(masks.shape), [1, 4, 480, 640])
                self.assertLessEqual((low_k[0] - low[k]).abs().max().item(), 1e-5)
                self.assertLessEqual((iou_k[0] - iou[k]).abs().max().item(), 1e-5)

    def test_fast_decoder_equals_the_defining_module(self):
        """The exported batched graph is SamFastDecoder; it must compute BatchedDecoder's function
        (padding points attending included). float64 and perturbed weights, so that every bias and
        LayerNorm affine is non-trivial and a layout slip shows far above rounding."""
        sam = Sam(nn.Identity()).eval().double()
        g = torch.Generator().manual_seed(5)
        with torch.no_grad():
            for p in sam.parameters():
                p.add_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.05)
            emb = torch.randn(1, 256, 64, 64, generator=g, dtype=torch.float64)
            labels = torch.tensor([[1.0, -1.0], [0.0, 1.0], [2.0, 3.0]], dtype=torch.float64)
            coords = torch.rand(3, 2, 2, generator=g, dtype=torch.float64) * 1024
            mask = torch.randn(3, 1, 256, 256, generator=g, dtype=torch.float64) * 4
            for has in [torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64), torch.zeros(3, dtype=torch.float64)]:
                want_iou, want_low = BatchedDecoder(sam)(emb, coords, labels, mask, has)
                got_iou, got_low = SamFastDecoder(sam)(emb, coords, labels, mask, has)
                self.assertGreater(want_low.abs().max().item(), 0.1)
                torch.testing.assert_close(got_low, want_low, atol=1e-9, rtol=1e-9)
                torch.testing.assert_close(got_iou, want_iou, atol=1e-9, rtol=1e-9)

    def test_padding_point_takes_part_as_in_segment_anything(self):
        """Official SAM attends to the not-a-point token; the tiny model hides it. Weights trained
        by segment-anything expect the official behaviour, so padded != unpadded here."""
        no_mask = (torch.zeros(1, 1, 256, 256), torch.zeros(1))
        with torch.no_grad():
            _, padded = BatchedDecoder(self.sam)(self.emb, torch.tensor([[[100.0, 200.0], [0.0, 0.0]]]),
                                                 torch.tensor([[1.0, -1.0]]), *no_mask)
            _, alone = BatchedDecoder(self.sam)(self.emb, torch.tensor([[[100.0, 200.0]]]),
                                                torch.tensor([[1.0]]), *no_mask)
        self.assertGreater((padded - alone).abs().max().item(), 1e-3)


class ExportTest(unittest.TestCase):
    def test_arguments_are_checked(self):
        with self.assertRaisesRegex(ValueError, "unknown SAM arch"):
            export_segmenter(None, "vit_x", "/nonexistent")
        with self.assertRaisesRegex(ValueError, "seed only applies"):
            export_segmenter("sam_vit_b_01ec64.pth", "vit_b", "/nonexistent", seed=1)

    def test_mobile_sam_export_declares_the_manifest_contract(self):
        with tempfile.TemporaryDirectory() as out:
            section = export_segmenter(None, "mobile_sam", out, seed=0)
            json.dumps(section)   # plain JSON
            self.assertEqual(section["imageSize"], 1024)
            self.assertEqual(section["amg"], SAM_AMG_DEFAULTS)
            self.assertEqual(section["amg"]["pointsPerSide"], 32)
            for part in ("encoder", "decoder", "batchedDecoder"):
                model = onnx.load(os.path.join(out, section[part]["file"]))
                onnx.checker.check_model(model)
                for value, want in zip(list(model.graph.input) + list(model.graph.output),
                                       section[part]["inputs"] + section[part]["outputs"]):
                    dims = [d.dim_value if d.HasField("dim_value") else d.dim_param
                            for d in value.type.tensor_type.shape.dim]
                    self.assertEqual((value.name, dims), (want["name"], want["shape"]))
            self.assertEqual(section["encoder"]["outputs"][0]["shape"], [1, 256, 64, 64])
            self.assertEqual(section["decoder"]["inputs"][3]["shape"], [1, 1, 256, 256])


def constant_products(model):
    """{node name: (inner size K, weight name)} of the MatMul / Gemm nodes whose second input is a weight."""
    inits = {i.name: list(i.dims) for i in model.graph.initializer}
    out = {}
    for n in model.graph.node:
        dims = inits.get(n.input[1]) if n.op_type in ("MatMul", "Gemm") else None
        if dims and len(dims) == 2:
            trans_b = any(a.name == "transB" and a.i for a in n.attribute)
            out[n.name] = (dims[1] if trans_b else dims[0], n.input[1])
    return out


class PrecisionTest(unittest.TestCase):
    """--fp16 / --int8 for SAM (export.onnx_weights on each graph), on SAM's decoder (16 MB, the
    same in every arch); numeric drift on trained weights: test/node/onnx-variants.test.ts."""

    @classmethod
    def setUpClass(cls):
        torch.manual_seed(0)
        cls.sam = Sam(nn.Identity()).eval()
        cls.tmp = tempfile.TemporaryDirectory()
        cls.models, cls.entries = {}, {}
        for precision in ("fp32", "fp16", "int8"):
            out = os.path.join(cls.tmp.name, precision)
            os.makedirs(out)
            cls.entries[precision] = export_part(cls.sam, "decoder", out, precision=precision)
            cls.models[precision] = onnx.load(os.path.join(out, cls.entries[precision]["file"]))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_int8_quantises_every_weight_product_but_the_positional_encoding(self):
        products = constant_products(self.models["fp32"])
        ops = [n.op_type for n in self.models["int8"].graph.node]
        small = {w for k, w in products.values() if k < 16}
        self.assertGreater(len(products), 40)
        # the points' and the dense grid's positional encodings: [..., 2] @ the [2, 128] Gaussian matrix
        self.assertEqual(small, {"batched.sam.prompt_encoder.pe_layer.positional_encoding_gaussian_matrix"})
        left = constant_products(self.models["int8"])
        self.assertEqual(ops.count("DynamicQuantizeMatMul"), len(products) - len(left))
        self.assertEqual({w for _, w in left.values()}, small)

    def test_fp16_stores_the_weights_as_half(self):
        big = [i for i in self.models["fp16"].graph.initializer if np.prod(i.dims) >= 16]
        self.assertTrue(big and all(i.data_type == onnx.TensorProto.FLOAT16 for i in big))

    def test_inputs_outputs_and_contract_unchanged(self):
        want = self.entries["fp32"]
        for precision in ("fp16", "int8"):
            model, entry = self.models[precision], self.entries[precision]
            self.assertEqual(entry, want)
            for value in list(model.graph.input) + list(model.graph.output):
                self.assertEqual(value.type.tensor_type.elem_type, onnx.TensorProto.FLOAT, value.name)

    def test_the_file_limit_is_decided_on_the_rewritten_weights(self):
        """fp32 weights over the limit go to a .data file, the same graph in fp16 under it does not
        (ViT-H's 2.5 GB fp32 encoder is 1.3 GB in fp16: one file)."""
        limit = GRAPH_HEADROOM + 12 * 2 ** 20   # decoder: ~16 MB of weights fp32, ~8 MB fp16
        self.assertLess(initializer_bytes(self.models["fp16"]) + GRAPH_HEADROOM, limit)
        self.assertGreater(initializer_bytes(self.models["fp32"]) + GRAPH_HEADROOM, limit)
        with tempfile.TemporaryDirectory() as out:
            entry = export_part(self.sam, "decoder", out, external_data_threshold=limit, precision="fp16")
            self.assertNotIn("externalData", entry)
            self.assertEqual(os.listdir(out), [entry["file"]])

    def test_unknown_precision_is_refused(self):
        with self.assertRaisesRegex(ValueError, "unknown precision 'int4'"):
            export_part(self.sam, "decoder", self.tmp.name, precision="int4")


if __name__ == "__main__":
    unittest.main()
