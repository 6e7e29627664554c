"""Train CLIP-tiny (stage ``clip``) and then Alpha-CLIP-tiny from it (stage ``alpha``).

  python3 -m embedder.train --stage clip  --out checkpoints/clip.pt
  python3 -m embedder.train --stage alpha --init checkpoints/clip.pt --out checkpoints/alpha_clip.pt
(run from infra/models; ``--device cpu`` works too, see README for measured times).

Loss: symmetric InfoNCE with *multi-positive* targets. A text is a positive for every sample it is
true of (truth()), and duplicate texts in a batch are merged into one column — otherwise "a red
circle" from two regions would be pushed apart from itself. Alpha batches are scene-grouped: several
regions of the same image, so a context expression must beat the other regions of its own scene.
"""
import argparse
import contextlib
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from embedder import model as M
from embedder.data import ATTR, EXACT, IMAGE_MEAN, IMAGE_STD, SCENE, build_dataset
from shapesworld import split_seeds
from shapesworld.preprocess import ALPHA_MEAN, ALPHA_STD
from shapesworld.tokenizer import build_vocab


def tiny_config() -> dict:
    return dict(M.TINY, vocab_size=len(build_vocab()))


class Batches:
    """Holds the rendered dataset on the device and samples batches from it."""

    def __init__(self, data: dict, device):
        self.dev = device
        self.t = {k: torch.as_tensor(v).to(device) for k, v in data.items() if k != "texts"}
        self.mean = torch.tensor(IMAGE_MEAN, device=device).view(1, 3, 1, 1)
        self.std = torch.tensor(IMAGE_STD, device=device).view(1, 3, 1, 1)
        self.n_obj, self.n_scene = len(self.t["attrs"]), len(self.t["images"])

    def image(self, u8):
        return (u8.float() / 255.0 - self.mean) / self.std

    def alpha(self, u8):
        return ((u8.float() / 255.0 - ALPHA_MEAN) / ALPHA_STD).unsqueeze(1)

    def _pick(self, start, count, rows):
        """Uniform index in [start, start+count) per row."""
        r = torch.rand(len(rows), device=self.dev)
        return start[rows] + (r * count[rows]).long().clamp_max(count[rows] - 1)

    def _variant(self, objs):
        return self.t["var_text"][self._pick(self.t["var_start"], self.t["var_count"], objs)]

    def _scene_text(self, scenes):
        return self.t["stext"][self._pick(self.t["stext_start"], self.t["stext_count"], scenes)]

    def _meta(self, whole, obj, scene, text, ttype):
        return dict(whole=whole, obj=obj, scene=scene, text=text, ttype=ttype)

    def clip_batch(self, b, whole_frac=0.25):
        """Tight crops with caption variants, plus whole images with whole-image texts."""
        nw = int(b * whole_frac)
        objs = torch.randint(self.n_obj, (b - nw,), device=self.dev)
        scenes = torch.randint(self.n_scene, (nw,), device=self.dev)
        img = torch.cat([self.t["crops"][objs], self.t["images"][scenes]])
        meta = self._meta(torch.arange(b, device=self.dev) >= b - nw,
                          torch.cat([objs, torch.full_like(scenes, -1)]),
                          torch.cat([self.t["obj_scene"][objs], scenes]),
                          torch.cat([self._variant(objs), self._scene_text(scenes)]),
                          torch.cat([torch.full_like(objs, ATTR), torch.full_like(scenes, SCENE)]))
        return self.image(img), None, meta

    def _distinct_regions(self, n_scenes, per_scene):
        """per_scene *different* objects of each sampled scene (cycling when it has fewer):
        repeats of one region would waste the in-scene hard negatives."""
        sc = torch.randperm(self.n_scene, device=self.dev)[:n_scenes]
        count = self.t["obj_count"][sc]
        keys = torch.rand(len(sc), self.t["scene_attrs"].shape[1], device=self.dev)
        keys[torch.arange(keys.shape[1], device=self.dev)[None] >= count[:, None]] = 2.0  # padding last
        slot = torch.arange(per_scene, device=self.dev)[None] % count[:, None]
        local = keys.argsort(1).gather(1, slot)
        return sc.repeat_interleave(per_scene), (self.t["obj_start"][sc][:, None] + local).flatten()

    def alpha_batch(self, n_scenes, per_scene, whole_frac=0.1, expr_prob=0.4):
        """Scene-grouped region samples (caption variant or context expression) + whole images."""
        scenes, objs = self._distinct_regions(n_scenes, per_scene)
        texts, ttype = self._variant(objs), torch.full_like(objs, ATTR)
        use_expr = (torch.rand(len(scenes), device=self.dev) < expr_prob) & (self.t["expr_count"][scenes] > 0)
        if use_expr.any():
            e = self._pick(self.t["expr_start"], self.t["expr_count"], scenes[use_expr])
            objs[use_expr], texts[use_expr] = self.t["expr_obj"][e], self.t["expr_text"][e]
            ttype[use_expr] = EXACT
        nw = max(1, round(len(scenes) * whole_frac / (1 - whole_frac)))
        wscenes = scenes[torch.randperm(len(scenes), device=self.dev)[:nw]]
        img = torch.cat([self.t["images"][self.t["obj_scene"][objs]], self.t["images"][wscenes]])
        alpha = torch.cat([self.alpha(self.t["alphas"][objs]),
                           torch.full((nw, 1) + img.shape[-2:], (1 - ALPHA_MEAN) / ALPHA_STD, device=self.dev)])
        n = len(objs)
        meta = self._meta(torch.arange(n + nw, device=self.dev) >= n,
                          torch.cat([objs, torch.full_like(wscenes, -1)]),
                          torch.cat([self.t["obj_scene"][objs], wscenes]),
                          torch.cat([texts, self._scene_text(wscenes)]),
                          torch.cat([ttype, torch.full_like(wscenes, SCENE)]))
        return self.image(img), alpha, meta

    def truth(self, m):
        """T[i, j]: is sample j's text true of sample i's image (region or whole image)?"""
        cons = self.t["text_cons"][m["text"]]                                  # [B, 4]
        ok = lambda a, c: ((c == -1) | (c == a)).all(-1)
        region = ok(self.t["attrs"][m["obj"].clamp_min(0)][:, None], cons[None])
        whole = ok(self.t["scene_attrs"][m["scene"]][:, None], cons[None, :, None]).any(-1)
        attr_t = torch.where(m["whole"][:, None], whole, region)
        exact_t = ~m["whole"][:, None] & (m["obj"][:, None] == m["obj"][None])
        scene_t = m["whole"][:, None] & (m["scene"][:, None] == m["scene"][None])
        tt = m["ttype"][None]
        t = torch.where(tt == ATTR, attr_t, torch.where(tt == EXACT, exact_t, scene_t))
        return t | torch.eye(len(t), dtype=torch.bool, device=self.dev)


def multi_positive_loss(img_emb, txt_emb, pos, logit_scale):
    """Symmetric InfoNCE where each row's target is uniform over its positives."""
    logits = logit_scale * F.normalize(img_emb.float(), dim=-1) @ F.normalize(txt_emb.float(), dim=-1).T
    p = pos.float()
    li = -(p / p.sum(1, keepdim=True) * F.log_softmax(logits, 1)).sum(1).mean()
    lt = -(p.T / p.T.sum(1, keepdim=True) * F.log_softmax(logits.T, 1)).sum(1).mean()
    acc = pos.gather(1, logits.argmax(1, keepdim=True)).float().mean()
    return (li + lt) / 2, acc


def merge_texts(meta, truth):
    """Unique text ids of the batch, and truth merged over duplicate texts -> [B, U]."""
    uniq, inv = torch.unique(meta["text"], return_inverse=True)
    g = F.one_hot(inv, len(uniq)).float()
    return uniq, (truth.float() @ g) > 0


def make_optimizer(model, stage, lr, lr_alpha, wd):
    """CLIP: everything trains. Alpha: text tower + temperature frozen (paper §3.2); conv1_alpha
    gets a higher learning rate than the pretrained transformer (paper App. A)."""
    decay, no_decay, alpha_p = [], [], []
    for name, p in model.named_parameters():
        if stage == "alpha" and not name.startswith("visual."):
            p.requires_grad_(False)
            continue
        if name == "visual.conv1_alpha.weight":
            alpha_p.append(p)
        elif p.ndim >= 2 and "embedding" not in name:
            decay.append(p)
        else:
            no_decay.append(p)
    groups = [{"params": decay, "weight_decay": wd, "lr": lr}, {"params": no_decay, "weight_decay": 0.0, "lr": lr}]
    if alpha_p:
        groups.append({"params": alpha_p, "weight_decay": wd, "lr": lr_alpha})
    for g in groups:
        g["base_lr"] = g["lr"]
    return torch.optim.AdamW(groups, betas=(0.9, 0.98), eps=1e-6)


def lr_factor(progress, warmup=0.05):
    return min(1.0, progress / warmup) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def save(path, model, config, stage, info):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    sd = {k: v.detach().float().cpu() for k, v in model.state_dict().items()}
    torch.save({"config": config, "stage": stage, "info": info, "state_dict": sd}, path + ".tmp")
    os.replace(path + ".tmp", path)


def load(path, alpha):
    ck = torch.load(path, map_location="cpu")
    m = M.build(ck["config"], alpha=alpha)
    m.load_state_dict(ck["state_dict"], strict=True)
    return m, ck


def build_model(args, config):
    if args.stage == "clip":
        return M.build(config, alpha=False)
    clip, _ = load(args.init, alpha=False)
    return M.alpha_from_clip(clip, config)


@torch.no_grad()
def text_table(model, tokens, dev, chunk=1024):
    """Alpha stage: the text tower is frozen, so every text is embedded once."""
    model.eval()
    out = [model.encode_text(tokens[i:i + chunk]) for i in range(0, len(tokens), chunk)]
    return torch.cat(out).float()


def train(args):
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    dev = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    t0 = time.time()
    data = build_dataset(split_seeds("train", args.scenes), args.workers, args.cache)
    print(f"data: {args.scenes} scenes, {len(data['attrs'])} regions, {len(data['texts'])} texts "
          f"in {time.time() - t0:.0f}s", flush=True)
    config = tiny_config()
    model = build_model(args, config).to(dev)
    bs = Batches(data, dev)
    opt = make_optimizer(model, args.stage, args.lr, args.lr_alpha, args.wd)
    frozen_text = text_table(model, bs.t["text_tokens"], dev) if args.stage == "alpha" else None
    # bf16 autocast on the GPU only (torch 1.13's CPU build refuses a CUDA autocast context).
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if dev.type == "cuda" else contextlib.nullcontext()
    start, last_save, step = time.time(), time.time(), 0
    info = dict(stage=args.stage, scenes=args.scenes, seed=args.seed, device=str(dev),
                gpu=torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu")
    while True:
        progress = max(step / args.steps, (time.time() - start) / (args.minutes * 60))
        if progress >= 1:
            break
        for g in opt.param_groups:
            g["lr"] = g["base_lr"] * lr_factor(progress)
        model.train()
        if args.stage == "clip":
            img, alpha, meta = bs.clip_batch(args.batch)
        else:
            img, alpha, meta = bs.alpha_batch(args.batch // args.per_scene, args.per_scene)
        uniq, pos = merge_texts(meta, bs.truth(meta))
        with amp:
            ie = model.encode_image(img, alpha)
            te = frozen_text[uniq] if frozen_text is not None else model.encode_text(bs.t["text_tokens"][uniq])
        loss, acc = multi_positive_loss(ie, te, pos, model.logit_scale.exp())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        step += 1
        if step % args.log_every == 0:
            print(f"step {step} p={progress:.3f} loss {loss.item():.4f} acc {acc.item():.3f} "
                  f"T={model.logit_scale.exp().item():.1f} {time.time() - start:.0f}s", flush=True)
        if time.time() - last_save > args.save_every:
            save(args.out, model, config, args.stage, dict(info, steps=step, seconds=time.time() - start))
            last_save = time.time()
    info.update(steps=step, seconds=round(time.time() - start, 1), data_seconds=round(start - t0, 1),
                batch=args.batch, final_loss=round(loss.item(), 4))
    save(args.out, model, config, args.stage, info)
    print("done", info, flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stage", choices=["clip", "alpha"], required=True)
    p.add_argument("--init", help="CLIP checkpoint to start the alpha stage from")
    p.add_argument("--out", required=True)
    p.add_argument("--scenes", type=int, default=20000, help="training scenes (train split seeds)")
    p.add_argument("--cache", help=".npz cache of the rendered scenes (reused when present)")
    p.add_argument("--workers", type=int, default=os.cpu_count())
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--per-scene", type=int, default=4, help="alpha stage: regions per scene in a batch")
    p.add_argument("--steps", type=int, default=100000, help="upper bound; --minutes usually ends it")
    p.add_argument("--minutes", type=float, default=4.0, help="cosine schedule runs over this wall time")
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--lr-alpha", type=float, default=1e-3)
    p.add_argument("--wd", type=float, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--save-every", type=float, default=60.0, help="seconds between checkpoints")
    args = p.parse_args(argv)
    if args.lr is None:
        args.lr = 5e-4 if args.stage == "clip" else 2e-4
    if args.wd is None:
        args.wd = 0.1 if args.stage == "clip" else 0.02
    if args.stage == "alpha" and not args.init:
        p.error("--stage alpha needs --init")
    train(args)


if __name__ == "__main__":
    main()
