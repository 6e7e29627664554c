"""Re-fit the segmenter's IoU head to the masks automatic mask generation actually sees.

    cd infra/models && /usr/bin/python3 -m segmenter.tune_iou --scenes 700 --out runs/iou
    cd infra/models && /usr/bin/python3 -m segmenter.tune_iou --features runs/iou/features.pt --out runs/iou

Why: AMG keeps a mask only when the IoU head predicts it well (`predIouThresh`). The head was
trained on the training prompts (points, boxes, masks drawn per object), and it underrates good
masks of small objects (docs/quality-tuning.md: 0.03-0.4 for a good mask, 0.97 for a mask merging
the object with its neighbour), so AMG drops them. Here every weight stays frozen except the head's:
each train-split scene is decoded on AMG's own prompt grid (single positive points, all 4 outputs),
and the head learns, from the IoU token it already reads, how well each output matches the
ground-truth object it overlaps most (max IoU over the scene's objects, in the 256 frame).

Step 1 (features): encoder + decoder forward on a seeded subset of each scene's grid, no
gradients -> IoU-token features [N, C] and
targets [N, 4]. Step 2 (fit): the head's MLP from its current weights, MSE, AdamW; 10 % of the
scenes are held out and the report shows the held-out error before and after, overall and on
outputs whose best object is small (< 1 % of the frame). The whole checkpoint is written with only
`mask_decoder.iou_prediction_head.*` changed.
"""
import argparse
import json
import os
import time

import torch
import torch.nn.functional as F

from .amg import build_point_grid
from .data import render
from .model import IMAGE_SIZE, MASK_THRESHOLD, TinySam

S = IMAGE_SIZE
HEAD = "mask_decoder.iou_prediction_head."
SMALL_FRACTION = 0.01


def load_model(path):
    model = TinySam()
    model.load_state_dict(torch.load(path, map_location="cpu"))
    return model.eval()


@torch.no_grad()
def scene_features(model, seed, grid, prompts):
    """One scene on `prompts` points drawn from the AMG grid (seeded by the scene) ->
    (features [P, C], targets [P, 4], best-object area [P, 4])."""
    x, label, nh, nw, nobj = render(seed)
    emb = model.image_encoder(torch.from_numpy(x).float()[None])
    pick = torch.randperm(len(grid), generator=torch.Generator().manual_seed(seed))[:prompts]
    coords = torch.from_numpy(grid).float()[pick] * torch.tensor([nw, nh], dtype=torch.float32)
    p = coords.shape[0]
    captured = {}
    hook = model.mask_decoder.iou_prediction_head.register_forward_hook(
        lambda _m, inputs, _out: captured.setdefault("x", inputs[0]))
    try:
        low, _ = model.decode(emb.expand(p, -1, -1, -1), coords[:, None, :], torch.ones(p, 1),
                              torch.zeros(p, 1, S // 2, S // 2), torch.zeros(p))
    finally:
        hook.remove()
    iou, area = best_object_iou(low, torch.from_numpy(label), nh, nw, nobj)
    return captured["x"], iou, area


def best_object_iou(low, label, nh, nw, nobj):
    """Max IoU of each mask (low-res logits [P, K, h, w], upsampled to S and thresholded, inside the
    resized image) with any object of the label map [S, S]; and that object's area fraction."""
    p, k = low.shape[:2]
    masks = F.interpolate(low, size=(S, S), mode="bilinear", align_corners=False) > MASK_THRESHOLD
    masks[..., nh:, :] = False
    masks[..., :, nw:] = False
    flat = masks.reshape(p * k, S * S).float()
    if nobj == 0:
        return torch.zeros(p, k), torch.zeros(p, k)
    onehot = (label.reshape(-1, 1).long() == torch.arange(1, nobj + 1)[None]).float()   # [S*S, nobj]
    inter = flat @ onehot
    union = flat.sum(1, keepdim=True) + onehot.sum(0)[None] - inter
    iou = inter / union.clamp(min=1)
    best, which = iou.max(1)
    area = onehot.sum(0)[which] / float(nh * nw)
    return best.reshape(p, k), area.reshape(p, k)


def collect(model, seeds, points_per_side, prompts, log_every=50):
    grid = build_point_grid(points_per_side)
    feats, targets, areas, scene = [], [], [], []
    t0 = time.time()
    for i, seed in enumerate(seeds):
        f, t, a = scene_features(model, seed, grid, prompts)
        feats.append(f), targets.append(t), areas.append(a), scene.append(torch.full((f.shape[0],), i))
        if (i + 1) % log_every == 0:
            print(f"features: {i + 1}/{len(seeds)} scenes, {time.time() - t0:.0f}s", flush=True)
    return {"x": torch.cat(feats), "y": torch.cat(targets), "area": torch.cat(areas), "scene": torch.cat(scene),
            "pointsPerSide": points_per_side, "prompts": prompts, "seeds": list(seeds)}


def errors(head, data, rows):
    """Held-out MSE overall, on outputs whose best object is small, and on good small masks."""
    with torch.no_grad():
        pred = head(data["x"][rows])
    y, area = data["y"][rows], data["area"][rows]
    sq = (pred - y) ** 2
    small = area < SMALL_FRACTION
    good_small = small & (y >= 0.8)
    return {"mse": sq.mean().item(), "mse_small": sq[small].mean().item(),
            "mean_pred_good_small": pred[good_small].mean().item(), "mean_true_good_small": y[good_small].mean().item(),
            "n_good_small": int(good_small.sum())}


def fit(head, data, epochs, lr, seed):
    n_scenes = int(data["scene"].max()) + 1
    held = data["scene"] >= n_scenes - max(1, n_scenes // 10)
    train_rows, held_rows = (~held).nonzero()[:, 0], held.nonzero()[:, 0]
    before = errors(head, data, held_rows)
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(seed)
    steps = epochs * ((len(train_rows) + 4095) // 4096)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    for epoch in range(epochs):
        order = train_rows[torch.randperm(len(train_rows), generator=gen)]
        for start in range(0, len(order), 4096):
            rows = order[start:start + 4096]
            loss = F.mse_loss(head(data["x"][rows]), data["y"][rows])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        print(f"epoch {epoch + 1}/{epochs} held-out {errors(head, data, held_rows)}", flush=True)
    return before, errors(head, data, held_rows)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--init", default=os.path.join(here, "..", "checkpoints", "segmenter.pt"))
    ap.add_argument("--scenes", type=int, default=700, help="train-split scenes to decode")
    ap.add_argument("--scene-offset", type=int, default=0, help="skip this many train-split seeds")
    ap.add_argument("--points-per-side", type=int, default=16, help="the pack's AMG grid")
    ap.add_argument("--prompts", type=int, default=64,
                    help="grid points decoded per scene (the decoder is the cost: more scenes beat more points)")
    ap.add_argument("--features", default=None, help="reuse features written by an earlier run")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--out", default="runs/iou")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    model = load_model(args.init)
    if args.features:
        data = torch.load(args.features)
    else:
        from shapesworld import split_seeds
        seeds = split_seeds("train", args.scene_offset + args.scenes)[args.scene_offset:]
        data = collect(model, seeds, args.points_per_side, args.prompts)
        torch.save(data, os.path.join(args.out, "features.pt"))
    head = model.mask_decoder.iou_prediction_head.train()
    before, after = fit(head, data, args.epochs, args.lr, args.seed)
    state = {k: v.detach().float() for k, v in model.state_dict().items()}
    torch.save(state, os.path.join(args.out, "segmenter.pt"))
    report = {"args": vars(args), "rows": len(data["y"]), "held_out_before": before, "held_out_after": after}
    with open(os.path.join(args.out, "tune_iou.json"), "w") as f:
        json.dump(report, f, indent=2)
    print("done", json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
