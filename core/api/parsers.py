"""The API's parsers: hostile input is refused at the door with a 400, never a 500 further in.

JSON (the default parser, REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]) refuses with 400 and a
message that says what is wrong (code ``parse_error``, or for a bad string a field error
``{"records.0.status": [message]}``, code ``invalid``):

- a body over ``SYNC_MAX_BODY_BYTES`` (also when sent without a Content-Length, which the API
  middleware cannot check): 413 ``payload_too_large``;
- nesting deeper than ``API_JSON_MAX_DEPTH`` (a deep body made Python's decoder raise
  RecursionError);
- a lone surrogate (``"\\ud800"``): valid JSON, but no character; PostgreSQL and the UTF-8
  encoder refuse it later, after other records may have been written;
- a NUL character (``"\\u0000"``): PostgreSQL's text cannot hold it;
- NaN and Infinity (not JSON).

Form and multipart bodies are checked for NUL characters in their fields (their decoder already
replaces what is not UTF-8).
"""

import codecs
import re

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.settings import api_settings
from rest_framework.utils import json

DEFAULT_MAX_DEPTH = 32
# Only an escape can put a NUL or a lone surrogate in a parsed string (raw bytes are strict UTF-8
# and raw control characters are not JSON): a body without one needs no walk over its strings.
RISKY_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is too large.")
    default_code = "payload_too_large"


def bad_character_message(text):
    """The refusal for a string holding a NUL or a lone surrogate, or None when it holds none."""
    match = BAD_CHARACTER.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return _("Text may not contain NUL characters (\\u0000).")
    return _(
        "Text may not contain a lone surrogate (such as \\ud800): it is not a character. "
        "Send the text as UTF-8."
    )


def max_depth():
    return getattr(settings, "API_JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH)


def check_value(data, limit, strings):
    """Walk ``data`` (without recursion): ParseError when it nests deeper than ``limit``; with
    ``strings``, a field error ``{"records.1.status": [message]}`` (the path of the value, or of the
    object whose key it is) when a key or a string holds a NUL or a lone surrogate."""
    stack = [(data, 1, ())]
    while stack:
        value, depth, where = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                raise ParseError(too_deep(limit))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if strings and isinstance(key, str):
                    refuse(bad_character_message(key), where)
                if isinstance(item, dict | list) or (strings and isinstance(item, str)):
                    stack.append((item, depth + 1, (*where, str(key))))
        elif isinstance(value, str):
            refuse(bad_character_message(value), where)


def refuse(problem, where):
    if problem:
        raise ValidationError({".".join(where) or api_settings.NON_FIELD_ERRORS_KEY: [problem]})


def too_deep(limit):
    return _("JSON nested more than %(limit)d levels deep is not accepted.") % {"limit": limit}


def read_limited(stream):
    """The body's bytes, refused with 413 beyond SYNC_MAX_BODY_BYTES."""
    limit = settings.SYNC_MAX_BODY_BYTES
    if stream is None:
        return b""
    raw = stream.read(limit + 1)
    if len(raw) > limit:
        raise PayloadTooLarge(
            _("The request body is over %(limit)d bytes, the limit.") % {"limit": limit}
        )
    return raw


class SafeJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parsers.get_encoding(parser_context)
        raw = read_limited(stream)
        try:
            text = codecs.decode(raw, encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(
                _("JSON parse error - the body is not valid %(encoding)s.") % {"encoding": encoding}
            ) from exc
        parse_constant = json.strict_constant if self.strict else None
        try:
            data = json.loads(text, parse_constant=parse_constant)
        except RecursionError as exc:
            raise ParseError(too_deep(max_depth())) from exc
        except ValueError as exc:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from exc
        check_value(data, max_depth(), strings=RISKY_ESCAPE.search(raw) is not None)
        return data


def check_form(data):
    for key, values in data.lists():
        for text in (key, *[v for v in values if isinstance(v, str)]):
            refuse(bad_character_message(text), (key,))
    return data


class SafeFormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return check_form(super().parse(stream, media_type, parser_context))


class SafeMultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        check_form(result.data)
        return result
