"""Shapes world: a seeded, deterministic synthetic scene generator (docs/architecture.md)."""
from .scene import Expression, Scene, SceneObject, generate_scene
from .split import split_seeds
from .vocab import COLORS, PATTERNS, SHAPES, SIZES

__all__ = ["generate_scene", "Scene", "SceneObject", "Expression",
           "SHAPES", "COLORS", "SIZES", "PATTERNS", "split_seeds"]
