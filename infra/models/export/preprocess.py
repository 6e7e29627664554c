"""Reference preprocessing for Alpha-CLIP in PyTorch/PIL, as a user of Alpha-CLIP's own code does it.

Alpha-CLIP's repository resizes the image with PIL bicubic (CLIP's ``preprocess``) and the mask as a
tensor with torchvision's ``Resize`` (bilinear, antialiased), then normalises alpha with 0.5 / 0.26.
Both are placed on the pipeline's geometry first — centred pad to square (image with the mean colour,
mask with 0) — because CLIP's centre crop would cut regions away. The pipeline's own TypeScript
preprocessing (bilinear image, area-averaged alpha; docs/model-pack.md) is held to cosine ≥ 0.999
against this reference by test/node/production-pack.test.ts.
"""
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from embedder.data import IMAGE_MEAN, IMAGE_STD
from shapesworld.preprocess import ALPHA_MEAN, ALPHA_STD, mean_fill, pad_offset


def reference_image(rgb: np.ndarray, size: int, mean=IMAGE_MEAN, std=IMAGE_STD) -> torch.Tensor:
    """uint8 [H, W, 3] → float32 [3, S, S]: pad to square (mean colour), PIL bicubic, normalise."""
    h, w = rgb.shape[:2]
    side, ox, oy = pad_offset(h, w)
    canvas = Image.new("RGB", (side, side), mean_fill(mean))
    canvas.paste(Image.fromarray(rgb), (ox, oy))
    x = torch.from_numpy(np.asarray(canvas.resize((size, size), Image.BICUBIC), np.float32) / 255.0)
    x = x.permute(2, 0, 1)
    return (x - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)


def reference_alpha(mask, size: int, shape=None, alpha_mean=ALPHA_MEAN, alpha_std=ALPHA_STD) -> torch.Tensor:
    """bool [H, W] (or None = whole image, then ``shape`` = (H, W)) → float32 [1, S, S]."""
    if mask is None:
        return torch.full((1, size, size), (1.0 - alpha_mean) / alpha_std)
    h, w = mask.shape
    side, ox, oy = pad_offset(h, w)
    canvas = torch.zeros(1, 1, side, side)
    canvas[0, 0, oy:oy + h, ox:ox + w] = torch.from_numpy(np.asarray(mask, np.float32))
    a = F.interpolate(canvas, size=(size, size), mode="bilinear", align_corners=False, antialias=True)[0]
    return (a - alpha_mean) / alpha_std
