"""Seed ranges per split, so train / validation / test never share a scene."""

SPLIT_RANGES = {"test": (0, 10_000), "validation": (10_000, 20_000), "train": (100_000, None)}


def split_seeds(split: str, count: int) -> list:
    if split not in SPLIT_RANGES:
        raise ValueError(f"unknown split {split!r}; expected one of {sorted(SPLIT_RANGES)}")
    start, stop = SPLIT_RANGES[split]
    if count < 0 or (stop is not None and count > stop - start):
        raise ValueError(f"split {split!r} has {stop - start if stop else 'unbounded'} seeds, asked {count}")
    return list(range(start, start + count))
