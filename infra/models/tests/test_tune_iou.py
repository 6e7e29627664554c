"""The IoU-head re-fit's training targets (segmenter/tune_iou.py): best-object IoU and its area.

    cd infra/models && /usr/bin/python3 -m unittest tests.test_tune_iou
"""
import unittest

import torch

from segmenter.model import IMAGE_SIZE as S
from segmenter.tune_iou import best_object_iou


def label_map():
    """Object 1: rows/cols 0..63 (4096 px); object 2: rows/cols 100..109 (100 px)."""
    label = torch.zeros(S, S, dtype=torch.uint8)
    label[:64, :64] = 1
    label[100:110, 100:110] = 2
    return label


def low_res(*boxes):
    """Logits [1, K, S/2, S/2]: +10 inside each (y0, y1, x0, x1) low-res box, -10 elsewhere.
    Bilinear x2 upsampling of such blocks is exactly pixel replication at the zero crossing."""
    out = torch.full((1, len(boxes), S // 2, S // 2), -10.0)
    for k, (y0, y1, x0, x1) in enumerate(boxes):
        out[0, k, y0:y1, x0:x1] = 10.0
    return out


class BestObjectIouTest(unittest.TestCase):
    def test_exact_mask_half_merge_and_background(self):
        low = low_res((0, 32, 0, 32), (0, 32, 0, 64), (50, 55, 50, 55), (120, 128, 120, 128))
        iou, area = best_object_iou(low, label_map(), S, S, 2)
        self.assertEqual(iou.shape, (1, 4))
        self.assertAlmostEqual(iou[0, 0].item(), 1.0, places=6)      # object 1 exactly
        self.assertAlmostEqual(iou[0, 1].item(), 0.5, places=6)      # object 1 plus as much background
        self.assertAlmostEqual(iou[0, 2].item(), 1.0, places=6)      # object 2 exactly (the small one)
        self.assertEqual(iou[0, 3].item(), 0.0)                      # on no object
        self.assertAlmostEqual(area[0, 0].item(), 4096 / (S * S), places=6)
        self.assertAlmostEqual(area[0, 2].item(), 100 / (S * S), places=6)

    def test_padding_outside_the_resized_image_is_not_mask(self):
        # The resized image is 128 rows tall: a mask spilling into the padding below is cut there.
        low = low_res((0, 128, 0, 32))
        label = label_map()
        iou, _ = best_object_iou(low, label, 128, S, 2)
        self.assertAlmostEqual(iou[0, 0].item(), 4096 / (128 * 64), places=6)

    def test_scene_without_objects(self):
        iou, area = best_object_iou(low_res((0, 10, 0, 10)), torch.zeros(S, S, dtype=torch.uint8), S, S, 0)
        self.assertEqual(iou.tolist(), [[0.0]])
        self.assertEqual(area.tolist(), [[0.0]])


if __name__ == "__main__":
    unittest.main()
