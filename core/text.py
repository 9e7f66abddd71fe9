"""Vietnamese text keys for look-up and search.

Two keys, each computed in one place:
- ``name_key``: case-insensitive and insensitive to *where* the tone mark sits ("Hoà" = "Hòa",
  "Thuỷ" = "Thủy"), but still tells different tones and letters apart ("Hòa" != "Hoa").
- ``fold``: drops every diacritic and maps đ to d, for searching what people type without accents.
"""

import re
import unicodedata

# The five Vietnamese tone marks as combining characters: grave, acute, tilde, hook, dot below.
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
_SEPARATORS = re.compile(r"([\s,.;:()/\-–]+)")
_SPACES = re.compile(r"\s+")


def name_key(text: str) -> str:
    """Key that ignores case, spacing and tone-mark placement."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    parts = []
    for part in _SEPARATORS.split(decomposed):
        tones = "".join(ch for ch in part if ch in _TONES)
        parts.append("".join(ch for ch in part if ch not in _TONES) + tones)
    composed = unicodedata.normalize("NFC", "".join(parts))
    return _SPACES.sub(" ", composed).strip()


def fold(text: str) -> str:
    """Accent-free, case-free key for search ("Yên Hoà" -> "yen hoa", "Đống Đa" -> "dong da")."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return _SPACES.sub(" ", stripped).strip()
