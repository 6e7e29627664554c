"""MobileSAM's image encoder: TinyViT-5M at 1024^2, written for export by this project.

Module and parameter names are MobileSAM's (`patch_embed.seq.*`, `layers.N.blocks.M.*`,
`layers.N.downsample.*`, `norm_head`, `head`, `neck.*`), so `mobile_sam.pt` loads with
`strict=True`. Structure: a stride-4 conv stem; stage 0 of MBConv blocks at 256x256; stages 1-3 of
windowed-attention blocks (each followed by a depthwise 3x3 conv and an MLP) at 128, 64 and 64;
patch merging between stages (the last one keeps 64x64: MobileSAM uses stride 1 when merging into
320 channels); SAM's neck to [B, 256, 64, 64]. `norm_head` / `head` (an ImageNet classifier left
in the checkpoint) are held for strict loading but never used.
"""
import itertools

import torch
import torch.nn.functional as F
from torch import nn

from .sam_model import EMBED_SIZE, IMAGE_SIZE, sam_neck

EMBED_DIMS = (64, 128, 160, 320)
DEPTHS = (2, 2, 6, 2)
NUM_HEADS = (2, 4, 5, 10)
WINDOW_SIZES = (7, 7, 14, 7)
MLP_RATIO = 4.0
MBCONV_EXPAND = 4.0
IMAGENET_CLASSES = 1000


class ConvBN(nn.Sequential):
    """Conv (no bias) + BatchNorm, as TinyViT's `Conv2d_BN` (children `c`, `bn`)."""

    def __init__(self, cin, cout, kernel=1, stride=1, pad=0, groups=1):
        super().__init__()
        self.add_module("c", nn.Conv2d(cin, cout, kernel, stride, pad, groups=groups, bias=False))
        self.add_module("bn", nn.BatchNorm2d(cout))


class PatchEmbed(nn.Module):
    """Two stride-2 3x3 conv-BN layers with a GELU between: 1024 -> 256."""

    def __init__(self, dim):
        super().__init__()
        self.seq = nn.Sequential(ConvBN(3, dim // 2, 3, 2, 1), nn.GELU(), ConvBN(dim // 2, dim, 3, 2, 1))

    def forward(self, x):
        return self.seq(x)


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand, 3x3 depthwise, 1x1 project, residual, GELU."""

    def __init__(self, dim, expand=MBCONV_EXPAND):
        super().__init__()
        hidden = int(dim * expand)
        self.conv1 = ConvBN(dim, hidden)
        self.conv2 = ConvBN(hidden, hidden, 3, 1, 1, groups=hidden)
        self.conv3 = ConvBN(hidden, dim)

    def forward(self, x):
        y = F.gelu(self.conv2(F.gelu(self.conv1(x))))
        return F.gelu(self.conv3(y) + x)


class PatchMerging(nn.Module):
    """1x1 conv, depthwise 3x3 (stride 2, or 1 into 320 channels), 1x1 conv -> tokens [B, L, C]."""

    def __init__(self, resolution, dim, out_dim):
        super().__init__()
        self.resolution = resolution
        self.conv1 = ConvBN(dim, out_dim)
        stride = 1 if out_dim in (320, 448, 576) else 2
        self.conv2 = ConvBN(out_dim, out_dim, 3, stride, 1, groups=out_dim)
        self.conv3 = ConvBN(out_dim, out_dim)

    def forward(self, x):
        if x.dim() == 3:   # tokens [B, L, C] -> [B, C, H, W]
            x = x.reshape(x.shape[0], self.resolution, self.resolution, -1).permute(0, 3, 1, 2)
        x = self.conv3(F.gelu(self.conv2(F.gelu(self.conv1(x)))))
        return x.flatten(2).transpose(1, 2)


class ConvLayer(nn.Module):
    def __init__(self, dim, resolution, depth, out_dim):
        super().__init__()
        self.blocks = nn.ModuleList(MBConv(dim) for _ in range(depth))
        self.downsample = PatchMerging(resolution, dim, out_dim)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.downsample(x)


def attention_bias_index(window):
    """[N, N] index into the per-head bias table: one entry per distinct (|dy|, |dx|) offset,
    numbered in order of first appearance over query-major, key-minor pairs."""
    points = list(itertools.product(range(window), range(window)))
    offsets, idxs = {}, []
    for p1 in points:
        for p2 in points:
            off = (abs(p1[0] - p2[0]), abs(p1[1] - p2[1]))
            idxs.append(offsets.setdefault(off, len(offsets)))
    n = len(points)
    return torch.tensor(idxs, dtype=torch.long).reshape(n, n), len(offsets)


class WindowAttention(nn.Module):
    """TinyViT attention inside one window: pre-norm, learned bias per head and offset."""

    def __init__(self, dim, heads, window):
        super().__init__()
        self.heads = heads
        self.key_dim = dim // heads
        self.scale = self.key_dim ** -0.5
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        index, n_offsets = attention_bias_index(window)
        self.attention_biases = nn.Parameter(torch.zeros(heads, n_offsets))
        self.register_buffer("attention_bias_idxs", index, persistent=False)

    def forward(self, x):
        b, n, _ = x.shape
        qkv = self.qkv(self.norm(x)).reshape(b, n, self.heads, 3 * self.key_dim).permute(0, 2, 1, 3)
        q, k, v = qkv.split(self.key_dim, dim=3)
        attn = (q @ k.transpose(-2, -1)) * self.scale + self.attention_biases[:, self.attention_bias_idxs]
        x = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, n, -1)
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(self.norm(x))))


class TinyViTBlock(nn.Module):
    """Windowed attention (grid zero-padded to whole windows), depthwise 3x3 conv, MLP."""

    def __init__(self, dim, resolution, heads, window):
        super().__init__()
        self.resolution, self.window = resolution, window
        self.attn = WindowAttention(dim, heads, window)
        self.mlp = Mlp(dim, int(dim * MLP_RATIO))
        self.local_conv = ConvBN(dim, dim, 3, 1, 1, groups=dim)

    def windowed_attention(self, x):
        r, ws = self.resolution, self.window
        b, length, c = x.shape
        if r == ws:
            return self.attn(x)
        pad = (ws - r % ws) % ws
        x = F.pad(x.reshape(b, r, r, c), (0, 0, 0, pad, 0, pad))
        nw = (r + pad) // ws
        x = x.reshape(b, nw, ws, nw, ws, c).transpose(2, 3).reshape(b * nw * nw, ws * ws, c)
        x = self.attn(x).reshape(b, nw, nw, ws, ws, c).transpose(2, 3).reshape(b, r + pad, r + pad, c)
        return x[:, :r, :r].reshape(b, length, c)

    def forward(self, x):
        b, length, c = x.shape
        x = x + self.windowed_attention(x)
        x = x.transpose(1, 2).reshape(b, c, self.resolution, self.resolution)
        x = self.local_conv(x).reshape(b, c, length).transpose(1, 2)
        return x + self.mlp(x)


class BasicLayer(nn.Module):
    def __init__(self, dim, resolution, depth, heads, window, out_dim=None):
        super().__init__()
        self.blocks = nn.ModuleList(TinyViTBlock(dim, resolution, heads, window) for _ in range(depth))
        self.downsample = PatchMerging(resolution, dim, out_dim) if out_dim else None

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.downsample(x) if self.downsample is not None else x


def stage_resolution(stage):
    """Token grid side of each stage: 256, 128, 64, 64 (the last merge keeps 64)."""
    grid = IMAGE_SIZE // 4
    return grid // (2 ** (stage - 1 if stage == 3 else stage))


class TinyViT(nn.Module):
    """Normalised, padded [B, 3, 1024, 1024] -> image_embeddings [B, 256, 64, 64]."""

    def __init__(self):
        super().__init__()
        self.patch_embed = PatchEmbed(EMBED_DIMS[0])
        last = len(DEPTHS) - 1
        layers = [ConvLayer(EMBED_DIMS[0], stage_resolution(0), DEPTHS[0], EMBED_DIMS[1])]
        for i in range(1, len(DEPTHS)):
            out_dim = EMBED_DIMS[i + 1] if i < last else None
            layers.append(BasicLayer(EMBED_DIMS[i], stage_resolution(i), DEPTHS[i], NUM_HEADS[i],
                                     WINDOW_SIZES[i], out_dim))
        self.layers = nn.ModuleList(layers)
        self.norm_head = nn.LayerNorm(EMBED_DIMS[-1])
        self.head = nn.Linear(EMBED_DIMS[-1], IMAGENET_CLASSES)
        self.neck = sam_neck(EMBED_DIMS[-1])

    def forward(self, x):
        x = self.patch_embed(x)
        for layer in self.layers:
            x = layer(x)
        b, _, c = x.shape
        return self.neck(x.reshape(b, EMBED_SIZE, EMBED_SIZE, c).permute(0, 3, 1, 2))
