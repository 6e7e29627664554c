"""ONNX-facing wrappers with the official segment-anything decoder contract.

`SamOnnxDecoder` reproduces `SamOnnxModel` (return_single_mask=False, no stability output):
points are in the resized S frame, shifted to pixel centres (+0.5) and normalised by S; label -1
is padding (not_a_point), labels 0..3 index point_embeddings; `has_mask_input` blends the mask
prompt with no_mask_embed; masks are upsampled to S x S, cropped to the resized image size and
resized to `orig_im_size`.

`BatchedDecoder` is the same decoder with a leading prompt axis: B independent prompts against one
image embedding; it returns low-res logits only (the pipeline upsamples survivors itself).
"""
import torch
import torch.nn.functional as F
from torch import nn

from .model import IMAGE_SIZE, TinySam


def resize_longest_image_size(orig_im_size, longest_side):
    """(H, W) -> resized (newH, newW) as int64, floor(x * scale + 0.5) like ResizeLongestSide."""
    size = orig_im_size.to(torch.float32)
    scale = longest_side / torch.max(size)
    return torch.floor(scale * size + 0.5).to(torch.int64)


def mask_postprocessing(masks, orig_im_size, image_size=IMAGE_SIZE):
    """Low-res logits -> S x S -> crop to the resized image -> original size (bilinear, no corners)."""
    masks = F.interpolate(masks, size=(image_size, image_size), mode="bilinear", align_corners=False)
    prepadded = resize_longest_image_size(orig_im_size, image_size)
    masks = masks[..., : prepadded[0], : prepadded[1]]
    orig = orig_im_size.to(torch.int64)
    h, w = orig[0], orig[1]
    return F.interpolate(masks, size=(h, w), mode="bilinear", align_corners=False)


class ImageEncoderOnnx(nn.Module):
    """`image` [1, 3, S, S] (already normalised and padded) -> `image_embeddings`."""

    def __init__(self, sam: TinySam):
        super().__init__()
        self.encoder = sam.image_encoder

    def forward(self, image):
        return self.encoder(image)


class BatchedDecoder(nn.Module):
    """B independent prompts, one embedding -> (iou_predictions [B, 4], low_res_masks [B, 4, 4h, 4w])."""

    def __init__(self, sam: TinySam):
        super().__init__()
        self.sam = sam

    def forward(self, image_embeddings, point_coords, point_labels, mask_input, has_mask_input):
        b = point_coords.shape[0]
        emb = image_embeddings.expand(b, -1, -1, -1)
        masks, iou = self.sam.decode(emb, point_coords, point_labels, mask_input, has_mask_input)
        return iou, masks


class SamOnnxDecoder(nn.Module):
    """Official single-prompt form: (masks, iou_predictions, low_res_masks)."""

    def __init__(self, sam: TinySam):
        super().__init__()
        self.batched = BatchedDecoder(sam)
        self.image_size = sam.image_size

    def forward(self, image_embeddings, point_coords, point_labels, mask_input, has_mask_input, orig_im_size):
        iou, low_res = self.batched(image_embeddings, point_coords, point_labels, mask_input, has_mask_input)
        return mask_postprocessing(low_res, orig_im_size, self.image_size), iou, low_res
