"""The public-site catalogue takes files too (core.rowimport): each row through the catalogue's
own service, the same column matching, modes and error report as every import."""

import io
import json

import pytest
from django.core.management import call_command
from django.utils import translation

from stations.models import PublicSite

pytestmark = pytest.mark.django_db

ROWS = [
    ["Mã địa điểm", "Tên địa điểm", "Đơn vị quản lý", "Kinh độ", "Vĩ độ", "Loại đất", "Số trạm tối đa", "Địa chỉ", "Ghi chú"],
    ["CG-01", "Trụ sở UBND phường Cầu Giấy", "UBND_HN", "105.8345", "21.036", "Public building", "2", "Số 1 Phố Thử", "x"],
    ["CG-02", "Vườn hoa Nghĩa Đô", "UBND_HN", "105.8000", "21.045", "public_place", "", "Đường Hoàng Quốc Việt", ""],
    ["CG-03", "Sai chỗ", "UBND_HN", "2.35", "48.85", "public_land", "1", "Paris", ""],
]  # fmt: skip


def run(tmp_path, rows, *extra):
    path = tmp_path / "sites.csv"
    path.write_text("\n".join(",".join(r) for r in rows), encoding="utf-8-sig")
    out, code = io.StringIO(), 0
    with translation.override("en"):
        try:
            call_command("import_file", "sites", str(path), "--as", "lan.so", *extra, stdout=out)
        except SystemExit as exc:
            code = exc.code
    return json.loads(out.getvalue()), code


@pytest.fixture
def lan(make_user, needs_shared_data):
    return make_user("city_official", "SO_KHCN_HN", username="lan.so")


def test_sites_import_through_the_catalogue_service_all_or_nothing(lan, tmp_path):
    result, code = run(tmp_path, ROWS)
    assert code == 2 and [(e["row"], e["column"]) for e in result["errors"]] == [(4, "lon")], result
    assert not PublicSite.objects.exists()
    result, code = run(tmp_path, ROWS, "--mode", "partial")
    assert (code, result["stored"], result["refused"]) == (0, 2, 1), result
    assert any("Ghi chú" in n for n in result["notices"])
    site = PublicSite.objects.get(external_id="CG-01")
    assert (site.owner.code, site.land_category, site.capacity) == ("UBND_HN", "public_building", 2)
    assert site.commune.code  # found from the point, as the service does
    # Again: the same external ids update, nothing is duplicated.
    result, code = run(tmp_path, ROWS[:3])
    assert (code, result["stored"]) == (0, 2) and PublicSite.objects.count() == 2


def test_a_dry_run_stores_no_site(lan, tmp_path):
    result, code = run(tmp_path, ROWS[:3], "--dry-run")
    assert (code, result["refused"], result["stored"]) == (0, 0, 0), result
    assert not PublicSite.objects.exists()


def test_only_officials_import_the_catalogue(make_user, tmp_path, needs_shared_data):
    from django.core.management import CommandError

    make_user("operator_staff", "VIETTEL", username="lan.so")
    with pytest.raises(CommandError):
        run(tmp_path, ROWS)
    assert not PublicSite.objects.exists()
