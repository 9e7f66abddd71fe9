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
_COMBINING = re.compile("[\u0300-\u036f]+")


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


# PostgreSQL's ICU collation for Vietnamese: names sort as the alphabet has them (a ă â b c d đ e
# ê …: "Cầu Giấy" before "Chương Mỹ", Đ after D), in the database, so pages and API agree.
VIETNAMESE_COLLATION = "vi-x-icu"


def vietnamese(field, descending=False):
    """An ORM ordering of ``field`` in Vietnamese alphabetical order: ``.order_by(vietnamese("name"))``."""
    from django.db.models.functions import Collate

    ordering = Collate(field, VIETNAMESE_COLLATION)
    return ordering.desc() if descending else ordering.asc()


def fold(text: str) -> str:
    """Accent-free, case-free key for search ("Yên Hoà" -> "yen hoa", "Đống Đa" -> "dong da")."""
    if not text:
        return ""
    if text.isascii():  # most codes and many names: nothing to decompose
        return _SPACES.sub(" ", text.lower()).strip()
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    # Vietnamese marks (tones, circumflex, breve, horn) are all in the combining block: a
    # regular expression drops them; other nonspacing marks are looked up one by one.
    stripped = _COMBINING.sub("", decomposed)
    if not stripped.isascii():
        stripped = "".join(ch for ch in stripped if unicodedata.category(ch) != "Mn")
    return _SPACES.sub(" ", stripped).strip()


# --- Codes and identifiers -------------------------------------------------------------------------
# C0 and C1 control characters (NUL, ESC, DEL, NEL …) and the invisible marks that reorder or hide
# text (bidi embeddings, overrides and isolates, LRM/RLM, zero-width characters, BOM): in a code or
# an identifier they make two different values look the same ("SITE\u202e10" reads "SITE01"), so
# a look-up or a review sees something other than what is stored.
_HIDDEN_IN_IDENTIFIERS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def hidden_characters(text: str) -> list[str]:
    """The control and bidi characters of ``text`` that no code or identifier may hold, as U+XXXX."""
    if not isinstance(text, str):
        return []
    return sorted({f"U+{ord(ch):04X}" for ch in _HIDDEN_IN_IDENTIFIERS.findall(text)})


def validate_identifier(value):
    """Model-field validator of codes and identifiers (station code, source, external id …):
    refuses control characters and bidi overrides with a message that names them."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext

    found = hidden_characters(value)
    if found:
        raise ValidationError(
            gettext(
                "Remove the control or text-direction characters (%(chars)s): a code must read as "
                "it is stored."
            )
            % {"chars": ", ".join(found)},
            code="hidden_characters",
        )
