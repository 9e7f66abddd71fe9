"""Reading senders and recipients as people type them (spam_reports.senders): phone numbers to
E.164, short codes, brandnames, e-mail addresses, the operator of a number range and the 5656
syntax. Pure functions: no database."""

import pytest

from core.exceptions import InvalidInput
from spam_reports import senders


@pytest.mark.parametrize(
    "raw",
    [
        "0912 345 678",
        "0912345678",
        "+84912345678",
        "+84 912 345 678",
        "84-912-345-678",
        "84912345678",
        "00 84 912 345 678",
        "0084912345678",
        "(091) 234-5678",
        "091.234.5678",
        "  0912 345 678  ",
    ],
)
def test_what_people_type_for_one_mobile_number(raw):
    assert senders.sender(raw, "sms") == ("+84912345678", "phone")
    assert senders.sender(raw, "call") == ("+84912345678", "phone")


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("024 3825 1234", "+842438251234"),  # a Hanoi landline
        ("+84 24 3825 1234", "+842438251234"),
        ("0961 234 567", "+84961234567"),
        ("0388 123 456", "+84388123456"),
        ("0703 123 456", "+84703123456"),
        ("0586 123 456", "+84586123456"),
        ("+447911123456", "+447911123456"),  # a foreign number with its + is kept
        ("+1 202 555 0143", "+12025550143"),
        ("008613800138000", "+8613800138000"),
    ],
)
def test_other_numbers_to_e164(raw, expected):
    assert senders.sender(raw, "call") == (expected, "phone")


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("8088", "8088"),
        ("9029", "9029"),
        ("1900 1234", "19001234"),
        ("1800-1091", "18001091"),
        ("1900.6600", "19006600"),
        ("191", "191"),
    ],
)
def test_short_codes_are_kept_as_digits(raw, expected):
    assert senders.sender(raw, "sms") == (expected, "short_code")
    assert senders.sender(raw, "call") == (expected, "short_code")


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Shopee", "SHOPEE"),
        ("FE CREDIT", "FE CREDIT"),
        ("fe   credit", "FE CREDIT"),
        ("Home.Credit", "HOME.CREDIT"),
        ("VAY_NHANH", "VAY_NHANH"),
        ("H&M", "H&M"),
        ("DIEN-MAY-XL", "DIEN-MAY-XL"),  # 11 characters: the longest allowed
    ],
)
def test_brandnames_are_upper_cased(raw, expected):
    assert senders.sender(raw, "sms") == (expected, "brandname")


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("KhuyenMai@Example.COM", "KhuyenMai@example.com"),  # the local part is kept as given
        ("  ads@shop.vn ", "ads@shop.vn"),
        ("spam@Ví-Dụ.VN", "spam@xn--v-d-rma6749a.vn"),  # an accented domain in its IDNA form
        ("info@bất-động-sản.vn", "info@xn--bt-ng-sn-ncb8186eoa14d.vn"),
    ],
)
def test_email_addresses(raw, expected):
    assert senders.sender(raw, "email") == (expected, "email")
    assert senders.recipient(raw, "email") == expected


@pytest.mark.parametrize(
    "raw, channel",
    [
        ("07700 900123", "sms"),  # a British number without its +: not Vietnamese
        ("07911 123456", "call"),
        ("+447700900123", "sms"),  # Ofcom's drama range: not a valid number
        ("12345678901234", "sms"),
        ("0241234", "call"),
        ("+84 12", "sms"),
        ("", "sms"),
        ("   ", "call"),
        ("ĐẠI LÝ VAY", "sms"),  # accents are not allowed in a brandname
        ("SHOPEEVIETNAM", "sms"),  # 13 characters
        ("<script>", "sms"),
        ("VAY!!", "sms"),
        ("1+1", "sms"),
        ("Shopee", "call"),  # a call cannot come from a brandname
        ("KhuyenMai@Example.com", "sms"),  # nor an SMS from an e-mail address
        ("0912345678", "email"),
        ("ads@", "email"),
        ("@shop.vn", "email"),
        ("a b@shop.vn", "email"),
        ("HOANG@#", "sms"),
    ],
)
def test_bad_senders_are_refused_with_a_message(raw, channel):
    with pytest.raises(InvalidInput) as exc:
        senders.sender(raw, channel)
    assert list(exc.value.errors) == ["sender"]
    assert exc.value.errors["sender"][0]


def test_a_foreign_number_without_plus_says_how_to_write_it():
    with pytest.raises(InvalidInput) as exc:
        senders.sender("07700 900123", "sms")
    assert "+" in exc.value.errors["sender"][0]


@pytest.mark.parametrize(
    "raw, channel, expected",
    [
        ("", "sms", ""),
        ("0987 654 321", "sms", "+84987654321"),
        ("84-987-654-321", "call", "+84987654321"),
        ("Lan.Pham@Gmail.com", "email", "Lan.Pham@gmail.com"),
        ("lan@gmail.com", "other", "lan@gmail.com"),
    ],
)
def test_recipients(raw, channel, expected):
    assert senders.recipient(raw, channel) == expected


@pytest.mark.parametrize("raw", ["abc", "0912", "lan@", "+84 12"])
def test_bad_recipients_name_the_recipient_field(raw):
    with pytest.raises(InvalidInput) as exc:
        senders.recipient(raw, "sms")
    assert list(exc.value.errors) == ["recipient"]


@pytest.mark.parametrize(
    "number, code",
    [
        ("+84912345678", "VNPT"),  # 091: VinaPhone
        ("+84888123456", "VNPT"),
        ("+84961234567", "VIETTEL"),
        ("+84388123456", "VIETTEL"),
        ("+84901234567", "MOBIFONE"),
        ("+84703123456", "MOBIFONE"),
        ("+84586123456", "VIETNAMOBILE"),
        ("+84991234567", None),
        ("+842438251234", None),  # a landline: no mobile operator
        ("+447911123456", None),
        ("", None),
        (None, None),
        ("SHOPEE", None),
    ],
)
def test_operator_of_a_number_range(number, code):
    assert senders.operator_code(number) == code


@pytest.mark.parametrize(
    "text, expected",
    [
        ("S 0912345678 Vay tien nhanh", ("sms", "0912345678", "Vay tien nhanh")),
        ("s 0912345678 Vay tiền  nhanh", ("sms", "0912345678", "Vay tiền  nhanh")),
        (
            "V 0961234567 Goi moi chao bat dong san",
            ("call", "0961234567", "Goi moi chao bat dong san"),
        ),
        ("  V   0961234567  ", ("call", "0961234567", "")),
        ("S FECREDIT", ("sms", "FECREDIT", "")),
    ],
)
def test_the_5656_syntax(text, expected):
    assert senders.parse_5656(text) == expected


@pytest.mark.parametrize("text", ["", "S", "X 0912345678 abc", "0912345678 S abc", "Spam 0912"])
def test_bad_5656_messages(text):
    with pytest.raises(InvalidInput) as exc:
        senders.parse_5656(text)
    assert list(exc.value.errors) == ["message"]
