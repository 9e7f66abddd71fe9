"""Which column of a file feeds which field of an import: one mapping step for every kind.

A kind declares its template's fields (``Field``: name, label, required, synonyms). A file's
header is resolved against them (``resolve``):

- a column named as a field, or as its label in English or Vietnamese, or as one of its synonyms
  (compared folded: case, accents, spaces, "_" and "-" do not count) feeds that field;
- a ``mapping`` given by the user (saved under a name, sent inline to the API, or a JSON file for
  ``manage.py import_file``) says it outright: ``{"file column": "field"}``, ``"file column": ""``
  to ignore a column, and ``{"=field": "value"}`` to give every row the same value (a constant);
- columns that feed nothing are ignored, and the result says so (a notice), for every kind alike;
- a required field that nothing feeds refuses the file, naming it.

Cells that only say "nothing" (``NA``, ``N/A``, ``-``, ``không có`` …) are read as empty
(``blank``), so an optional field is left empty and a required one is reported as missing, never
stored as the word.
"""

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import override

from core.exceptions import ImportRejected
from core.text import fold

PLACEHOLDERS = frozenset({"na", "n/a", "n.a.", "-", "--", "—", "khong co", "null", "none", "#n/a"})

PLACEHOLDER_LENGTH = max(len(p) for p in PLACEHOLDERS) + 2  # "không có" is 8 characters folded


def blank(value):
    """The cell, or "" when it only says there is nothing (NA, N/A, -, không có …)."""
    text = str(value or "").strip()
    if len(text) > PLACEHOLDER_LENGTH:  # most cells: no fold needed
        return text
    found = _SHORT.get(text)
    if found is None:
        folded = " ".join(text.lower().split()) if text.isascii() else fold(text)
        found = "" if folded in PLACEHOLDERS else text
        if len(_SHORT) < 10_000:  # a file repeats its short cells (types, heights, operators)
            _SHORT[text] = found
    return found


_SHORT = {}


def key(text):
    """A column name compared as people mean it: "Mã trạm", "ma_tram" and "MA-TRAM" are one."""
    return re.sub(r"[\s_\-./]+", " ", fold(str(text or ""))).strip()


@dataclass(frozen=True)
class Field:
    name: str
    label: object = ""  # gettext_lazy: matched in English and in Vietnamese
    required: bool = False
    synonyms: tuple = ()

    def also(self):
        """What else the column may be called, as a page lists it: the label in the current
        language and the synonyms, each once."""
        seen, out = {key(self.name)}, []
        for name in (str(self.label) if self.label else "", *self.synonyms):
            if name and key(name) not in seen:
                seen.add(key(name))
                out.append(name)
        return out

    def names(self):
        names = {key(self.name), *(key(s) for s in self.synonyms)}
        if self.label:
            for language in ("en", "vi"):
                with override(language):
                    names.add(key(str(self.label)))
        return names - {""}


@dataclass
class Resolution:
    columns: dict  # file column (as written) -> field name
    constants: dict = field(default_factory=dict)  # field name -> the value every row gets
    ignored: list = field(default_factory=list)  # file columns that feed nothing

    def missing(self, fields):
        fed = set(self.columns.values()) | set(self.constants)
        return [f.name for f in fields if f.required and f.name not in fed]

    def notices(self):
        if not self.ignored:
            return []
        return [
            _("Columns ignored (no field of the template): %(columns)s")
            % {"columns": ", ".join(self.ignored)}
        ]

    def reader(self, header, only=None):
        """A reading of the file's rows as cells in ``header``'s order (core.tabular.Table) into
        the kind's fields, as ``row`` reads them (of a column written twice, the last cell);
        ``only``: those fields alone."""
        from core.tabular import cell_text

        at = {h: i for i, h in enumerate(header) if h}
        picks = [
            (at[column], name)
            for column, name in self.columns.items()
            if column in at and (only is None or name in only)
        ]
        constants = {k: v for k, v in self.constants.items() if only is None or k in only}

        def text(value):  # cell_text, without its calls for the common plain text
            if value.__class__ is str:
                value = value.strip() if value.isascii() else cell_text(value)
                return value if len(value) > PLACEHOLDER_LENGTH else blank(value)
            return blank(cell_text(value))

        def read(cells):
            width = len(cells)
            out = {name: text(cells[i]) if i < width else "" for i, name in picks}
            out.update(constants)
            return out

        return read

    def row(self, values):
        """A row of the file ({file column: text}) as the kind's fields ({field: text})."""
        out = {name: blank(values.get(column, "")) for column, name in self.columns.items()}
        out.update(self.constants)
        return out


def check_mapping(mapping):
    """Refuse (InvalidInput on ``mapping``) a mapping that is not ``{"file column": "field"}`` text
    or holds characters no stored text may (NUL and other controls, lone surrogates): the
    database would refuse it later, with a 500."""
    from core.exceptions import InvalidInput

    try:
        columns, constants = parse_mapping(mapping)
    except ImportRejected as exc:
        raise InvalidInput({"mapping": [str(exc.message)]}) from exc
    texts = [*columns, *columns.values(), *constants, *constants.values()]
    bad = [
        t
        for t in texts
        if not isinstance(t, str) or "\x00" in t or any("\ud800" <= ch <= "\udfff" for ch in t)
    ]
    if bad:
        raise InvalidInput(
            {
                "mapping": [
                    _("The mapping holds a value that is not plain text: %(v)r") % {"v": bad[0]}
                ]
            }
        )


def parse_mapping(mapping):
    """(columns, constants) from a mapping: ``{"file column": "field", "=field": "value"}`` or
    ``{"columns": {...}, "constants": {...}}`` (as saved)."""
    if not mapping:
        return {}, {}
    if not isinstance(mapping, dict):
        raise ImportRejected(_("The mapping must be an object of file column: field."))
    if "columns" in mapping or "constants" in mapping:
        columns, constants = mapping.get("columns") or {}, mapping.get("constants") or {}
        if not isinstance(columns, dict) or not isinstance(constants, dict):
            raise ImportRejected(_("The mapping must be an object of file column: field."))
        return dict(columns), dict(constants)
    columns = {k: v for k, v in mapping.items() if not str(k).startswith("=")}
    constants = {str(k)[1:]: v for k, v in mapping.items() if str(k).startswith("=")}
    return columns, constants


def resolve(header, fields, mapping=None):
    """Resolve a file's header (its cells as written) against the kind's fields."""
    names = {f.name for f in fields}
    chosen, constants = parse_mapping(mapping)
    unknown = sorted(
        {str(v) for v in chosen.values() if v and v not in names}
        | {k for k in constants if k not in names}
    )
    if unknown:
        raise ImportRejected(
            _("The mapping names fields the import does not have: %(fields)s")
            % {"fields": ", ".join(unknown)}
        )
    by_key = {}
    for f in fields:
        for k in f.names():
            by_key.setdefault(k, f.name)
    chosen_keys = {key(k): v for k, v in chosen.items()}
    columns, ignored, taken = {}, [], set(constants)
    for column in header:
        if not str(column or "").strip():
            continue
        k = key(column)
        target = chosen_keys[k] if k in chosen_keys else by_key.get(k)
        if not target or target in taken:
            ignored.append(str(column))
            continue
        columns[column] = target
        taken.add(target)
    return Resolution(columns=columns, constants=dict(constants), ignored=ignored)


def header_test(fields, mapping=None):
    """Whether a row of the file is its header: every required field is fed by one of its cells."""

    def test(cells):
        return not resolve([c for c in cells if c], fields, mapping).missing(fields)

    return test


def require(resolution, fields):
    """Refuse the file when a required field is fed by no column and no constant."""
    missing = resolution.missing(fields)
    if missing:
        raise ImportRejected(_("Missing columns: %(cols)s") % {"cols": ", ".join(missing)})


class Choices:
    """A choice as people type it: the code, or its label in English or Vietnamese, in any case,
    NFD or without accents ("Cột đơn thân", "cot don than", "MONOPOLE", "monopole" are one)."""

    def __init__(self, choices, extra=None):
        self.by_key, self.seen = {}, {}
        for value, label in choices:
            names = {key(value), key(str(value).replace("_", " "))}
            for language in ("en", "vi"):
                with override(language):
                    names.add(key(str(label)))
            for name in names - {""}:
                self.by_key.setdefault(name, value)
        for name, value in (extra or {}).items():
            self.by_key.setdefault(key(name), value)

    def find(self, text):
        """The choice's code, or the text unchanged when it names none (the field refuses it)."""
        text = str(text or "").strip()
        if not text:
            return text
        found = self.seen.get(text)
        if found is None:  # a file repeats the same few values: each is folded once
            found = self.seen[text] = self.by_key.get(key(text), text)
        return found


def unknown_unit(code):
    """The message for a unit code that is none of Hanoi's (every import says it alike)."""
    return _("Unknown unit code %(code)s: not one of Hanoi's units.") % {"code": code}
