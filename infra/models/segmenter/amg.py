"""SAM's automatic mask generation, single crop, on the batched decoder (for the quality report).

Grid points are cell centres (`build_point_grid`); each point is one prompt; the 3 multimask outputs
are filtered by predicted IoU and by stability score on the low-res logits; box NMS; survivors are
upsampled to the original size with the official post-processing.
"""
import numpy as np
import torch

from .model import MASK_THRESHOLD
from .onnx_wrappers import mask_postprocessing

AMG_DEFAULTS = {"pointsPerSide": 16, "predIouThresh": 0.88, "stabilityScoreThresh": 0.95,
                "stabilityScoreOffset": 1.0, "boxNmsThresh": 0.7}


def build_point_grid(n):
    """n x n cell centres in [0, 1]^2, (x, y), x fastest — SAM's build_point_grid."""
    offset = 1 / (2 * n)
    side = np.linspace(offset, 1 - offset, n)
    xs = np.tile(side[None, :], (n, 1))
    ys = np.tile(side[:, None], (1, n))
    return np.stack([xs, ys], axis=-1).reshape(-1, 2)


def stability_score(logits, threshold, offset):
    """IoU between the masks thresholded at threshold +/- offset, per mask."""
    inter = (logits > threshold + offset).flatten(1).sum(-1).float()
    union = (logits > threshold - offset).flatten(1).sum(-1).float()
    return inter / union.clamp(min=1)


def masks_to_boxes(masks):
    """Bool [M, h, w] -> (x0, y0, x1, y1) pixel-inclusive boxes; empty masks give zeros."""
    m, h, w = masks.shape
    cols, rows = masks.any(1), masks.any(2)
    ar_w = torch.arange(w, device=masks.device)
    ar_h = torch.arange(h, device=masks.device)
    x0 = torch.where(cols, ar_w, w).min(1).values
    x1 = torch.where(cols, ar_w, -1).max(1).values
    y0 = torch.where(rows, ar_h, h).min(1).values
    y1 = torch.where(rows, ar_h, -1).max(1).values
    boxes = torch.stack([x0, y0, x1, y1], 1).float()
    return torch.where(masks.flatten(1).any(1)[:, None], boxes, torch.zeros_like(boxes))


def box_nms(boxes, scores, thresh):
    """Greedy NMS on (x0, y0, x1, y1) boxes; returns kept indices, best score first.

    The greedy loop runs in numpy: a per-box loop of device ops would sync hundreds of times."""
    order = scores.argsort(descending=True)
    b = boxes[order].cpu().numpy().astype(np.float64)
    area = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    lt = np.maximum(b[:, None, :2], b[None, :, :2])
    rb = np.minimum(b[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt + 1, 0, None).prod(-1)
    iou = inter / (area[:, None] + area[None, :] - inter)
    keep = np.ones(len(b), dtype=bool)
    for i in range(len(b)):
        if keep[i]:
            keep[i + 1:] &= iou[i, i + 1:] <= thresh
    return order[torch.from_numpy(np.nonzero(keep)[0]).to(order.device)]


@torch.no_grad()
def decode_grid(batched, emb, orig_hw, new_hw, n):
    """All grid prompts in one batched call -> (low_res [P*3, 4h, 4w], iou [P*3])."""
    pts = torch.tensor(build_point_grid(n), dtype=torch.float32, device=emb.device)
    coords = pts * torch.tensor([new_hw[1], new_hw[0]], dtype=torch.float32, device=emb.device)
    p = coords.shape[0]
    labels = torch.ones(p, 1, device=emb.device)
    mask_input = torch.zeros(p, 1, 4 * emb.shape[2], 4 * emb.shape[3], device=emb.device)
    iou, low = batched(emb, coords[:, None, :], labels, mask_input, torch.zeros(p, device=emb.device))
    return low[:, 1:].flatten(0, 1), iou[:, 1:].flatten()


@torch.no_grad()
def generate(low, iou, orig_hw, new_hw, cfg):
    """Filter decoded grid masks with `cfg` -> bool masks at the original size [R, H, W], scores."""
    keep = iou > cfg["predIouThresh"]
    stab = stability_score(low, MASK_THRESHOLD, cfg["stabilityScoreOffset"])
    keep &= stab >= cfg["stabilityScoreThresh"]
    low, iou = low[keep], iou[keep]
    if low.shape[0] == 0:
        return torch.zeros(0, *orig_hw, dtype=torch.bool, device=low.device), iou
    # boxes in the low-res frame, cropped to the resized image; NMS is scale-free within one image
    hh, ww = (new_hw[0] + 1) // 2, (new_hw[1] + 1) // 2
    boxes = masks_to_boxes(low[:, :hh, :ww] > MASK_THRESHOLD)
    kept = box_nms(boxes, iou, cfg["boxNmsThresh"])
    orig = torch.tensor(orig_hw, dtype=torch.float32)
    masks = mask_postprocessing(low[kept][:, None], orig)[:, 0] > MASK_THRESHOLD
    return masks, iou[kept]
