"""Referring expressions that need context, emitted only when unambiguous.

All geometry uses visible-mask centroids (SceneObject.center). A relation holds
only with a clear margin, and every other candidate must clearly fail it.
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


def _spatial_candidates(scene) -> list:
    objs, m = scene.objects, margin(scene)
    by_shape = _groups(objs, lambda o: o.shape)
    by_cs = _groups(objs, lambda o: (o.color, o.shape))
    out = []
    for a, anchor in enumerate(objs):
        if len(by_cs[(anchor.color, anchor.shape)]) != 1:
            continue  # the anchor itself must be unambiguous
        for shape, members in by_shape.items():
            cands = [i for i in members if i != a]
            for rel, words in RELATIONS.items():
                hits = [i for i in cands if relation_holds(objs[i], anchor, rel, m)]
                if len(hits) != 1 or not all(relation_clearly_fails(objs[i], anchor, rel)
                                             for i in cands if i != hits[0]):
                    continue
                text = f"the {shape} {words} the {anchor.color} {anchor.shape}"
                out.append((len(members) >= 2, text, hits[0]))
    return out


def _spatial(scene, rng) -> list:
    cands = _spatial_candidates(scene)
    # Prefer targets whose shape alone is ambiguous: there, context is really needed.
    ambiguous = [c for c in cands if c[0]]
    pool, k = (ambiguous, MAX_SPATIAL) if ambiguous else (cands, 1)
    picks = rng.permutation(len(pool))[:k] if pool else []
    return [(pool[i][1], pool[i][2], "spatial") for i in sorted(picks)]


def _pairs(scene) -> list:
    """(color, shape, i, j) for every colour+shape that occurs exactly twice."""
    groups = _groups(scene.objects, lambda o: (o.color, o.shape))
    return [(c, s, *ids) for (c, s), ids in groups.items() if len(ids) == 2]


def _comparative(scene) -> list:
    out = []
    for color, shape, i, j in _pairs(scene):
        big, small = (i, j) if scene.objects[i].area >= scene.objects[j].area else (j, i)
        if scene.objects[big].area >= COMPARATIVE_RATIO * scene.objects[small].area:
            out.append((f"the larger of the two {color} {PLURALS[shape]}", big, "comparative"))
            out.append((f"the smaller of the two {color} {PLURALS[shape]}", small, "comparative"))
    return out


def _distractor(scene) -> list:
    out, m = [], margin(scene)
    for color, shape, i, j in _pairs(scene):
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


def make_expressions(scene, rng) -> list:
    from .scene import Expression
    items = _spatial(scene, rng) + _comparative(scene) + _distractor(scene)
    return [Expression(text=t, target=int(i), kind=k) for t, i, k in items]
