"""Test oracle: OpenAI CLIP's SimpleTokenizer algorithm, written out for the tests only.

The same steps as CLIP's ``simple_tokenizer.py`` (byte → unicode table, ranked BPE merges with the
``</w>`` suffix, the pre-tokenisation regex), with two stated differences that the exported
``tokenizer.json`` shares: NFC stands in for ftfy, and HTML entities are not unescaped. Python's
``re`` has no ``\\p{L}``, so the regex is a scanner over Unicode categories.
"""
import gzip
import unicodedata

SPECIALS = ("<|startoftext|>", "<|endoftext|>")
CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")


def _byte_table():
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def _kind(ch):
    cat = unicodedata.category(ch)
    return "L" if cat[0] == "L" else "N" if cat[0] == "N" else "S" if ch.isspace() else "O"


def pre_tokenize(text):
    """``<|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+``"""
    out, i = [], 0
    while i < len(text):
        lit = next((s for s in SPECIALS + CONTRACTIONS if text.startswith(s, i)), None)
        k = _kind(text[i])
        if lit:
            j = i + len(lit)
        elif k == "N":
            j = i + 1
        elif k == "S":
            i += 1
            continue
        else:
            j = i + 1
            while j < len(text) and _kind(text[j]) == k:
                j += 1
        out.append(text[i:j])
        i = j
    return out


class ClipTokenizer:
    def __init__(self, bpe_path):
        with gzip.open(bpe_path, "rt", encoding="utf-8") as f:
            merges = [tuple(m.split()) for m in f.read().split("\n")[1:49152 - 256 - 2 + 1]]
        self.byte_encoder = _byte_table()
        vocab = list(self.byte_encoder.values())
        vocab += [v + "</w>" for v in vocab] + ["".join(m) for m in merges] + list(SPECIALS)
        self.merges = merges
        self.encoder = {v: i for i, v in enumerate(vocab)}
        self.ranks = {m: i for i, m in enumerate(merges)}

    def bpe(self, token):
        word = list(token[:-1]) + [token[-1] + "</w>"]
        while len(word) > 1:
            pairs = [(self.ranks.get(p, float("inf")), i) for i, p in enumerate(zip(word, word[1:]))]
            rank, _ = min(pairs)
            if rank == float("inf"):
                break
            first, second = self.merges[rank]
            merged, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == first and word[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        return word

    def encode(self, text):
        text = " ".join(unicodedata.normalize("NFC", text).split()).lower()
        ids = []
        for tok in pre_tokenize(text):
            if tok in SPECIALS:
                ids.append(self.encoder[tok])
                continue
            chars = "".join(self.byte_encoder[b] for b in tok.encode("utf-8"))
            ids += [self.encoder[p] for p in self.bpe(chars)]
        return ids

    def tokenize(self, text, context_length=77):
        """CLIP's ``tokenize(..., truncate=True)``: [sot, …, eot] truncated keeping eot, 0-padded."""
        ids = [self.encoder[SPECIALS[0]], *self.encode(text)[: context_length - 2], self.encoder[SPECIALS[1]]]
        return ids + [0] * (context_length - len(ids))
