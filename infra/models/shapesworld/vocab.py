"""The shapes-world vocabulary. These words are part of the product: users type them."""

SHAPES = ("circle", "square", "triangle", "star", "hexagon", "cross", "heart", "diamond")
PLURALS = {s: (s + "es" if s.endswith("ss") else s + "s") for s in SHAPES}

# Base RGB per colour; objects jitter around these. Chosen far apart so the
# names stay unambiguous even after jitter and downscaling.
COLORS = {
    "red": (215, 35, 35),
    "orange": (245, 135, 20),
    "yellow": (240, 215, 30),
    "green": (40, 160, 60),
    "blue": (35, 85, 215),
    "purple": (130, 55, 180),
    "pink": (245, 135, 195),
    "brown": (125, 75, 35),
    "black": (25, 25, 25),
    "white": (245, 245, 245),
    "gray": (128, 128, 128),
}
COLOR_NAMES = tuple(COLORS)

SIZES = ("small", "large")
# Bounding diameter as a fraction of the image's shorter side; a gap between the
# ranges keeps "small" and "large" clearly separated (area ratio >= ~2).
SIZE_RANGES = {"small": (0.09, 0.14), "large": (0.20, 0.30)}

PATTERNS = ("plain", "striped", "dotted")

RELATIONS = {"left": "left of", "right": "right of", "above": "above", "below": "below"}

# Extra words the tokenizer knows, beyond what the generator emits.
GENERIC_WORDS = ("image", "photo", "object", "shape", "thing", "and", "with", "in", "at", "big", "little")
GRAMMAR_WORDS = ("a", "an", "the", "of", "two", "left", "right", "above", "below",
                 "larger", "smaller", "on", "top", "bottom")


def article(next_word: str) -> str:
    """'an' before a vowel sound (only 'orange' in this vocabulary)."""
    return "an" if next_word[:1] in "aeiou" else "a"
