"""Referring expressions that need context, emitted only when unambiguous.

All geometry uses visible-mask centroids (SceneObject.center). A relation holds
only with a clear margin, and every other candidate must clearly fail it.

``eligible`` (robust scenes, see robust.py): per object, whether it may be named by an
expression. Ineligible objects still count as candidates and as pair members (they are in
the picture), but are never targets, spatial anchors, or members of a compared pair.
``full_areas``: unoccluded footprint areas; a comparative then needs the size ratio both
in full footprints (the objects' real sizes) and in visible areas (what the photo shows).
Without them (the split's own scenes) every object is eligible and areas are visible ones.
"""
from collections import defaultdict

from .vocab import PLURALS, RELATIONS

MAX_SPATIAL = 3
COMPARATIVE_RATIO = 1.6


def margin(scene) -> float:
    """Minimum centroid offset that counts as a clear spatial relation."""
    return max(12.0, 0.08 * min(scene.width, scene.height))


def offsets(target, anchor, relation: str) -> tuple:
    """(main, cross) offset of target from anchor; main > 0 means 'in that direction'."""
    dx = target.center[0] - anchor.center[0]
    dy = target.center[1] - anchor.center[1]
    main, cross = {"left": (-dx, dy), "right": (dx, dy), "above": (-dy, dx), "below": (dy, dx)}[relation]
    return main, abs(cross)


def relation_holds(target, anchor, relation: str, m: float) -> bool:
    """Clearly in that direction: past the margin and not mostly sideways."""
    main, cross = offsets(target, anchor, relation)
    return main >= m and main >= 0.5 * cross


def relation_clearly_fails(target, anchor, relation: str) -> bool:
    return offsets(target, anchor, relation)[0] <= 0


def _groups(objects, key) -> dict:
    g = defaultdict(list)
    for i, o in enumerate(objects):
        g[key(o)].append(i)
    return g


def _spatial_candidates(scene, eligible=None) -> list:
    objs, m = scene.objects, margin(scene)
    ok = eligible if eligible is not None else [True] * len(objs)
    by_shape = _groups(objs, lambda o: o.shape)
    by_cs = _groups(objs, lambda o: (o.color, o.shape))
    out = []
    for a, anchor in enumerate(objs):
        if len(by_cs[(anchor.color, anchor.shape)]) != 1 or not ok[a]:
            continue  # the anchor itself must be unambiguous (and clearly visible)
        for shape, members in by_shape.items():
            cands = [i for i in members if i != a]
            for rel, words in RELATIONS.items():
                hits = [i for i in cands if relation_holds(objs[i], anchor, rel, m)]
                if len(hits) != 1 or not ok[hits[0]] or not all(
                        relation_clearly_fails(objs[i], anchor, rel) for i in cands if i != hits[0]):
                    continue
                text = f"the {shape} {words} the {anchor.color} {anchor.shape}"
                out.append((len(members) >= 2, text, hits[0]))
    return out


def _spatial(scene, rng, eligible=None) -> list:
    cands = _spatial_candidates(scene, eligible)
    # Prefer targets whose shape alone is ambiguous: there, context is really needed.
    ambiguous = [c for c in cands if c[0]]
    pool, k = (ambiguous, MAX_SPATIAL) if ambiguous else (cands, 1)
    picks = rng.permutation(len(pool))[:k] if pool else []
    return [(pool[i][1], pool[i][2], "spatial") for i in sorted(picks)]


def _pairs(scene) -> list:
    """(color, shape, i, j) for every colour+shape that occurs exactly twice."""
    groups = _groups(scene.objects, lambda o: (o.color, o.shape))
    return [(c, s, *ids) for (c, s), ids in groups.items() if len(ids) == 2]


def _both_eligible(eligible, i, j) -> bool:
    return eligible is None or (eligible[i] and eligible[j])


def _comparative(scene, eligible=None, full_areas=None) -> list:
    out = []
    for color, shape, i, j in _pairs(scene):
        if not _both_eligible(eligible, i, j):
            continue
        big, small = (i, j) if scene.objects[i].area >= scene.objects[j].area else (j, i)
        if full_areas is not None and full_areas[big] < COMPARATIVE_RATIO * full_areas[small]:
            continue  # larger in the photo but not clearly larger in reality (or the reverse)
        if scene.objects[big].area >= COMPARATIVE_RATIO * scene.objects[small].area:
            out.append((f"the larger of the two {color} {PLURALS[shape]}", big, "comparative"))
            out.append((f"the smaller of the two {color} {PLURALS[shape]}", small, "comparative"))
    return out


def _distractor(scene, eligible=None) -> list:
    out, m = [], margin(scene)
    for color, shape, i, j in _pairs(scene):
        if not _both_eligible(eligible, i, j):
            continue
        (xi, yi), (xj, yj) = scene.objects[i].center, scene.objects[j].center
        if abs(xi - xj) >= m:
            left, right = (i, j) if xi < xj else (j, i)
            out.append((f"the {color} {shape} on the left", left, "distractor"))
            out.append((f"the {color} {shape} on the right", right, "distractor"))
        if abs(yi - yj) >= m:
            top, bottom = (i, j) if yi < yj else (j, i)
            out.append((f"the top {color} {shape}", top, "distractor"))
            out.append((f"the bottom {color} {shape}", bottom, "distractor"))
    return out


def make_expressions(scene, rng, eligible=None, full_areas=None) -> list:
    """Spatial, comparative and distractor expressions of ``scene`` (see the module's docstring)."""
    from .scene import Expression
    items = _spatial(scene, rng, eligible) + _comparative(scene, eligible, full_areas) + _distractor(scene, eligible)
    return [Expression(text=t, target=int(i), kind=k) for t, i, k in items]
