"""Reading text files the way people send them: the encoding found, never guessed from one byte.

``detect_encoding(handle)`` reads a binary file once, in blocks (memory stays flat), and answers the
codec to read it with, or refuses it (``ImportRejected``) saying why:

- a byte-order mark decides: UTF-8 (``utf-8-sig``), UTF-16 LE or BE; the whole file must then decode
  in it, or the first bad sequence is named (line and byte);
- without one, UTF-16 is recognised by its zero bytes (ASCII text in UTF-16 has a zero in every
  other byte), LE or BE by which half holds them;
- otherwise a zero byte refuses it (8-bit text never holds one), and the file must be UTF-8
  throughout. A file with valid UTF-8 letters and one stray byte
  is refused with the line and byte of that byte: it is never decoded whole as something else;
- a file with no UTF-8 letters at all and bytes that are not UTF-8 is a single-byte file (Excel's
  "CSV" on a Vietnamese or Western Windows). It is read as Windows-1258 when that reading gives
  Vietnamese letters Windows-1252 cannot hold (ă, đ, ơ, ư, the tone-marked vowels) with every tone
  mark on a vowel, and as Windows-1252 when it decodes in that alone or gives no Vietnamese letter
  in Windows-1258. Anything else is refused as unreadable.

``open_text(handle)`` wraps the handle in a text reader of that codec with universal line endings
(CR, LF, CRLF), ``sniff_dialect(sample)`` picks the delimiter among comma, semicolon and tab, and
``clean_cell(text)`` gives a cell's text in NFC without surrounding blanks.
"""

import codecs
import csv
import io
import unicodedata

from django.utils.translation import gettext as _

from core.exceptions import ImportRejected

BLOCK = 1 << 20
SINGLE_BYTE = ("cp1258", "cp1252")
VIETNAMESE_VOWELS = set("aăâeêioôơuưyAĂÂEÊIOÔƠUƯY")


def _vietnamese_letter(char):
    """A letter of the Vietnamese alphabet that Windows-1252 cannot hold."""
    return char in "ăĂđĐơƠưƯ" or "\u1ea0" <= char <= "\u1ef9"


def _position(handle, offset):
    """(line, byte in the line), both from 1, of the byte at ``offset``."""
    handle.seek(0)
    line, start, read = 1, 0, 0
    while read < offset:
        block = handle.read(min(BLOCK, offset - read))
        if not block:
            break
        newlines = block.count(b"\n") or block.count(b"\r")
        if newlines:
            mark = b"\n" if b"\n" in block else b"\r"
            line += newlines
            start = read + block.rindex(mark) + 1
        read += len(block)
    return line, offset - start + 1


def _refuse_at(handle, offset, message, **values):
    line, byte = _position(handle, offset)
    raise ImportRejected(message % {"line": line, "byte": byte, **values})


def _check_decodes(handle, encoding):
    """Decode the whole file strictly in ``encoding``; refuse at the first bad sequence."""
    handle.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    read = 0
    while True:
        block = handle.read(BLOCK)
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(block, final=not block)
        except UnicodeDecodeError as exc:
            _refuse_at(
                handle,
                read - pending + exc.start,
                _(
                    "The file is not valid %(encoding)s text: line %(line)d, byte %(byte)d. "
                    "Save it again as “CSV UTF-8”."
                ),
                encoding="UTF-16" if encoding.startswith("utf-16") else "UTF-8",
            )
        if not block:
            return
        read += len(block)


def _utf16_without_bom(head):
    """'utf-16-le' / 'utf-16-be' when the first bytes look like UTF-16 text, else None."""
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even = sum(1 for i in range(0, pairs * 2, 2) if head[i] == 0)
    odd = sum(1 for i in range(1, pairs * 2, 2) if head[i] == 0)
    if odd >= pairs * 0.3 and even == 0:
        return "utf-16-le"
    if even >= pairs * 0.3 and odd == 0:
        return "utf-16-be"
    return None


def _first_nul(handle):
    """The offset of the file's first zero byte (never in 8-bit text), or None."""
    handle.seek(0)
    read = 0
    while block := handle.read(BLOCK):
        at = block.find(b"\x00")
        if at >= 0:
            return read + at
        read += len(block)
    return None


def _first_bad_utf8(handle):
    """The offset of the file's first byte that is not UTF-8, or None."""
    handle.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    read = 0
    while True:
        block = handle.read(BLOCK)
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(block, final=not block)
        except UnicodeDecodeError as exc:
            return read - pending + exc.start
        if not block:
            return None
        read += len(block)


def _has_utf8_letters(handle):
    """Whether the file holds a valid UTF-8 sequence beyond ASCII anywhere (read past bad bytes)."""
    handle.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while True:
        block = handle.read(BLOCK)
        text = decoder.decode(block, final=not block)
        if any(ord(char) > 0x7F and char != "\ufffd" for char in text):
            return True
        if not block:
            return False


def _single_byte(handle):
    """Windows-1258 or Windows-1252 (see the module's docstring), or None."""
    readings = {}
    for encoding in SINGLE_BYTE:
        handle.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        vietnamese, stray_mark, previous = False, False, ""
        try:
            while block := handle.read(BLOCK):
                # The last character is carried over: a tone mark may begin the next block.
                text = unicodedata.normalize("NFC", previous + decoder.decode(block))
                for i in range(len(previous) and 1, len(text)):
                    char = text[i]
                    if unicodedata.combining(char):
                        base = unicodedata.normalize("NFD", text[i - 1])[0] if i else ""
                        stray_mark = stray_mark or base not in VIETNAMESE_VOWELS
                    elif _vietnamese_letter(char):
                        vietnamese = True
                if text and not unicodedata.combining(text[0]) and _vietnamese_letter(text[0]):
                    vietnamese = True
                previous = text[-1:]
        except UnicodeDecodeError:
            continue
        readings[encoding] = (vietnamese, stray_mark)
    cp1258, cp1252 = readings.get("cp1258"), readings.get("cp1252")
    if cp1258 and cp1258[0] and not cp1258[1]:
        return "cp1258"
    if cp1252 and not (cp1258 and cp1258[0] and not cp1258[1]):
        return "cp1252"
    if cp1258 and not cp1258[1]:
        return "cp1258"
    return None


def detect_encoding(handle):
    """The codec to read the binary file ``handle`` with (see the module's docstring)."""
    handle.seek(0)
    head = handle.read(4096)
    if head.startswith(codecs.BOM_UTF8):
        _check_decodes(handle, "utf-8-sig")
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        _check_decodes(handle, "utf-16")
        return "utf-16"
    utf16 = _utf16_without_bom(head)
    if utf16:
        _check_decodes(handle, utf16)
        return utf16
    nul = _first_nul(handle)
    if nul is not None:
        _refuse_at(
            handle,
            nul,
            _("The file holds a NUL byte at line %(line)d, byte %(byte)d: it is not a text table."),
        )
    bad = _first_bad_utf8(handle)
    if bad is None:
        return "utf-8"
    if _has_utf8_letters(handle):
        _refuse_at(
            handle,
            bad,
            _(
                "The file is UTF-8 text with a byte that is not UTF-8 at line %(line)d, byte "
                "%(byte)d: correct it or save the file again as “CSV UTF-8”."
            ),
        )
    encoding = _single_byte(handle)
    if encoding is None:
        _refuse_at(
            handle,
            bad,
            _(
                "The file is neither UTF-8 text nor an Excel workbook (first unreadable byte: line "
                "%(line)d, byte %(byte)d). Save it as “CSV UTF-8” or as an Excel workbook."
            ),
        )
    return encoding


def open_text(handle):
    """A text reader of the binary file ``handle`` in its encoding, with universal line endings
    (for ``csv.reader``: CR-only, LF and CRLF files alike), from the start."""
    encoding = detect_encoding(handle)
    handle.seek(0)
    return io.TextIOWrapper(handle, encoding=encoding, newline="")


def sniff_dialect(sample):
    """The CSV dialect of ``sample``: its delimiter among comma, semicolon and tab (comma when the
    sample does not say)."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def clean_cell(value):
    """A cell's text as stored: NFC (macOS sends NFD), without surrounding blanks."""
    return unicodedata.normalize("NFC", str(value)).strip()
