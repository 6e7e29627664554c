"""Train the tiny SAM on shapes-world scenes.

    cd infra/models && /usr/bin/python3 -m segmenter.train --device cuda --minutes 6 --scenes 24000 --out DIR
    cd infra/models && /usr/bin/python3 -m segmenter.train --device cpu --minutes 80 --scenes 3000 \
        --batch 8 --prompts 8 --workers 1 --out DIR

Scenes are rendered by a worker pool while training runs: the loop starts once `--warmup-scenes` are
in and draws from everything rendered so far. The learning-rate schedule (linear warm-up, cosine
decay) runs on elapsed time, so a time budget always ends at a low learning rate.
"""
import argparse
import json
import multiprocessing as mp
import os
import threading
import time

import numpy as np
import torch
import torch.nn.functional as F

from .data import flip_batch, render, sample_prompts
from .model import IMAGE_SIZE, TinySam

S = IMAGE_SIZE


def focal_loss(logits, target, alpha=0.25, gamma=2.0):
    """Per-prompt-and-output sigmoid focal loss, mean over pixels -> [P, K]."""
    p = logits.sigmoid()
    ce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    pt = p * target + (1 - p) * (1 - target)
    w = alpha * target + (1 - alpha) * (1 - target)
    return (w * ce * (1 - pt) ** gamma).flatten(2).mean(-1)


def dice_loss(logits, target):
    p = logits.sigmoid().flatten(2)
    t = target.flatten(2)
    return 1 - (2 * (p * t).sum(-1) + 1) / (p.sum(-1) + t.sum(-1) + 1)


def mask_iou(logits, target):
    """IoU of logits > 0 with the target, 0 when the target is empty (background prompts)."""
    pred = (logits > 0).flatten(2)
    t = target.flatten(2) > 0.5
    inter = (pred & t).sum(-1).float()
    union = (pred | t).sum(-1).float()
    return torch.where(t.any(-1), inter / union.clamp(min=1), torch.zeros_like(inter))


def losses(low_res, iou_pred, target):
    """SAM's objective: 20 * focal + dice; token 0 on the target, min over tokens 1..3; IoU MSE."""
    logits = F.interpolate(low_res.float(), size=(S, S), mode="bilinear", align_corners=False)
    t = target[:, None].float().expand_as(logits)
    per = 20 * focal_loss(logits, t) + dice_loss(logits, t)                     # [P, 4]
    mask_loss = per[:, 0].mean() + per[:, 1:].min(1).values.mean()
    with torch.no_grad():
        iou = mask_iou(logits, t)
    iou_loss = F.mse_loss(iou_pred.float(), iou)
    return mask_loss + iou_loss, {"mask": mask_loss.item(), "iou_mse": iou_loss.item(),
                                  "best_iou": iou[:, 1:].max(1).values.mean().item()}


class SceneBank:
    """Rendered scenes on the training device, filled in the background by a process pool."""

    def __init__(self, seeds, device, workers):
        n = len(seeds)
        self.x = torch.empty(n, 3, S, S, dtype=torch.float16, device=device)
        self.labels = torch.empty(n, S, S, dtype=torch.uint8, device=device)
        self.sizes = torch.empty(n, 2, dtype=torch.long, device=device)
        self.nobj = torch.empty(n, dtype=torch.long, device=device)
        self.count, self.pending, self.lock = 0, [], threading.Lock()
        self.t0 = time.time()
        self.pool = mp.get_context("spawn").Pool(workers)
        it = self.pool.imap_unordered(render, seeds, chunksize=8)
        threading.Thread(target=self._collect, args=(it,), daemon=True).start()

    def _collect(self, it):
        for item in it:
            with self.lock:
                self.pending.append(item)

    def drain(self):
        """Move finished scenes onto the device (main thread only)."""
        with self.lock:
            items, self.pending = self.pending, []
        for x, label, nh, nw, nobj in items:
            i = self.count
            self.x[i] = torch.from_numpy(x)
            self.labels[i] = torch.from_numpy(label)
            self.sizes[i] = torch.tensor([nh, nw])
            self.nobj[i] = nobj
            self.count += 1
        return self.count


def lr_at(progress, base, warm=0.03):
    if progress < warm:
        return base * progress / warm
    return base * 0.5 * (1 + np.cos(np.pi * min(1.0, (progress - warm) / (1 - warm))))


def train_step(model, opt, bank, args, gen, device):
    idx = torch.randint(0, bank.count, (args.batch,), device=device, generator=gen)
    x, labels = flip_batch(bank.x[idx], bank.labels[idx], bank.sizes[idx], gen)
    img, coords, pl, target, mask_input, has_mask = sample_prompts(
        labels, bank.sizes[idx], bank.nobj[idx], args.prompts, gen)
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        emb = model.image_encoder(x.float())
        low_res, iou_pred = model.decode(emb[img], coords, pl, mask_input, has_mask)
    loss, stats = losses(low_res, iou_pred, target)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return stats


def save(model, out, meta):
    sd = {k: v.detach().float().cpu() for k, v in model.state_dict().items()}
    torch.save(sd, os.path.join(out, "segmenter.pt"))
    with open(os.path.join(out, "train_meta.json"), "w") as f:
        json.dump(meta, f, indent=2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--minutes", type=float, default=6.0, help="training time budget")
    ap.add_argument("--scenes", type=int, default=24000, help="train-split scenes to render")
    ap.add_argument("--warmup-scenes", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=32, help="images per step")
    ap.add_argument("--prompts", type=int, default=8, help="prompts per image")
    ap.add_argument("--lr", type=float, default=4e-4)
    ap.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scene-offset", type=int, default=0, help="skip this many train-split seeds")
    ap.add_argument("--init", default=None, help="start from this state dict (fine-tuning)")
    ap.add_argument("--out", default="runs/segmenter")
    args = ap.parse_args()
    from shapesworld import split_seeds
    os.makedirs(args.out, exist_ok=True)
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    gen = torch.Generator(device=device).manual_seed(args.seed)
    model = TinySam()
    if args.init:
        model.load_state_dict(torch.load(args.init, map_location="cpu"))
    model = model.to(device).train()
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "pos_embed" not in n]
    other = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "pos_embed" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": other, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.999))
    seeds = split_seeds("train", args.scene_offset + args.scenes)[args.scene_offset:]
    bank = SceneBank(seeds, device, args.workers)
    while bank.drain() < min(args.warmup_scenes, args.scenes):
        time.sleep(0.5)
    print(f"{bank.count} scenes after {time.time() - bank.t0:.0f}s; training", flush=True)
    t0, step, last_save, budget = time.time(), 0, time.time(), args.minutes * 60
    meta = {"args": vars(args), "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu"}
    while time.time() - t0 < budget:
        for g in opt.param_groups:
            g["lr"] = lr_at((time.time() - t0) / budget, args.lr)
        stats = train_step(model, opt, bank, args, gen, device)
        step += 1
        if step % 50 == 0:
            bank.drain()
            print(f"step {step} t={time.time() - t0:.0f}s scenes={bank.count} "
                  + " ".join(f"{k}={v:.4f}" for k, v in stats.items()), flush=True)
        if time.time() - last_save > 60:
            meta.update(steps=step, train_seconds=time.time() - t0, scenes_seen=bank.count, last=stats)
            save(model, args.out, meta)
            last_save = time.time()
    meta.update(steps=step, train_seconds=time.time() - t0, scenes_seen=bank.drain(), last=stats)
    save(model, args.out, meta)
    bank.pool.terminate()
    print("done", json.dumps(meta), flush=True)


if __name__ == "__main__":
    main()
