"""The passive-infrastructure register takes files (core.rowimport): each row through
save_asset, so an operator imports only its own assets; points or WKT routes."""

import io
import json

import pytest
from django.core.management import call_command
from django.utils import translation

from sharing.models import InfrastructureAsset

pytestmark = pytest.mark.django_db

ROWS = [
    ["Mã", "Tên", "Loại", "Kinh độ", "Vĩ độ", "Tuyến", "Dung lượng", "Cho dùng chung", "Chủ sở hữu"],
    ["T-01", "Cột Cầu Giấy", "Tower or mast", "105.8345", "21.036", "", "3", "có", ""],
    ["D-01", "Cống Trần Duy Hưng", "duct", "", "",
     "LINESTRING(105.800 21.010, 105.805 21.012)", "8", "", ""],
    ["P-01", "Cột của người khác", "pole", "105.83", "21.02", "", "2", "", "VNPT"],
    ["P-02", "Cột không rõ", "pole", "abc", "21.02", "", "x", "maybe", ""],
]  # fmt: skip


def run(tmp_path, rows, user, *extra):
    path = tmp_path / "assets.csv"
    path.write_text("\n".join(",".join(f'"{c}"' for c in r) for r in rows), encoding="utf-8")
    out, code = io.StringIO(), 0
    with translation.override("en"):
        try:
            call_command("import_file", "assets", str(path), "--as", user, *extra, stdout=out)
        except SystemExit as exc:
            code = exc.code
    return json.loads(out.getvalue()), code


def test_an_operator_imports_its_own_assets_and_no_one_elses(
    make_user, tmp_path, needs_shared_data
):
    make_user("operator_staff", "VIETTEL", username="minh.viettel")
    result, code = run(tmp_path, ROWS, "minh.viettel")
    assert code == 2 and not InfrastructureAsset.objects.exists(), result
    problems = {(e["row"], e["column"]) for e in result["errors"]}
    assert (4, "") in problems  # VNPT's pole: not Viettel's to import
    assert {(5, "lon"), (5, "capacity"), (5, "shareable")} <= problems
    result, code = run(tmp_path, ROWS, "minh.viettel", "--mode", "partial")
    assert (code, result["stored"], result["refused"]) == (0, 2, 2), result
    tower = InfrastructureAsset.objects.get(code="T-01")
    duct = InfrastructureAsset.objects.get(code="D-01")
    assert (tower.owner.code, tower.kind, tower.capacity, tower.shareable) == (
        "VIETTEL",
        "tower",
        3,
        True,
    )
    assert duct.geometry.geom_type == "LineString" and duct.length_m > 500
    result, code = run(tmp_path, ROWS[:3], "minh.viettel")  # again: updated, not duplicated
    assert (code, result["stored"]) == (0, 2) and InfrastructureAsset.objects.count() == 2


def test_the_upload_page_imports_and_shows_the_result(client, make_user, needs_shared_data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    minh = make_user("operator_staff", "VIETTEL")
    client.force_login(minh)
    listing = client.get("/sharing/assets/")
    assert 'href="/imports/new/sharing.assets/"' in listing.content.decode()
    page = client.get("/imports/new/sharing.assets/")
    assert page.status_code == 200 and "dung lượng" in page.content.decode()  # the columns listed
    body = "\n".join(",".join(f'"{c}"' for c in r) for r in ROWS[:3]).encode()
    response = client.post(
        "/imports/new/sharing.assets/", {"file": SimpleUploadedFile("a.csv", body)}
    )
    assert response.status_code == 302 and response.url.startswith("/imports/")
    result = client.get(response.url)
    assert 'data-status="done"' in result.content.decode()
    assert InfrastructureAsset.objects.count() == 2
    # The catalogue of public sites is the city's: an operator is refused its upload page.
    assert client.get("/imports/new/stations.sites/").status_code == 403
    assert client.get("/imports/new/no.such.kind/").status_code == 404


def test_the_refused_rows_download_as_xlsx_with_their_values(client, make_user, needs_shared_data):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import load_workbook

    client.force_login(make_user("operator_staff", "VIETTEL"))
    body = "\n".join(",".join(f'"{c}"' for c in r) for r in ROWS).encode()
    response = client.post(
        "/imports/new/sharing.assets/",
        {"file": SimpleUploadedFile("a.csv", body), "mode": "partial"},
    )
    page = client.get(response.url).content.decode()
    assert 'data-testid="import-errors-xlsx"' in page and "abc" in page
    sheet = load_workbook(io.BytesIO(client.get(f"{response.url}errors.xlsx").content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 4  # the header, VNPT's pole, and P-02's three problems
    assert (5, "lon", "abc") in {r[:3] for r in rows[1:]}
