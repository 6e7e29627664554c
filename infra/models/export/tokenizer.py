"""CLIP's tokenizer as a Hugging Face ``tokenizer.json``, built from CLIP's BPE merges file.

The file reproduces OpenAI CLIP's ``SimpleTokenizer``: NFC (in place of ftfy's fixes), whitespace
runs → one space, lower-casing, CLIP's pre-tokenisation regex, byte-level BPE with the ``</w>``
end-of-word suffix. The id layout is CLIP's: 256 byte symbols, the same with ``</w>``, 48 894 merges,
then ``<|startoftext|>`` 49406 and ``<|endoftext|>`` 49407 (the largest id: the text tower pools at
argmax). Wrapping, truncation (keeping the end token) and padding with 0 are done by the loader from
the manifest's ``tokenizer`` section, so the file sets neither truncation nor padding.

Known difference: CLIP's ``basic_clean`` also runs ftfy and unescapes HTML entities (``&amp;``);
this file does neither (queries are user text, not HTML; ftfy is not available here).
"""
import gzip
import json

CONTEXT_LENGTH = 77
BOS, EOS = "<|startoftext|>", "<|endoftext|>"
PAD_ID = 0  # OpenAI CLIP pads with 0 ("!"); the text tower never looks past the end token
# 49152 vocabulary entries minus the 256 byte symbols: the merges CLIP uses (file lines 1..48894).
N_MERGES = 49152 - 256 - 2
SPLIT_REGEX = (r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]"
               r"|[^\s\p{L}\p{N}]+")


def bytes_to_unicode() -> dict:
    """GPT-2/CLIP's reversible byte → printable character table (the ByteLevel alphabet)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def read_merges(bpe_path: str) -> list:
    """The merge pairs CLIP uses, in rank order, from ``bpe_simple_vocab_16e6.txt.gz``."""
    with gzip.open(bpe_path, "rt", encoding="utf-8") as f:
        lines = f.read().split("\n")
    merges = [tuple(line.split()) for line in lines[1:N_MERGES + 1]]
    if len(merges) != N_MERGES or any(len(m) != 2 for m in merges):
        raise ValueError(f"{bpe_path}: expected {N_MERGES} merge lines of two symbols (CLIP's BPE file)")
    return merges


def clip_vocab(merges: list) -> list:
    """Token strings in id order, exactly as CLIP's SimpleTokenizer builds its encoder."""
    base = list(bytes_to_unicode().values())
    return [*base, *(b + "</w>" for b in base), *("".join(m) for m in merges), BOS, EOS]


def _special(token: str, type_id: int = 0) -> dict:
    return {"SpecialToken": {"id": token, "type_id": type_id}}


def tokenizer_json(bpe_path: str) -> dict:
    merges = read_merges(bpe_path)
    vocab = {tok: i for i, tok in enumerate(clip_vocab(merges))}
    specials = [{"id": vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                 "normalized": False, "special": True} for t in (BOS, EOS)]
    seq = lambda name, type_id: {"Sequence": {"id": name, "type_id": type_id}}  # noqa: E731
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": specials,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFC"},
            {"type": "Replace", "pattern": {"Regex": r"\s+"}, "content": " "},
            {"type": "Lowercase"}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": SPLIT_REGEX}, "behavior": "Removed", "invert": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [_special(BOS), seq("A", 0), _special(EOS)],
            "pair": [_special(BOS), seq("A", 0), _special(EOS), seq("B", 1), _special(EOS, 1)],
            "special_tokens": {t: {"id": t, "ids": [vocab[t]], "tokens": [t]} for t in (BOS, EOS)},
        },
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "</w>", "fuse_unk": False, "byte_fallback": False,
                  "vocab": vocab, "merges": [" ".join(m) for m in merges]},
    }


def write_tokenizer(bpe_path: str, out_path: str) -> dict:
    """Write ``tokenizer.json``; returns the manifest's ``tokenizer`` section."""
    tj = tokenizer_json(bpe_path)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False)
    vocab = tj["model"]["vocab"]
    return {"file": "tokenizer.json", "contextLength": CONTEXT_LENGTH, "bosId": vocab[BOS],
            "eosId": vocab[EOS], "padId": PAD_ID}
