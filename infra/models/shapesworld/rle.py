"""COCO compressed RLE, byte-for-byte what pycocotools' maskUtils.encode gives.

Runs are over the mask in column-major (Fortran) order and always start with
a run of zeros (possibly empty). The string form stores each run (from the
fourth on, as the difference to the run two back) in 5-bit groups, low bits
first, each char = group + 48, with 0x20 set while more groups follow; the
sign lives in bit 0x10 of the last group.
"""
import numpy as np


def run_lengths(mask: np.ndarray) -> list:
    """Alternating run lengths of the column-major flattening, zeros first."""
    flat = np.asarray(mask, bool).ravel(order="F")
    if flat.size == 0:
        return []
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(bounds).tolist()
    return [0] + runs if flat[0] else runs


def counts_to_string(counts: list) -> str:
    out = []
    for i, x in enumerate(counts):
        if i > 2:
            x -= counts[i - 2]
        more = True
        while more:
            c = x & 0x1F
            x >>= 5  # arithmetic shift, as for C's signed long
            more = x != -1 if c & 0x10 else x != 0
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    return "".join(out)


def string_to_counts(s: str) -> list:
    counts, p = [], 0
    while p < len(s):
        x, k, more = 0, 0, True
        while more:
            c = ord(s[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def rle_encode(mask: np.ndarray) -> dict:
    """bool [h, w] -> {"size": [h, w], "counts": str}."""
    h, w = mask.shape
    return {"size": [int(h), int(w)], "counts": counts_to_string(run_lengths(mask))}


def rle_decode(rle: dict) -> np.ndarray:
    """{"size", "counts"} (string or list of ints) -> bool [h, w]."""
    h, w = rle["size"]
    counts = rle["counts"]
    if isinstance(counts, (bytes, str)):
        counts = string_to_counts(counts.decode() if isinstance(counts, bytes) else counts)
    if sum(counts) != h * w:
        raise ValueError(f"RLE counts sum to {sum(counts)}, expected {h * w}")
    values = np.arange(len(counts)) % 2 == 1
    flat = np.repeat(values, counts)
    return flat.reshape((w, h)).T.copy()
