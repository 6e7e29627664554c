"""A tiny SAM: the same module structure as segment-anything, at shapes-world size.

Image encoder (conv stem + ViT blocks + SAM's neck) -> image_embeddings [B, 64, 32, 32];
PromptEncoder (random-Fourier positional encoding, 4 point embeddings, not_a_point, mask branch);
MaskDecoder (TwoWayTransformer, x4 transposed-conv upscaling, hypernetwork MLPs, IoU head).

One deliberate difference from SAM: the decoder's attention ignores tokens whose label is -1
(padding). The embedding of a padding point is SAM's (not_a_point), but nothing attends to it, so a
prompt padded with -1 points gives exactly the same masks as the unpadded prompt. That lets the
batched decoder pad prompts of different lengths to one N without changing any result.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

IMAGE_SIZE = 256          # S: longest side after resize, encoder input is S x S
EMBED_SIZE = 32           # image embedding is EMBED_SIZE x EMBED_SIZE
PROMPT_DIM = 64           # image_embeddings channels == transformer dim
MASK_SIZE = 4 * EMBED_SIZE
PIXEL_MEAN = [123.675, 116.28, 103.53]
PIXEL_STD = [58.395, 57.12, 57.375]
MASK_THRESHOLD = 0.0
NEG_INF = -1e9             # additive attention bias for padding keys; exp() underflows to exactly 0


def layer_norm_2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    """LayerNorm over the channel axis of an NCHW tensor, as a function (TorchScript-able: the fast
    decoder's scripted mask branch calls it too)."""
    u = x.mean(1, keepdim=True)
    s = (x - u).pow(2).mean(1, keepdim=True)
    x = (x - u) / torch.sqrt(s + eps)
    return weight[:, None, None] * x + bias[:, None, None]


class LayerNorm2d(nn.Module):
    """LayerNorm over the channel axis of an NCHW tensor (SAM's neck / mask branch)."""

    def __init__(self, channels, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x):
        return layer_norm_2d(x, self.weight, self.bias, self.eps)


class MLP(nn.Module):
    """SAM's MLP: `depth` linear layers, ReLU between them."""

    def __init__(self, in_dim, hidden_dim, out_dim, depth):
        super().__init__()
        dims = [in_dim] + [hidden_dim] * (depth - 1) + [out_dim]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


# ----------------------------------------------------------------------------- image encoder

class EncoderBlock(nn.Module):
    """Pre-norm ViT block with global attention (1024 tokens is small enough; no windows)."""

    def __init__(self, dim, heads, mlp_ratio=4.0):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, int(dim * mlp_ratio)), nn.GELU(),
                                 nn.Linear(int(dim * mlp_ratio), dim))

    def attention(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        if hasattr(F, "scaled_dot_product_attention"):   # torch >= 2: fused kernel for training
            out = F.scaled_dot_product_attention(q, k, v)
        else:                                            # torch 1.13 (export): plain ops
            attn = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(c // self.heads))
            out = attn.softmax(dim=-1) @ v
        return self.proj(out.transpose(1, 2).reshape(b, n, c))

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ImageEncoder(nn.Module):
    """Conv stem (stride 4) + patch embed (stride 2) + ViT blocks + SAM neck -> [B, 64, 32, 32]."""

    def __init__(self, dim=128, depth=6, heads=4, out_chans=PROMPT_DIM):
        super().__init__()
        # A stride-4 conv stem gives the patch embedding local edge features that a single
        # 8x8 linear patch would have to learn from raw pixels.
        self.stem = nn.Sequential(
            nn.Conv2d(3, 32, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.GELU())
        self.patch_embed = nn.Conv2d(64, dim, kernel_size=2, stride=2)
        self.pos_embed = nn.Parameter(torch.zeros(1, EMBED_SIZE, EMBED_SIZE, dim))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.blocks = nn.ModuleList(EncoderBlock(dim, heads) for _ in range(depth))
        self.neck = nn.Sequential(
            nn.Conv2d(dim, out_chans, 1, bias=False), LayerNorm2d(out_chans),
            nn.Conv2d(out_chans, out_chans, 3, padding=1, bias=False), LayerNorm2d(out_chans))

    def forward(self, image):
        x = self.patch_embed(self.stem(image)).permute(0, 2, 3, 1)  # B, h, w, C
        x = x + self.pos_embed
        b, h, w, c = x.shape
        x = x.reshape(b, h * w, c)
        for block in self.blocks:
            x = block(x)
        return self.neck(x.reshape(b, h, w, c).permute(0, 3, 1, 2))


# ----------------------------------------------------------------------------- prompt encoder

class PositionEmbeddingRandom(nn.Module):
    """Random-Fourier positional encoding of normalised [0, 1] coordinates (SAM's)."""

    def __init__(self, num_pos_feats=PROMPT_DIM // 2, scale=1.0):
        super().__init__()
        self.register_buffer("positional_encoding_gaussian_matrix",
                             scale * torch.randn((2, num_pos_feats)))

    def _pe_encoding(self, coords):
        coords = 2 * coords - 1
        coords = coords @ self.positional_encoding_gaussian_matrix
        coords = 2 * math.pi * coords
        return torch.cat([torch.sin(coords), torch.cos(coords)], dim=-1)

    def forward(self, size):
        """Dense PE of an h x w grid at cell centres -> [C, h, w]."""
        h, w = size
        g = self.positional_encoding_gaussian_matrix
        ys = (torch.arange(h, dtype=g.dtype, device=g.device) + 0.5) / h
        xs = (torch.arange(w, dtype=g.dtype, device=g.device) + 0.5) / w
        grid = torch.stack([xs[None, :].expand(h, w), ys[:, None].expand(h, w)], dim=-1)
        return self._pe_encoding(grid).permute(2, 0, 1)


class PromptEncoder(nn.Module):
    def __init__(self, embed_dim=PROMPT_DIM, mask_in_chans=16, image_size=IMAGE_SIZE, embed_size=EMBED_SIZE):
        super().__init__()
        self.embed_dim = embed_dim
        self.image_size = image_size    # S: point coords live in the resized S x S frame
        self.embed_size = embed_size    # h = w of the image embedding
        self.pe_layer = PositionEmbeddingRandom(embed_dim // 2)
        self.num_point_embeddings = 4   # negative, positive, box top-left, box bottom-right
        self.point_embeddings = nn.ModuleList(nn.Embedding(1, embed_dim) for _ in range(4))
        self.not_a_point_embed = nn.Embedding(1, embed_dim)
        self.mask_downscaling = nn.Sequential(
            nn.Conv2d(1, mask_in_chans // 4, kernel_size=2, stride=2), LayerNorm2d(mask_in_chans // 4), nn.GELU(),
            nn.Conv2d(mask_in_chans // 4, mask_in_chans, kernel_size=2, stride=2), LayerNorm2d(mask_in_chans), nn.GELU(),
            nn.Conv2d(mask_in_chans, embed_dim, kernel_size=1))
        self.no_mask_embed = nn.Embedding(1, embed_dim)

    def get_dense_pe(self):
        return self.pe_layer((self.embed_size, self.embed_size)).unsqueeze(0)

    def embed_points(self, coords, labels):
        """SamOnnxModel semantics: coords in the resized S frame, labels -1..3 -> [B, N, C]."""
        coords = (coords + 0.5) / self.image_size
        emb = self.pe_layer._pe_encoding(coords)
        labels = labels.unsqueeze(-1)
        emb = emb * (labels != -1).to(emb.dtype)
        emb = emb + self.not_a_point_embed.weight * (labels == -1).to(emb.dtype)
        for i in range(self.num_point_embeddings):
            emb = emb + self.point_embeddings[i].weight * (labels == i).to(emb.dtype)
        return emb

    def embed_masks(self, mask_input, has_mask_input):
        """Blend of the downscaled mask prompt and no_mask_embed, per prompt -> [B, C, h, w]."""
        has = has_mask_input.reshape(-1, 1, 1, 1)
        dense = has * self.mask_downscaling(mask_input)
        return dense + (1 - has) * self.no_mask_embed.weight.reshape(1, -1, 1, 1)


# ----------------------------------------------------------------------------- mask decoder

class Attention(nn.Module):
    """SAM's decoder attention (q/k/v projections to dim // downsample_rate), plus a key bias."""

    def __init__(self, dim, heads, downsample_rate=1):
        super().__init__()
        self.heads = heads
        inner = dim // downsample_rate
        self.q_proj, self.k_proj, self.v_proj = (nn.Linear(dim, inner) for _ in range(3))
        self.out_proj = nn.Linear(inner, dim)

    def _split(self, x):
        b, n, c = x.shape
        return x.reshape(b, n, self.heads, c // self.heads).transpose(1, 2)

    def forward(self, q, k, v, key_bias=None):
        q, k, v = self._split(self.q_proj(q)), self._split(self.k_proj(k)), self._split(self.v_proj(v))
        attn = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
        if key_bias is not None:            # [B, 1, 1, Nk]: NEG_INF on padding tokens
            attn = attn + key_bias
        out = attn.softmax(dim=-1) @ v
        b, h, n, c = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(b, n, h * c))


class TwoWayAttentionBlock(nn.Module):
    """Tokens self-attend, tokens -> image, MLP on tokens, image -> tokens (SAM's order)."""

    def __init__(self, dim, heads, mlp_dim, skip_first_layer_pe=False, mlp=None):
        super().__init__()
        self.self_attn = Attention(dim, heads)
        self.norm1 = nn.LayerNorm(dim)
        self.cross_attn_token_to_image = Attention(dim, heads, downsample_rate=2)
        self.norm2 = nn.LayerNorm(dim)
        # `mlp`: another module of the same function (SAM's MLPBlock keys lin1/lin2; ours 0/2).
        self.mlp = mlp if mlp is not None else nn.Sequential(nn.Linear(dim, mlp_dim), nn.ReLU(), nn.Linear(mlp_dim, dim))
        self.norm3 = nn.LayerNorm(dim)
        self.norm4 = nn.LayerNorm(dim)
        self.cross_attn_image_to_token = Attention(dim, heads, downsample_rate=2)
        self.skip_first_layer_pe = skip_first_layer_pe

    def token_self_attention(self, queries, query_pe, token_bias):
        """The block's first step (tokens only), shared with fast_decoder."""
        if self.skip_first_layer_pe:
            return self.norm1(self.self_attn(queries, queries, queries, token_bias))
        q = queries + query_pe
        return self.norm1(queries + self.self_attn(q, q, queries, token_bias))

    def forward(self, queries, keys, query_pe, key_pe, token_bias):
        queries = self.token_self_attention(queries, query_pe, token_bias)
        q, k = queries + query_pe, keys + key_pe
        queries = self.norm2(queries + self.cross_attn_token_to_image(q, k, keys))
        queries = self.norm3(queries + self.mlp(queries))
        q, k = queries + query_pe, keys + key_pe
        keys = self.norm4(keys + self.cross_attn_image_to_token(k, q, queries, token_bias))
        return queries, keys


class TwoWayTransformer(nn.Module):
    def __init__(self, depth=2, dim=PROMPT_DIM, heads=4, mlp_dim=256, make_mlp=None):
        super().__init__()
        self.layers = nn.ModuleList(
            TwoWayAttentionBlock(dim, heads, mlp_dim, skip_first_layer_pe=(i == 0),
                                 mlp=make_mlp() if make_mlp else None) for i in range(depth))
        self.final_attn_token_to_image = Attention(dim, heads, downsample_rate=2)
        self.norm_final_attn = nn.LayerNorm(dim)

    def forward(self, image_embedding, image_pe, point_embedding, token_bias):
        keys = image_embedding.flatten(2).permute(0, 2, 1)     # B, HW, C
        key_pe = image_pe.flatten(2).permute(0, 2, 1)
        queries = point_embedding
        for layer in self.layers:
            queries, keys = layer(queries, keys, point_embedding, key_pe, token_bias)
        q, k = queries + point_embedding, keys + key_pe
        queries = self.norm_final_attn(queries + self.final_attn_token_to_image(q, k, keys))
        return queries, keys


class MaskDecoder(nn.Module):
    def __init__(self, dim=PROMPT_DIM, num_multimask_outputs=3, iou_head_hidden_dim=128, transformer=None):
        super().__init__()
        self.transformer = transformer if transformer is not None else TwoWayTransformer(depth=2, dim=dim)
        self.num_mask_tokens = num_multimask_outputs + 1
        self.iou_token = nn.Embedding(1, dim)
        self.mask_tokens = nn.Embedding(self.num_mask_tokens, dim)
        self.output_upscaling = nn.Sequential(
            nn.ConvTranspose2d(dim, dim // 4, kernel_size=2, stride=2), LayerNorm2d(dim // 4), nn.GELU(),
            nn.ConvTranspose2d(dim // 4, dim // 8, kernel_size=2, stride=2), nn.GELU())
        self.output_hypernetworks_mlps = nn.ModuleList(
            MLP(dim, dim, dim // 8, 3) for _ in range(self.num_mask_tokens))
        self.iou_prediction_head = MLP(dim, iou_head_hidden_dim, self.num_mask_tokens, 3)

    def predict_masks(self, image_embeddings, image_pe, sparse, dense, point_labels=None):
        """image_embeddings / dense: [B, C, h, w] (one row per prompt); sparse: [B, N, C].
        `point_labels` given: prompt tokens labelled -1 are hidden from attention (this model's
        padding rule); None: every token attends, as in segment-anything.

        Returns all 4 low-res mask logits [B, 4, 4h, 4w] and IoU predictions [B, 4].
        """
        b = sparse.shape[0]
        out_tokens = torch.cat([self.iou_token.weight, self.mask_tokens.weight], dim=0)
        tokens = torch.cat([out_tokens.unsqueeze(0).expand(b, -1, -1), sparse], dim=1)
        token_bias = None
        if point_labels is not None:   # output tokens are never padding
            pad = torch.cat([torch.zeros_like(point_labels[:, :1]).expand(b, out_tokens.shape[0]),
                             (point_labels == -1).to(sparse.dtype)], dim=1)
            token_bias = (pad * NEG_INF)[:, None, None, :]
        src = image_embeddings + dense
        pos = image_pe.expand(b, -1, -1, -1)
        _, c, h, w = src.shape
        hs, src = self.transformer(src, pos, tokens, token_bias)
        iou_token_out = hs[:, 0, :]
        mask_tokens_out = hs[:, 1:1 + self.num_mask_tokens, :]
        upscaled = self.output_upscaling(src.transpose(1, 2).reshape(b, c, h, w))
        hyper_in = torch.stack([mlp(mask_tokens_out[:, i, :])
                                for i, mlp in enumerate(self.output_hypernetworks_mlps)], dim=1)
        _, uc, uh, uw = upscaled.shape
        masks = (hyper_in @ upscaled.reshape(b, uc, uh * uw)).reshape(b, -1, uh, uw)
        return masks, self.iou_prediction_head(iou_token_out)


class TinySam(nn.Module):
    """Holds the three parts under SAM's attribute names; forward = encoder + prompt decode."""

    image_size = IMAGE_SIZE

    def __init__(self, encoder_dim=128, encoder_depth=6, encoder_heads=4):
        super().__init__()
        self.image_encoder = ImageEncoder(encoder_dim, encoder_depth, encoder_heads)
        self.prompt_encoder = PromptEncoder()
        self.mask_decoder = MaskDecoder()
        self.register_buffer("pixel_mean", torch.tensor(PIXEL_MEAN).view(-1, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(PIXEL_STD).view(-1, 1, 1), persistent=False)

    def decode(self, embeddings, coords, labels, mask_input, has_mask_input):
        """Per-prompt decode: embeddings [B, 64, 32, 32] already gathered one row per prompt."""
        sparse = self.prompt_encoder.embed_points(coords, labels)
        dense = self.prompt_encoder.embed_masks(mask_input, has_mask_input)
        pe = self.prompt_encoder.get_dense_pe()
        return self.mask_decoder.predict_masks(embeddings, pe, sparse, dense, labels)
