"""segment-anything's own image preprocessing, as its predictor does it, for parity checks.

`SamPredictor.set_image`: `ResizeLongestSide.apply_image` (torchvision's resize of a PIL image:
PIL bilinear, antialiased, to floor(side * scale + 0.5)), then `Sam.preprocess`: a float32 torch
`(x - pixel_mean) / pixel_std` and zero padding bottom/right to 1024 x 1024. The pipeline's
TypeScript preprocessing (src/node/models/preprocess.ts) normalises in float64 instead; parity tests
compare the two.
"""
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from shapesworld.preprocess import resize_longest_side_size

from .sam_model import IMAGE_SIZE, PIXEL_MEAN, PIXEL_STD


def sam_preprocess(img: np.ndarray, size: int = IMAGE_SIZE) -> torch.Tensor:
    """uint8 [H, W, 3] RGB -> float32 [1, 3, size, size] encoder input."""
    h, w = img.shape[:2]
    nh, nw = resize_longest_side_size(h, w, size)
    resized = np.array(Image.fromarray(img).resize((nw, nh), Image.BILINEAR))
    x = torch.as_tensor(resized).permute(2, 0, 1).contiguous()[None]          # uint8 [1, 3, nh, nw]
    mean = torch.tensor(PIXEL_MEAN).view(-1, 1, 1)
    std = torch.tensor(PIXEL_STD).view(-1, 1, 1)
    x = (x - mean) / std                                                       # float32, as SAM
    return F.pad(x, (0, size - nw, 0, size - nh))


def synthetic_image(height=480, width=640, seed=0) -> np.ndarray:
    """A deterministic RGB photo stand-in: smooth gradients, a few flat blocks, mild noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    img = np.stack([255 * xx / width, 255 * yy / height, 128 + 100 * np.sin(xx / 37 + yy / 23)], axis=-1)
    for _ in range(6):
        y0, x0 = rng.integers(0, height // 2), rng.integers(0, width // 2)
        bh, bw = rng.integers(height // 16, height // 4), rng.integers(width // 16, width // 4)
        img[y0:y0 + bh, x0:x0 + bw] = rng.integers(0, 256, 3)
    img += rng.normal(0, 6, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)
