"""Document and application types the city starts with (administrators edit them afterwards)."""

from django.db import migrations

DOCUMENT_TYPES = [
    ("application_form", "Đơn đề nghị cấp phép", "Đơn đề nghị theo mẫu, có chữ ký và dấu của doanh nghiệp."),
    ("drawings", "Bản vẽ thiết kế", "Bản vẽ mặt bằng, mặt đứng cột ăng ten và vị trí lắp đặt."),
    ("land_use", "Thỏa thuận sử dụng đất/công trình", "Văn bản thỏa thuận với chủ sở hữu đất, công trình công cộng."),
    ("structural", "Báo cáo an toàn kết cấu", "Kết quả kiểm định, đánh giá an toàn chịu lực của công trình."),
    ("emf", "Cam kết tuân thủ an toàn bức xạ (EMF)", "Tài liệu chứng minh trạm tuân thủ quy chuẩn về phơi nhiễm trường điện từ."),
]
APPLICATION_TYPES = [
    # code, name, completeness days, decision days, tacit approval, documents
    ("public_station", "Xây dựng trạm BTS trên đất, công trình công cộng", 3, 10, False,
     ["application_form", "drawings", "land_use", "structural", "emf"]),
    ("non_bulky", "Lắp đặt cột ăng ten không cồng kềnh", 2, 5, True,
     ["application_form", "land_use", "emf"]),
    ("modification", "Cải tạo, thay đổi trạm BTS hiện có", 3, 7, False,
     ["application_form", "drawings", "structural"]),
]


def forwards(apps, schema_editor):
    DocumentType = apps.get_model("stations", "DocumentType")
    ApplicationType = apps.get_model("stations", "ApplicationType")
    docs = {}
    for code, name, description in DOCUMENT_TYPES:
        docs[code], _ = DocumentType.objects.get_or_create(
            code=code, defaults={"name": name, "description": description}
        )
    for code, name, completeness, decision, tacit, required in APPLICATION_TYPES:
        kind, created = ApplicationType.objects.get_or_create(
            code=code,
            defaults={"name": name, "completeness_days": completeness, "decision_days": decision,
                      "tacit_approval": tacit},
        )
        if created:
            kind.required_documents.set([docs[c] for c in required])


class Migration(migrations.Migration):
    dependencies = [("stations", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
