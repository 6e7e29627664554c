"""`BatchedDecoder`'s function, laid out for onnxruntime's CPU kernels: same weights, same outputs.

Why a second form: onnxruntime's profile of the batched decoder's graph (64 prompts per call, 2
threads) put most of its time in ops that move memory rather than multiply: a Softmax over 7
tokens for each of 64 x 4 x 1024 image positions (one short row per call, ~18 ms each), the
head split/merge Transposes of every [B, 1024, 32] image-side tensor, and two stride-2
ConvTranspose2d (col2im). The multiplies themselves are a small share.

What this form does instead, each step an exact rewrite of `model.py` (equal up to float rounding;
tests/test_segmenter.py compares the two; docs/decoder-speed.md has the profiles):
- Image-side tensors stay in token layout [B, HW, C] end to end. Heads are never split out of
  them: the few prompt tokens are expanded to one row per (head, token) with the other heads'
  channels zeroed ("head rows", [B, heads*T, C]), so every attention product is one plain MatMul
  against the untouched image tensor (onnxruntime folds the transposes into the MatMul).
- Image-to-token attention computes its logits as [B, heads, T, HW] and normalises over the T axis
  with ReduceMax/Exp/ReduceSum, which run along contiguous HW rows, instead of a Softmax over 7.
- Softmax rows sum to 1, so the value projection of token-to-image attention and the output
  projection of image-to-token attention move to the token side (hT rows instead of HW).
- Constant positional encodings fold into the projections' biases.
- A stride-2, kernel-2 ConvTranspose2d touches each output pixel once, so it is a MatMul to
  [B, HW, 4*C'] (one output channel group per sub-pixel); the LayerNorm2d between the two folds
  its centring into the first; a Transpose of whole channel groups after each puts the rows in
  raster order, and the hypernetwork product then writes the masks directly.
- The mask-prompt branch is an ONNX If that is skipped when no row has a mask prompt.
"""
import math
from typing import List

import torch
import torch.nn.functional as F
from torch import nn

from .model import NEG_INF, TinySam, layer_norm_2d


def _head_rows(x, head_mask):
    """[B, T, C] -> [B, heads*T, C]: row (h, t) is token t with only head h's channels kept.
    `head_mask` is [1, heads, 1, C], one on head h's channel block."""
    b, _, c = x.shape
    return (x.unsqueeze(1) * head_mask).reshape(b, -1, c)


def _proj_with_pe(linear, x, pe):
    """`linear(x + pe)` for a constant `pe` [1, HW, C]: `pe`'s share is folded into one constant
    [1, HW, C'] added with the bias, so the [B, HW, C] sum `x + pe` is never made."""
    w = linear.weight.t()
    return x @ w + (pe @ w + linear.bias)


def _as_matmul(conv_t):
    """ConvTranspose2d(k=2, s=2) weight [Cin, Cout, 2, 2] -> ([Cin, 4*Cout], bias [4*Cout]),
    columns ordered (ky, kx, cout)."""
    w = conv_t.weight
    return w.permute(0, 2, 3, 1).reshape(w.shape[0], -1), conv_t.bias.repeat(4)


@torch.jit.script
def _dense_tokens(mask_input: torch.Tensor, has_mask_input: torch.Tensor, w: List[torch.Tensor],
                  eps: float, hw: int) -> torch.Tensor:
    """`embed_masks` in token layout [B, HW, C], with the mask branch's weights `w` (conv0 w/b,
    norm0 w/b, conv1 w/b, norm1 w/b, the closing 1x1 conv as a [16, C] matrix and bias,
    no_mask_embed [1, 1, C]). Scripted, so the export keeps the branch as an ONNX If: when no row
    has a mask prompt (AMG never sends one), every row is `no_mask_embed`, which is exactly what
    the blend gives with has = 0, and the branch is skipped."""
    no_mask = w[10]
    if bool((has_mask_input != 0).any()):
        x = F.gelu(layer_norm_2d(F.conv2d(mask_input, w[0], w[1], stride=2), w[2], w[3], eps))
        x = F.gelu(layer_norm_2d(F.conv2d(x, w[4], w[5], stride=2), w[6], w[7], eps))
        x = x.flatten(2).transpose(1, 2) @ w[8] + w[9]                        # 1x1 conv, 16 wide
        has = has_mask_input.reshape(-1, 1, 1)
        return has * x + (1 - has) * no_mask
    return no_mask.expand(mask_input.shape[0], hw, no_mask.shape[2])


def _mask_branch_weights(prompt):
    md = prompt.mask_downscaling
    assert md[1].eps == md[4].eps
    return [md[0].weight, md[0].bias, md[1].weight, md[1].bias, md[3].weight, md[3].bias,
            md[4].weight, md[4].bias, md[6].weight.flatten(1).t(), md[6].bias,
            prompt.no_mask_embed.weight.reshape(1, 1, -1)], md[1].eps


class FastBatchedDecoder(nn.Module):
    """Drop-in for `BatchedDecoder`: (iou_predictions [B, 4], low_res_masks [B, 4, 4h, 4w])."""

    def __init__(self, sam: TinySam):
        super().__init__()
        self.prompt = sam.prompt_encoder
        self.dec = sam.mask_decoder
        t2i = self.dec.transformer.layers[0].cross_attn_token_to_image
        self.heads = t2i.heads
        inner = t2i.q_proj.out_features
        head_of_channel = torch.arange(inner) // (inner // self.heads)
        mask = (head_of_channel[None, :] == torch.arange(self.heads)[:, None]).float()
        self.register_buffer("head_mask", mask[None, :, None, :], persistent=False)
        self.scale = 1.0 / math.sqrt(inner // self.heads)
        for conv in (self.dec.output_upscaling[0], self.dec.output_upscaling[3]):
            assert conv.kernel_size == (2, 2) and conv.stride == (2, 2) and conv.padding == (0, 0)

    def forward(self, image_embeddings, point_coords, point_labels, mask_input, has_mask_input):
        b = point_coords.shape[0]
        h, w = image_embeddings.shape[2:]
        tokens, bias_t = self._tokens(point_coords, point_labels)
        weights, eps = _mask_branch_weights(self.prompt)
        dense = _dense_tokens(mask_input, has_mask_input, weights, eps, h * w)
        src = image_embeddings.flatten(2).transpose(1, 2) + dense
        key_pe = self.prompt.get_dense_pe().flatten(2).transpose(1, 2)
        hs, src = self._transformer(src, key_pe, tokens, bias_t)
        hyper_in = torch.stack([mlp(hs[:, 1 + i, :]) for i, mlp in enumerate(self.dec.output_hypernetworks_mlps)], dim=1)
        return self.dec.iou_prediction_head(hs[:, 0, :]), self._upscaled_masks(src, hyper_in, b, h, w)

    def _tokens(self, coords, labels):
        """Output tokens + point tokens [B, T, C]; padding bias [B, 1, T, 1] (NEG_INF on label -1)."""
        b = coords.shape[0]
        sparse = self.prompt.embed_points(coords, labels)
        out_tokens = torch.cat([self.dec.iou_token.weight, self.dec.mask_tokens.weight], dim=0)
        tokens = torch.cat([out_tokens.unsqueeze(0).expand(b, -1, -1), sparse], dim=1)
        pad = torch.cat([torch.zeros_like(labels[:, :1]).expand(b, out_tokens.shape[0]),
                         (labels == -1).to(sparse.dtype)], dim=1)
        return tokens, (pad * NEG_INF)[:, None, :, None]

    def _transformer(self, keys, key_pe, point_embedding, bias_t):
        tr = self.dec.transformer
        queries = point_embedding
        token_bias = bias_t.transpose(2, 3)                          # [B, 1, 1, T] for self-attention
        for layer in tr.layers:
            queries = layer.token_self_attention(queries, point_embedding, token_bias)
            q = queries + point_embedding
            queries = layer.norm2(queries + self._token_to_image(layer.cross_attn_token_to_image, q, keys, key_pe))
            queries = layer.norm3(queries + layer.mlp(queries))
            q = queries + point_embedding
            keys = layer.norm4(keys + self._image_to_token(layer.cross_attn_image_to_token, keys, key_pe, q, queries, bias_t))
        q = queries + point_embedding
        queries = tr.norm_final_attn(queries + self._token_to_image(tr.final_attn_token_to_image, q, keys, key_pe))
        return queries, keys

    def _token_to_image(self, attn, q_tok, img, img_pe):
        """Tokens [B, T, C] attend to the image [B, HW, C] (keys with `img_pe` [1, HW, C] added):
        softmax along HW rows."""
        b, t, _ = q_tok.shape
        q = _head_rows(attn.q_proj(q_tok) * self.scale, self.head_mask)      # [B, hT, Ci]
        p = (q @ _proj_with_pe(attn.k_proj, img, img_pe).transpose(1, 2)).softmax(dim=-1)  # [B, hT, HW]
        # p @ v_proj(img) = (p @ img) @ Wv' + bv, as each row of p sums to 1: the value
        # projection then runs on hT rows instead of HW.
        r = ((p @ img) @ attn.v_proj.weight.t() + attn.v_proj.bias).reshape(b, self.heads, t, -1)
        return attn.out_proj((r * self.head_mask).sum(dim=1))               # each token's own head

    def _image_to_token(self, attn, img, img_pe, k_tok, v_tok, bias_t):
        """The image [B, HW, C] (queries with `img_pe` added) attends to tokens [B, T, C]:
        normalised over T, so HW stays the contiguous axis."""
        b, t, _ = k_tok.shape
        k = _head_rows(attn.k_proj(k_tok) * self.scale, self.head_mask)      # [B, hT, Ci]
        logits = (k @ _proj_with_pe(attn.q_proj, img, img_pe).transpose(1, 2)).reshape(b, self.heads, t, -1) + bias_t
        e = (logits - logits.amax(dim=2, keepdim=True)).exp()
        p = (e / e.sum(dim=2, keepdim=True)).reshape(b, self.heads * t, -1)  # [B, hT, HW]
        v = _head_rows(attn.v_proj(v_tok), self.head_mask)                   # [B, hT, Ci]
        # out_proj(p' v) = p' (v Wo' + bo / heads), as each head's weights over T sum to 1: the
        # output projection then runs on hT rows instead of HW.
        vo = v @ attn.out_proj.weight.t() + attn.out_proj.bias / self.heads  # [B, hT, C]
        return p.transpose(1, 2) @ vo                                        # [B, HW, C]

    def _upscaled_masks(self, src, hyper_in, b, h, w):
        """Both ConvTranspose2d as MatMuls to sub-pixel channel groups, each followed by one
        Transpose that keeps runs of whole channel groups together (cheap), so the last MatMul
        with the hypernetwork weights writes raster-order masks [B, M, 4h, 4w]."""
        up = self.dec.output_upscaling
        c1, c2 = up[0].out_channels, up[3].out_channels
        w1, b1 = _as_matmul(up[0])                                          # columns (i, j, c1)
        # LayerNorm2d over each group of c1 channels: the centring folds into the MatMul, the
        # variance is one more MatMul (a 16-wide LayerNormalization runs one short row per pixel).
        centre = torch.block_diag(*[torch.eye(c1, dtype=w1.dtype) - 1.0 / c1] * 4)
        mean_of_group = torch.block_diag(*[torch.full((c1, c1), 1.0 / c1, dtype=w1.dtype)] * 4)
        x = src @ (w1 @ centre) + b1 @ centre                                # [B, HW, 4*C1]
        x = x / torch.sqrt((x * x) @ mean_of_group + up[1].eps)
        x = F.gelu(x * up[1].weight.repeat(4) + up[1].bias.repeat(4))
        # [B, y, x, i, (j, C1)] -> [B, y, i, x, (j, C1)]: rows become the 2h x 2w raster
        x = x.reshape(b, h, w, 2, 2 * c1).transpose(2, 3).reshape(b, 4 * h * w, c1)
        w2, b2 = _as_matmul(up[3])                                          # columns (k, l, c2)
        x = F.gelu(x @ w2 + b2).reshape(b, 2 * h, 2 * w, 2, 2 * c2).transpose(2, 3)
        x = x.reshape(b, 16 * h * w, c2)                                    # rows: the 4h x 4w raster
        return (hyper_in @ x.transpose(1, 2)).reshape(b, hyper_in.shape[1], 4 * h, 4 * w)
