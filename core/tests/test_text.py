import pytest

from core.text import fold, name_key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "Phường Yên Hoà",
            "Phường Yên Hòa",
        ),  # accent on a different letter, as the two sources spell it
        ("Thuỷ", "Thủy"),
        ("PHƯỜNG  YÊN HÒA", "phường yên hoà"),
        ("Xã Hoà Lạc", "Xã Hòa Lạc"),
    ],
)
def test_name_key_ignores_case_spacing_and_tone_placement(a, b):
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(("a", "b"), [("Hòa", "Hoa"), ("Hòa", "Hóa"), ("Đông", "Dong")])
def test_name_key_keeps_different_names_apart(a, b):
    assert name_key(a) != name_key(b)


def test_fold_drops_every_accent_and_maps_d():
    assert fold("Phường Đống Đa") == "phuong dong da"
    assert fold("Yên Hoà") == fold("yen hòa") == "yen hoa"
    assert fold("") == ""
