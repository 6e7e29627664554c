"""The batched decoder exported into production (SAM / MobileSAM) packs: `FastBatchedDecoder`'s
layout (docs/decoder-speed.md), plus attention logits taken through the projection weights.

SAM's decoder attends between 4096 image positions (256 channels) and about 7 prompt tokens. In
`FastBatchedDecoder` each cross-attention projects all 4096 positions of every prompt's image
tensor (which the previous layer made prompt-specific) to 128 channels, then multiplies with the
few token rows. The logits only need the product, so here the token rows go through the weight
instead (`q (x Wk' + bk)' = (q Wk) x' + q bk`, a [hT, 256] matrix against x), and no image-side
projection is made per prompt at all:
- token-to-image: `(q Wk)(x + pe)'`; the `q bk` term is constant along the softmax's axis (HW) and
  cancels, so it is dropped;
- image-to-token: `(k Wq)(x + pe)' + k bq`; the second term is one value per token row, added
  before the normalisation over tokens;
- `x + pe` is made once per layer, shared by both attentions (and by the final one).
Per prompt this replaces five [4096, 256] x [256, 128] projections with none, and the 56-row
logit products grow from 128 to 256 channels: about 1.5 GMAC -> 1.0 GMAC per prompt for SAM
(the output upscaling, ~0.4 GMAC, is unchanged). Exact up to float rounding
(tests/test_export_sam.py compares with the defining `BatchedDecoder` in float64).

The tiny shapes pack keeps `FastBatchedDecoder` (its 64-channel, 1024-position decoder gains
little, and its shipped file and parity fixtures stay as they are).
"""
from segmenter.fast_decoder import FastBatchedDecoder, _head_rows


class SamFastDecoder(FastBatchedDecoder):
    """Drop-in for `BatchedDecoder` around `sam_model.Sam`: (iou_predictions [B, 4], low_res_masks
    [B, 4, 4h, 4w]). Padding points (label -1) take part in attention, as in segment-anything."""

    def _tokens(self, coords, labels):
        """Output tokens + point tokens [B, T, C]; no attention bias (nothing is hidden)."""
        tokens, _ = super()._tokens(coords, labels)
        return tokens, None

    def _transformer(self, keys, key_pe, point_embedding, bias_t):
        tr = self.dec.transformer
        queries = point_embedding
        token_bias = None if bias_t is None else bias_t.transpose(2, 3)
        for layer in tr.layers:
            queries = layer.token_self_attention(queries, point_embedding, token_bias)
            q = queries + point_embedding
            keys_pe = keys + key_pe                                  # shared by both attentions
            queries = layer.norm2(queries + self._token_to_image(layer.cross_attn_token_to_image, q, keys, keys_pe))
            queries = layer.norm3(queries + layer.mlp(queries))
            q = queries + point_embedding
            keys = layer.norm4(keys + self._image_to_token(layer.cross_attn_image_to_token, keys_pe, q, queries, bias_t))
        q = queries + point_embedding
        queries = tr.norm_final_attn(queries + self._token_to_image(tr.final_attn_token_to_image, q, keys, keys + key_pe))
        return queries, keys

    def _token_to_image(self, attn, q_tok, img, img_with_pe):
        """Tokens [B, T, C] attend to the image [B, HW, C]; keys are `img_with_pe` projected, taken
        through the weight: logits = (q Wk) (img + pe)'."""
        b, t, _ = q_tok.shape
        q = _head_rows(attn.q_proj(q_tok) * self.scale, self.head_mask)      # [B, hT, Ci]
        p = ((q @ attn.k_proj.weight) @ img_with_pe.transpose(1, 2)).softmax(dim=-1)  # [B, hT, HW]
        r = ((p @ img) @ attn.v_proj.weight.t() + attn.v_proj.bias).reshape(b, self.heads, t, -1)
        return attn.out_proj((r * self.head_mask).sum(dim=1))

    def _image_to_token(self, attn, img_with_pe, k_tok, v_tok, bias_t):
        """The image (queries: `img_with_pe` projected) attends to tokens [B, T, C], normalised over
        T; logits = (k Wq) (img + pe)' + k bq."""
        b, t, _ = k_tok.shape
        k = _head_rows(attn.k_proj(k_tok) * self.scale, self.head_mask)      # [B, hT, Ci]
        logits = (k @ attn.q_proj.weight) @ img_with_pe.transpose(1, 2) + (k @ attn.q_proj.bias).unsqueeze(-1)
        logits = logits.reshape(b, self.heads, t, -1)
        if bias_t is not None:
            logits = logits + bias_t
        e = (logits - logits.amax(dim=2, keepdim=True)).exp()
        p = (e / e.sum(dim=2, keepdim=True)).reshape(b, self.heads * t, -1)  # [B, hT, HW]
        v = _head_rows(attn.v_proj(v_tok), self.head_mask)
        vo = v @ attn.out_proj.weight.t() + attn.out_proj.bias / self.heads
        return p.transpose(1, 2) @ vo
