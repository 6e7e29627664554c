"""Whole-word tokenizer for shapes-tiny (docs/model-pack.md, "The shapes-tiny tokenizer").

Every word the generator can emit is one token; tokenizer.json is a Hugging
Face WordPiece model over whole words, so a maintained library reproduces
`tokenize` exactly.
"""
import json
import re

from .vocab import COLOR_NAMES, GENERIC_WORDS, GRAMMAR_WORDS, PATTERNS, PLURALS, SHAPES, SIZES

PAD, UNK, BOS, EOS = "<|pad|>", "<|unk|>", "<|startoftext|>", "<|endoftext|>"
PAD_ID, UNK_ID, BOS_ID = 0, 1, 2
CONTEXT_LENGTH = 77
_WORD_RE = re.compile(r"\w+|[^\w\s]+")


def build_vocab() -> list:
    """Specials first, words in a fixed order, <|endoftext|> last (largest id:
    CLIP pools at argmax(input_ids))."""
    words = [*SHAPES, *PLURALS.values(), *COLOR_NAMES, *SIZES, *PATTERNS,
             *GRAMMAR_WORDS, *GENERIC_WORDS]
    return [PAD, UNK, BOS, *dict.fromkeys(words), EOS]


_VOCAB = build_vocab()
_IDS = {w: i for i, w in enumerate(_VOCAB)}
EOS_ID = len(_VOCAB) - 1


def tokenize(text: str, context_length: int = CONTEXT_LENGTH) -> list:
    """lowercase -> split -> ids, wrapped [bos, ..., eos], eos kept last when
    truncating, right-padded with pad to context_length."""
    ids = [_IDS.get(w, UNK_ID) for w in _WORD_RE.findall(text.lower())]
    ids = [BOS_ID, *ids[:context_length - 2], EOS_ID]
    return ids + [PAD_ID] * (context_length - len(ids))


def _special(token: str) -> dict:
    return {"SpecialToken": {"id": token, "type_id": 0}}


def tokenizer_json() -> dict:
    specials = [{"id": _IDS[t], "content": t, "single_word": False, "lstrip": False,
                 "rstrip": False, "normalized": False, "special": True}
                for t in (PAD, UNK, BOS, EOS)]
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": specials,
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [_special(BOS), {"Sequence": {"id": "A", "type_id": 0}}, _special(EOS)],
            "pair": [_special(BOS), {"Sequence": {"id": "A", "type_id": 0}}, _special(EOS),
                     {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": EOS, "type_id": 1}}],
            "special_tokens": {t: {"id": t, "ids": [_IDS[t]], "tokens": [t]} for t in (BOS, EOS)},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": UNK, "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": dict(_IDS)},
    }


def write_tokenizer_json(path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(), f, indent=1, ensure_ascii=False)
        f.write("\n")
