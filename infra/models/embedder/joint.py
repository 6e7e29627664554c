"""Stage 3: continue Alpha-CLIP with the shared text tower unfrozen, co-training CLIP's image tower.

  python3 -m embedder.joint --init-clip checkpoints/clip.pt --init-alpha checkpoints/alpha_clip.pt \
      --out checkpoints/alpha_clip.pt --clip-out checkpoints/clip.pt

Why (a measured deviation from the paper's frozen text encoder): our CLIP text tower learnt from
whole-image pairs only, where "the larger / smaller of the two green triangles" or "... on the left /
on the right" are *both* true of the same image, so contrastive training collapses them (cosine
0.999 between opposite relations). The paper's text tower comes from 400M web pairs and does not
have this blind spot. So the text tower trains here too, at a low rate, and — to keep ONE text
tower serving both image towers (one alpha-clip-text.onnx, a fair CLIP baseline) — CLIP's image
tower keeps training on its crop / whole-image batches against the same text tower.
"""
import argparse
import contextlib
import os
import time

import torch
from torch import nn

from embedder.data import build_dataset
from embedder.train import (Batches, load, lr_factor, merge_texts, multi_positive_loss, save,
                            tiny_config)
from shapesworld import split_seeds


class Joint(nn.Module):
    def __init__(self, alpha, clip):
        super().__init__()
        self.alpha, self.clip_visual = alpha, clip.visual

    def clip_state_dict(self):
        """A plain CLIP checkpoint: the shared text tower + CLIP's own image tower."""
        sd = {k: v for k, v in self.alpha.state_dict().items() if not k.startswith("visual.")}
        sd.update({"visual." + k: v for k, v in self.clip_visual.state_dict().items()})
        return sd


def optimizer(joint, args):
    groups = {"alpha_conv": [], "alpha_vis": [], "text": [], "clip_vis": []}
    for name, p in joint.named_parameters():
        if name.endswith("logit_scale"):
            p.requires_grad_(False)       # temperature stays at CLIP's value (paper App. A)
        elif name == "alpha.visual.conv1_alpha.weight":
            groups["alpha_conv"].append(p)
        elif name.startswith("alpha.visual."):
            groups["alpha_vis"].append(p)
        elif name.startswith("alpha."):
            groups["text"].append(p)
        else:
            groups["clip_vis"].append(p)
    lrs = {"alpha_conv": args.lr_alpha, "alpha_vis": args.lr, "text": args.lr_text, "clip_vis": args.lr_clip}
    opt = torch.optim.AdamW([{"params": ps, "lr": lrs[k], "base_lr": lrs[k]} for k, ps in groups.items()],
                            betas=(0.9, 0.98), eps=1e-6, weight_decay=args.wd)
    return opt


def step_loss(joint, bs, args, amp):
    img_a, alpha_a, meta_a = bs.alpha_batch(args.batch // args.per_scene, args.per_scene)
    img_c, _, meta_c = bs.clip_batch(args.clip_batch)
    ua, pos_a = merge_texts(meta_a, bs.truth(meta_a))
    uc, pos_c = merge_texts(meta_c, bs.truth(meta_c))
    allu = torch.unique(torch.cat([ua, uc]))          # sorted: searchsorted maps back
    with amp:
        te = joint.alpha.encode_text(bs.t["text_tokens"][allu])
        ia = joint.alpha.encode_image(img_a, alpha_a)
        ic = joint.clip_visual(img_c)
    scale = joint.alpha.logit_scale.exp()
    la, acc = multi_positive_loss(ia, te[torch.searchsorted(allu, ua)], pos_a, scale)
    lc, _ = multi_positive_loss(ic, te[torch.searchsorted(allu, uc)], pos_c, scale)
    return la + args.clip_weight * lc, la, lc, acc


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--init-clip", required=True)
    p.add_argument("--init-alpha", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--clip-out", required=True)
    p.add_argument("--scenes", type=int, default=14000)
    p.add_argument("--cache")
    p.add_argument("--workers", type=int, default=os.cpu_count())
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--per-scene", type=int, default=4)
    p.add_argument("--clip-batch", type=int, default=256)
    p.add_argument("--clip-weight", type=float, default=0.5)
    p.add_argument("--minutes", type=float, default=3.5)
    p.add_argument("--steps", type=int, default=100000)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--lr-alpha", type=float, default=3e-4)
    p.add_argument("--lr-text", type=float, default=1e-4)
    p.add_argument("--lr-clip", type=float, default=5e-5)
    p.add_argument("--wd", type=float, default=0.02)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--log-every", type=int, default=100)
    args = p.parse_args(argv)
    torch.manual_seed(args.seed)
    dev = torch.device(args.device)
    t0 = time.time()
    data = build_dataset(split_seeds("train", args.scenes), args.workers, args.cache)
    alpha, alpha_ck = load(args.init_alpha, alpha=True)
    clip, clip_ck = load(args.init_clip, alpha=False)
    joint = Joint(alpha, clip).to(dev).train()
    bs, opt = Batches(data, dev), optimizer(joint, args)
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if dev.type == "cuda" else contextlib.nullcontext()
    start, step = time.time(), 0
    while (progress := max(step / args.steps, (time.time() - start) / (args.minutes * 60))) < 1:
        for g in opt.param_groups:
            g["lr"] = g["base_lr"] * lr_factor(progress)
        loss, la, lc, acc = step_loss(joint, bs, args, amp)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % args.log_every == 0:
            print(f"step {step} p={progress:.3f} alpha {la.item():.4f} (acc {acc.item():.3f}) "
                  f"clip {lc.item():.4f} {time.time() - start:.0f}s", flush=True)
    info = dict(stage="joint", scenes=args.scenes, seed=args.seed, device=str(dev), batch=args.batch,
                gpu=torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu", steps=step,
                seconds=round(time.time() - start, 1), data_seconds=round(start - t0, 1),
                final_loss=round(la.item(), 4), previous=alpha_ck.get("info"))
    config = tiny_config()
    save(args.out, joint.alpha, config, "alpha", info)
    clip_model = load(args.init_clip, alpha=False)[0]
    clip_model.load_state_dict(joint.clip_state_dict(), strict=True)
    save(args.clip_out, clip_model, config, "clip",
         dict(info, final_loss=round(lc.item(), 4), previous=clip_ck.get("info")))
    print("done", info, flush=True)


if __name__ == "__main__":
    main()
