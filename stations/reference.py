"""Reference data of the stations app: document types and application types with their clocks.

Loaded by the data migration 0002 and by `manage.py load_reference_data` (idempotent: existing rows,
which administrators may have edited, are left as they are).
"""

DOCUMENT_TYPES = [
    (
        "application_form",
        "Đơn đề nghị cấp phép",
        "Đơn đề nghị theo mẫu, có chữ ký và dấu của doanh nghiệp.",
    ),
    ("drawings", "Bản vẽ thiết kế", "Bản vẽ mặt bằng, mặt đứng cột ăng ten và vị trí lắp đặt."),
    (
        "land_use",
        "Thỏa thuận sử dụng đất/công trình",
        "Văn bản thỏa thuận với chủ sở hữu đất, công trình công cộng.",
    ),
    (
        "structural",
        "Báo cáo an toàn kết cấu",
        "Kết quả kiểm định, đánh giá an toàn chịu lực của công trình.",
    ),
    (
        "emf",
        "Cam kết tuân thủ an toàn bức xạ (EMF)",
        "Tài liệu chứng minh trạm tuân thủ quy chuẩn về phơi nhiễm trường điện từ.",
    ),
]
APPLICATION_TYPES = [
    # code, name, completeness days, decision days, tacit approval, documents
    (
        "public_station",
        "Xây dựng trạm BTS trên đất, công trình công cộng",
        3,
        10,
        False,
        ["application_form", "drawings", "land_use", "structural", "emf"],
    ),
    (
        "non_bulky",
        "Lắp đặt cột ăng ten không cồng kềnh",
        2,
        5,
        True,
        ["application_form", "land_use", "emf"],
    ),
    (
        "modification",
        "Cải tạo, thay đổi trạm BTS hiện có",
        3,
        7,
        False,
        ["application_form", "drawings", "structural"],
    ),
]


def load(document_type_model=None, application_type_model=None):
    if document_type_model is None:
        from stations.models import ApplicationType, DocumentType

        document_type_model, application_type_model = DocumentType, ApplicationType
    docs = {}
    for code, name, description in DOCUMENT_TYPES:
        docs[code], _ = document_type_model.objects.get_or_create(
            code=code, defaults={"name": name, "description": description}
        )
    for code, name, completeness, decision, tacit, required in APPLICATION_TYPES:
        kind, created = application_type_model.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "completeness_days": completeness,
                "decision_days": decision,
                "tacit_approval": tacit,
            },
        )
        if created:
            kind.required_documents.set([docs[c] for c in required])
