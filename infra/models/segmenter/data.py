"""Shapes-world scenes in the segmenter's frame, and prompt sampling for training.

A scene becomes (normalised padded image [3, S, S], object-id label map [S, S] in the same resized
frame, newH, newW). Visible masks after occlusion are disjoint, so one uint8 label map holds them
all (0 = background). Prompts are sampled on the fly, on the training device.
"""
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .model import IMAGE_SIZE, PIXEL_MEAN, PIXEL_STD

S = IMAGE_SIZE
P_BACKGROUND, P_MULTI, P_BOX, P_MASK = 0.10, 0.12, 0.10, 0.08


def resized_size(h, w):
    """ResizeLongestSide: floor(x * S / max(H, W) + 0.5)."""
    from shapesworld.preprocess import resize_longest_side_size
    return resize_longest_side_size(h, w, S)


def scene_to_frame(scene):
    """The scene's masks as a label map in the padded S x S resized frame (bilinear > 0.5 per object)."""
    h, w = scene.image.shape[:2]
    nh, nw = resized_size(h, w)
    label = np.zeros((S, S), np.uint8)
    for k, obj in enumerate(scene.objects):
        m = Image.fromarray(obj.mask.astype(np.uint8) * 255).resize((nw, nh), Image.BILINEAR)
        label[:nh, :nw][np.asarray(m) > 127] = k + 1
    return label, nh, nw


def render(seed):
    """Worker: seed -> (image fp16 [3, S, S], label uint8 [S, S], newH, newW, n_objects)."""
    from shapesworld import generate_scene
    scene = generate_scene(seed)
    x = model_input(scene.image)
    label, nh, nw = scene_to_frame(scene)
    return x.astype(np.float16), label, nh, nw, len(scene.objects)


def model_input(image):
    """The shared canonical preprocessing (shapesworld.preprocess), with this model's constants."""
    from shapesworld.preprocess import segmenter_input
    return segmenter_input(image, S, PIXEL_MEAN, PIXEL_STD)


def _uniform_pixel(region, gen):
    """One uniformly random True pixel per row of region [P, S, S] -> (x, y) float [P, 2]."""
    score = torch.rand(region.shape, device=region.device, generator=gen) + region.float()
    idx = score.flatten(1).argmax(1)
    return torch.stack([(idx % S).float(), torch.div(idx, S, rounding_mode="floor").float()], 1)


def _bbox(region):
    """Tight (x0, y0, x1, y1) of each region [P, S, S] in pixel coordinates."""
    ar = torch.arange(S, device=region.device, dtype=torch.float32)
    cols, rows = region.any(1).float(), region.any(2).float()
    big = 1e6
    x0 = (ar + big * (1 - cols)).min(1).values
    x1 = (ar - big * (1 - cols)).max(1).values
    y0 = (ar + big * (1 - rows)).min(1).values
    y1 = (ar - big * (1 - rows)).max(1).values
    return torch.stack([x0, y0, x1, y1], 1)


def sample_prompts(labels, sizes, nobj, per_image, gen):
    """Random prompts for a batch of label maps [Bi, S, S] (uint8 on device).

    Returns img_index [P], coords [P, 3, 2], point_labels [P, 3], target [P, S, S] bool,
    mask_input [P, 1, 4h, 4w], has_mask [P]. Every prompt has 3 slots; unused slots are -1 padding,
    which the decoder ignores exactly, so single points, 2-3 point prompts and boxes share one batch.
    """
    dev = labels.device
    bi = labels.shape[0]
    img = torch.arange(bi, device=dev).repeat_interleave(per_image)
    p = img.shape[0]
    u = lambda: torch.rand(p, device=dev, generator=gen)
    ar = torch.arange(S, device=dev)
    valid = (ar[None, :, None] < sizes[img, 0, None, None]) & (ar[None, None, :] < sizes[img, 1, None, None])
    obj = (u() * nobj[img].float()).long().clamp(max=255) + 1
    background = (u() < P_BACKGROUND) | (nobj[img] == 0)
    obj = torch.where(background, torch.zeros_like(obj), obj)
    lab = labels[img]
    target = (lab == obj[:, None, None]) & valid
    background = background | ~target.flatten(1).any(1)      # object vanished after resizing
    target = target & ~background[:, None, None]
    inside = torch.where(background[:, None, None], valid & (lab == 0), target)
    outside = valid & ~inside
    jitter = lambda: torch.rand(p, 2, device=dev, generator=gen) - 0.5
    p1, p2 = _uniform_pixel(inside, gen) + jitter(), _uniform_pixel(inside, gen) + jitter()
    p3 = _uniform_pixel(outside, gen) + jitter()
    coords = torch.stack([p1, p2, p3], 1)
    pl = torch.tensor([1.0, -1.0, -1.0], device=dev).repeat(p, 1)
    kind = u()
    multi = (kind < P_MULTI) & ~background
    box = (kind >= P_MULTI) & (kind < P_MULTI + P_BOX) & ~background
    # multi-point: a second positive and/or a negative outside the object (at least one of them)
    second = u() < 0.6
    third = ~second | (u() < 0.5)
    pl[:, 1] = torch.where(multi & second, 1.0, pl[:, 1])
    pl[:, 2] = torch.where(multi & third, 0.0, pl[:, 2])
    # box: corners of the tight box, each side jittered by up to 10 % of its length (max 20 px)
    bb = _bbox(target)
    side = torch.stack([bb[:, 2] - bb[:, 0], bb[:, 3] - bb[:, 1]] * 2, 1) + 1
    noise = (torch.rand(p, 4, device=dev, generator=gen) * 2 - 1) * (0.1 * side).clamp(max=20)
    bb = bb + noise
    coords[:, 0] = torch.where(box[:, None], bb[:, :2], coords[:, 0])
    coords[:, 1] = torch.where(box[:, None], bb[:, 2:], coords[:, 1])
    pl[:, 0] = torch.where(box, 2.0, pl[:, 0])
    pl[:, 1] = torch.where(box, 3.0, pl[:, 1])
    pl[:, 2] = torch.where(box, -1.0, pl[:, 2])
    mask_input, has_mask = _mask_prompt(target, ~background & ~box & (u() < P_MASK), gen)
    return img, coords, pl, target, mask_input, has_mask


def _mask_prompt(target, use, gen):
    """A noisy logit version of the target in the low-res frame, as if from a previous pass."""
    low = F.avg_pool2d(target[:, None].float(), 2) > 0.5        # S -> S/2 = 4h = 128
    p = target.shape[0]
    mag = 2 + 8 * torch.rand(p, 1, 1, 1, device=target.device, generator=gen)
    noise = torch.randn(low.shape, device=target.device, generator=gen) * 2
    logits = (low.float() * 2 - 1) * mag + noise
    has = use.float()
    return logits * has[:, None, None, None], has


def flip_batch(x, labels, sizes, gen):
    """Random horizontal / vertical flips of the valid (unpadded) area; padding stays bottom-right."""
    bi = x.shape[0]
    dev = x.device
    ar = torch.arange(S, device=dev)
    for axis, size_col in ((3, 1), (2, 0)):
        flip = torch.rand(bi, device=dev, generator=gen) < 0.5
        n = sizes[:, size_col, None]
        idx = torch.where(flip[:, None] & (ar[None] < n), n - 1 - ar[None], ar[None])   # [Bi, S]
        if axis == 3:
            x = torch.gather(x, 3, idx[:, None, None, :].expand_as(x))
            labels = torch.gather(labels, 2, idx[:, None, :].expand_as(labels))
        else:
            x = torch.gather(x, 2, idx[:, None, :, None].expand_as(x))
            labels = torch.gather(labels, 1, idx[:, :, None].expand_as(labels))
    return x, labels
