"""Reading senders and recipients as people type them, and the 5656 short-message syntax.

- Phone numbers go through the phonenumbers library to E.164, read as Vietnamese unless they carry
  an international prefix: "0912 345 678", "+84912345678", "84-912-345-678" are all +84912345678.
  A number in another country's format without its + prefix is refused with a clear message.
- Short codes (3–6 digits, 1900/1800 service numbers) are kept as digits.
- SMS brandnames: letters, digits, space, dot, hyphen, underscore and &, at most 11 characters,
  upper-cased ("Shopee" → "SHOPEE").
- E-mail addresses: validated, the domain lower-cased (IDNA for accented domains).

Each function returns (normalised, kind) or raises InvalidInput with the field's message; the raw
value is kept beside the normalised one by the caller. The sender's operator is the one the number
range was allocated to (phonenumbers' carrier data), a default an official may correct: numbers move
between networks.
"""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from phonenumbers import carrier

from core.exceptions import InvalidInput
from spam_reports.models import Channel, SenderKind

BRANDNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._&-]{0,10}$")
SHORT_CODE = re.compile(r"^(\d{3,6}|1[89]00\d{4,6})$")
PHONE_CHARS = re.compile(r"^[+(\d][\d\s().\-/]*$")

# Carrier names in phonenumbers' data → our operators' codes.
CARRIERS = {
    "viettel": "VIETTEL",
    "vinaphone": "VNPT",
    "mobifone": "MOBIFONE",
    "vietnamobile": "VIETNAMOBILE",
    "gmobile": "GTEL",
    "itel": "ITEL",
    "reddi": "MOBIFONE",
}

# Which kinds of sender each channel admits.
CHANNEL_SENDERS = {
    Channel.SMS: {SenderKind.PHONE, SenderKind.SHORT_CODE, SenderKind.BRANDNAME},
    Channel.CALL: {SenderKind.PHONE, SenderKind.SHORT_CODE},
    Channel.EMAIL: {SenderKind.EMAIL},
    Channel.OTHER: {
        SenderKind.PHONE,
        SenderKind.SHORT_CODE,
        SenderKind.BRANDNAME,
        SenderKind.EMAIL,
    },
}


def phone(raw, field="sender"):
    """E.164 of a phone number, read as Vietnamese unless it starts with + or 00."""
    text = (raw or "").strip()
    if not text or not PHONE_CHARS.match(text):
        raise InvalidInput({field: [_("“%(value)s” is not a phone number.") % {"value": raw}]})
    digits = re.sub(r"\D", "", text)
    fast = _vietnamese_mobile(digits)
    if fast:
        return fast
    if text.startswith("00"):
        text, digits = "+" + digits[2:], digits[2:]
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        number = None
    # "84-912-345-678": the country code written without its +.
    if (
        (number is None or not phonenumbers.is_valid_number(number))
        and digits.startswith("84")
        and not text.startswith("+")
    ):
        try:
            number = phonenumbers.parse("+" + digits, None)
        except phonenumbers.NumberParseException:
            number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput(
            {
                field: [
                    _(
                        "“%(value)s” is not a valid Vietnamese phone number. Write a foreign number "
                        "with + and its country code."
                    )
                    % {"value": raw}
                ]
            }
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_MOBILE_PREFIXES = {}


def _vietnamese_mobile(digits):
    """E.164 of a Vietnamese mobile number (0xx xxx xxxx or 84xx xxx xxxx), or None to take the
    full path. A mobile number's validity depends on its first three digits only: the library is
    asked once per prefix (imports read ~100,000 numbers; this keeps them fast)."""
    if len(digits) == 10 and digits[0] == "0":
        national = digits[1:]
    elif len(digits) == 11 and digits.startswith("84"):
        national = digits[2:]
    else:
        return None
    if national[0] not in "35789":
        return None
    key = national[:3]
    valid = _MOBILE_PREFIXES.get(key)
    if valid is None:
        valid = phonenumbers.is_valid_number(phonenumbers.parse("+84" + national, None))
        _MOBILE_PREFIXES[key] = valid
    return "+84" + national if valid else None


def email(raw, field="sender"):
    text = (raw or "").strip()
    local, _sep, domain = text.rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        domain = ""
    value = f"{local}@{domain}"
    try:
        validate_email(value)
    except ValidationError:
        raise InvalidInput(
            {field: [_("“%(value)s” is not an e-mail address.") % {"value": raw}]}
        ) from None
    return value


def brandname(raw, field="sender"):
    text = re.sub(r"\s+", " ", (raw or "").strip())
    if not BRANDNAME.match(text):
        raise InvalidInput(
            {
                field: [
                    _(
                        "“%(value)s” is not a valid brandname: at most 11 letters without accents, "
                        "digits, spaces and . _ - &."
                    )
                    % {"value": raw}
                ]
            }
        )
    return text.upper()


def sender(raw, channel, field="sender"):
    """(normalised, kind) of the sender as reported on ``channel``."""
    text = (raw or "").strip()
    if not text:
        raise InvalidInput({field: [_("Give the sender.")]})
    if "@" in text:
        value, kind = email(text, field), SenderKind.EMAIL
    elif SHORT_CODE.match(re.sub(r"[\s.\-]", "", text)):
        value, kind = re.sub(r"\D", "", text), SenderKind.SHORT_CODE
    elif PHONE_CHARS.match(text) and sum(c.isdigit() for c in text) >= 7:
        value, kind = phone(text, field), SenderKind.PHONE
    else:
        value, kind = brandname(text, field), SenderKind.BRANDNAME
    allowed = CHANNEL_SENDERS.get(channel, set())
    if kind not in allowed:
        raise InvalidInput(
            {
                field: [
                    _("A %(kind)s cannot be the sender on the channel %(channel)s.")
                    % {"kind": SenderKind(kind).label, "channel": Channel(channel).label}
                ]
            }
        )
    return value, kind


def recipient(raw, channel, field="recipient"):
    """The recipient's phone number (e-mail address on the e-mail channel); may be empty."""
    text = (raw or "").strip()
    if not text:
        return ""
    if channel == Channel.EMAIL or "@" in text:
        return email(text, field)
    return phone(text, field)


def operator_code(number):
    """The code of the operator the number's range belongs to (None if unknown or foreign)."""
    if not number or not number.startswith("+84"):
        return None
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    name = carrier.name_for_number(parsed, "en").lower()
    for key, code in CARRIERS.items():
        if key in name:
            return code
    return None


def parse_5656(text):
    """(channel, sender, content) of a message sent to 5656: "S <sender> <content>" reports a spam
    SMS, "V <sender> <content>" a spam call. Raises InvalidInput({"message": …})."""
    parts = (text or "").strip().split(None, 2)
    if len(parts) < 2 or parts[0].upper() not in ("S", "V"):
        raise InvalidInput(
            {
                "message": [
                    _(
                        "The message does not follow the 5656 syntax: "
                        "“S <sender> <content>” or “V <sender> <content>”."
                    )
                ]
            }
        )
    channel = Channel.SMS if parts[0].upper() == "S" else Channel.CALL
    return channel, parts[1], parts[2] if len(parts) > 2 else ""
