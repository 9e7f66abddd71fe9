import json

import pytest
from django.core.management import CommandError, call_command

from core.models import AdministrativeUnit

pytestmark = pytest.mark.django_db


def test_import_boundaries_command_lists_every_error_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "bad.geojson"
    square = [[[105.80, 21.00], [105.81, 21.00], [105.81, 21.01], [105.80, 21.01], [105.80, 21.00]]]
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": "00004"},
                        "geometry": {"type": "Polygon", "coordinates": square},
                    },
                    {
                        "type": "Feature",
                        "properties": {"code": "79999"},
                        "geometry": {"type": "Polygon", "coordinates": square},
                    },
                ],
            }
        )
    )
    before = AdministrativeUnit.objects.get(code="00004").boundary
    with pytest.raises(CommandError, match="1 error"):
        call_command("import_boundaries", str(path))
    assert "feature 2, code 79999" in capsys.readouterr().err
    assert AdministrativeUnit.objects.get(code="00004").boundary == before


def test_import_boundaries_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError):
        call_command("import_boundaries", str(tmp_path / "nope.geojson"))


def test_import_crosswalk_command_reports_row_numbers(tmp_path, capsys):
    path = tmp_path / "crosswalk.csv"
    path.write_text(
        "new_code,new_name,old_code,old_name,note,old_district,old_province\n"
        "12345,X,90001,Phường A,Nhập toàn bộ,Quận B (001),Thành phố Hà Nội (01)\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError):
        call_command("import_crosswalk", str(path))
    assert "row 2, column new_code" in capsys.readouterr().err


def test_load_demo_data_is_idempotent(capsys):
    from core.models import User

    call_command("load_demo_data")
    count = User.objects.count()
    call_command("load_demo_data")
    assert User.objects.count() == count
    assert "minh" in capsys.readouterr().out
    minh = User.objects.get(username="minh")
    assert minh.has_role("city_official") and minh.organization.code == "SO_KHCN_HN"
