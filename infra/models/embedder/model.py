"""CLIP / Alpha-CLIP towers, small, with the official OpenAI CLIP and Alpha-CLIP module names.

Parameter names (``visual.conv1.weight``, ``visual.conv1_alpha.weight``,
``visual.transformer.resblocks.0.attn.in_proj_weight``, ``token_embedding.weight``,
``text_projection`` ...) are exactly the official state-dict keys, so the same classes load an
official checkpoint with ``strict=True`` once it is built with the official sizes.
"""
from collections import OrderedDict

import torch
from torch import nn

# shapes-tiny sizes (see README); an official ViT-B/16 would be width 768, 12 layers, 12 heads.
TINY = dict(embed_dim=128, image_size=112, patch_size=8, vision_width=160, vision_layers=6,
            vision_heads=4, context_length=77, vocab_size=128, text_width=128, text_layers=4,
            text_heads=4)


class LayerNorm(nn.LayerNorm):
    """LayerNorm computed in fp32 (as CLIP does) so half-precision training stays stable."""

    def forward(self, x):
        return super().forward(x.float()).type(x.dtype)


class QuickGELU(nn.Module):
    """CLIP's GELU approximation; the official weights were trained with it."""

    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width, heads, attn_mask=None, attn_cls=nn.MultiheadAttention):
        super().__init__()
        # Sequence-first (L, N, D), like CLIP. ``attn_cls`` lets Alpha-CLIP's vision tower use its
        # own attention (``attn.in_proj.weight`` keys); called as MultiheadAttention is.
        self.attn = attn_cls(width, heads)
        self.ln_1 = LayerNorm(width)
        self.mlp = nn.Sequential(OrderedDict([("c_fc", nn.Linear(width, width * 4)),
                                              ("gelu", QuickGELU()),
                                              ("c_proj", nn.Linear(width * 4, width))]))
        self.ln_2 = LayerNorm(width)
        # A buffer, not a parameter: official state dicts carry no attention mask.
        self.register_buffer("attn_mask", attn_mask, persistent=False)

    def forward(self, x):
        mask = None if self.attn_mask is None else self.attn_mask.to(x.dtype)
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, layers, heads, attn_mask=None, attn_cls=nn.MultiheadAttention):
        super().__init__()
        self.width, self.layers = width, layers
        self.resblocks = nn.Sequential(*[ResidualAttentionBlock(width, heads, attn_mask, attn_cls)
                                         for _ in range(layers)])

    def forward(self, x):
        return self.resblocks(x)


class VisionTransformer(nn.Module):
    """CLIP's ViT; with ``alpha=True`` it gains Alpha-CLIP's parallel alpha patch convolution."""

    def __init__(self, image_size, patch_size, width, layers, heads, output_dim, alpha=False,
                 attn_cls=nn.MultiheadAttention):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, patch_size, patch_size, bias=False)
        if alpha:
            # Zero-initialised (Alpha-CLIP §3.2): at init the model ignores alpha and equals CLIP.
            self.conv1_alpha = nn.Conv2d(1, width, patch_size, patch_size, bias=False)
            nn.init.zeros_(self.conv1_alpha.weight)
        scale = width ** -0.5
        grid = image_size // patch_size
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(grid * grid + 1, width))
        self.ln_pre = LayerNorm(width)
        self.transformer = Transformer(width, layers, heads, attn_cls=attn_cls)
        self.ln_post = LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, output_dim))

    def forward(self, image, alpha=None):
        x = self.conv1(image)
        if hasattr(self, "conv1_alpha"):
            if alpha is None:
                raise ValueError("Alpha-CLIP vision tower needs an alpha input")
            x = x + self.conv1_alpha(alpha)
        x = x.flatten(2).permute(0, 2, 1)                      # B, grid², width
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x).permute(1, 0, 2)                     # sequence-first for the blocks
        x = self.transformer(x).permute(1, 0, 2)
        return self.ln_post(x[:, 0, :]) @ self.proj


def causal_mask(n):
    """Additive mask: token i attends to 0..i only (CLIP's text transformer is causal)."""
    return torch.full((n, n), float("-inf")).triu_(1)


class CLIP(nn.Module):
    """Image tower under ``visual.*``, text tower at the top level — the official layout."""

    def __init__(self, embed_dim, image_size, patch_size, vision_width, vision_layers, vision_heads,
                 context_length, vocab_size, text_width, text_layers, text_heads, alpha=False):
        super().__init__()
        self.context_length = context_length
        self.visual = VisionTransformer(image_size, patch_size, vision_width, vision_layers,
                                        vision_heads, embed_dim, alpha=alpha)
        self.transformer = Transformer(text_width, text_layers, text_heads, causal_mask(context_length))
        self.token_embedding = nn.Embedding(vocab_size, text_width)
        self.positional_embedding = nn.Parameter(torch.empty(context_length, text_width))
        self.ln_final = LayerNorm(text_width)
        self.text_projection = nn.Parameter(torch.empty(text_width, embed_dim))
        self.logit_scale = nn.Parameter(torch.ones([]) * torch.log(torch.tensor(1 / 0.07)))
        self._init_text(text_width, text_layers)

    def _init_text(self, width, layers):
        """CLIP's initialisation scheme (depth-scaled std for residual projections)."""
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.positional_embedding, std=0.01)
        proj_std, attn_std, fc_std = (width ** -0.5) * ((2 * layers) ** -0.5), width ** -0.5, (2 * width) ** -0.5
        for block in self.transformer.resblocks:
            nn.init.normal_(block.attn.in_proj_weight, std=attn_std)
            nn.init.normal_(block.attn.out_proj.weight, std=proj_std)
            nn.init.normal_(block.mlp.c_fc.weight, std=fc_std)
            nn.init.normal_(block.mlp.c_proj.weight, std=proj_std)
        nn.init.normal_(self.text_projection, std=width ** -0.5)

    def encode_image(self, image, alpha=None):
        return self.visual(image, alpha)

    def encode_text(self, input_ids):
        x = self.token_embedding(input_ids) + self.positional_embedding
        x = self.transformer(x.permute(1, 0, 2)).permute(1, 0, 2)
        x = self.ln_final(x)
        # Pool at the end-of-text token: it has the largest id, so argmax finds it.
        eot = input_ids.argmax(dim=-1)
        return x[torch.arange(x.shape[0], device=x.device), eot] @ self.text_projection


def build(config, alpha=False):
    return CLIP(alpha=alpha, **config)


def alpha_from_clip(clip_model, config):
    """Alpha-CLIP initialised from a trained CLIP: every weight copied, conv1_alpha left at zero."""
    model = build(config, alpha=True)
    missing, unexpected = model.load_state_dict(clip_model.state_dict(), strict=False)
    assert missing == ["visual.conv1_alpha.weight"] and not unexpected, (missing, unexpected)
    return model


class ImageOnnx(nn.Module):
    """Export wrapper: (image[, alpha]) -> embedding; no normalisation inside (the caller does it)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, image, alpha=None):
        return self.model.encode_image(image, alpha)


class TextOnnx(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        return self.model.encode_text(input_ids)
