"""Demo data of the agreements app: Hanoi's two inter-agency coordination programmes of 2020-2025
and the draft that carries the first into 2026-2030.

- The Sở TT&TT Hà Nội × Cục Viễn thông programme on managing digital infrastructure, with its five
  content areas: (1) the city's policy, advice on legal documents, plans and guidance;
  (2) implementing policy and law in the city; (3) inspection, checks and handling violations;
  (4) resolving difficulties that arise in management; (5) sharing information, training staff.
  Its tasks are the ones such a programme holds: the passive-infrastructure plan, guidance on the
  Telecommunications Law 2023, camouflaged BTS rules, joint inspections, pre-activated SIM checks,
  data sharing, training, and four targets measured on live data (overhead cable taken down,
  share of shared tower sites, permits decided on time, spam cases handled within the deadline).
  A quarterly liaison meeting recurs, yearly training recurs; some tasks are done, one dropped, the
  rest open and, the period being over, overdue.
- The Sở TT&TT Hà Nội × Cục Bưu điện Trung ương programme: postal services for Party and State
  agencies; the dedicated data-transmission network of Party and State agencies; training and
  sharing databases.
- Meetings of the parties whose decisions created or changed tasks.
- A draft 2026-2030 successor of the first programme, made by services.renew (its parties are the
  Sở KH&CN, which carries on the Sở TT&TT since 01/03/2025, and the Cục Viễn thông).

The 2020-2025 parties keep pointing at the Sở TT&TT as it was. Everything is written through
agreements.services acting as the demo users (minh, the city official; ha, the national official),
updates on past days; the daily reminders then run once so statuses match today (overdue tasks,
expired programmes). Targets start from the indicator's value on the programme's first day (the
baseline) where the data is there.

Idempotent: each programme is skipped when its code exists, the draft when the first has a successor.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from agreements import services
from agreements.models import Agreement, Task
from core import indicators
from core.models import Organization, User

DEMO_USERNAMES = ["minh", "ha"]
# Who writes what a party reports: the city's official for the Sở, the national one for the Cục.
REPORTER = {"SO_TTTT_HN": "minh", "CUC_VT": "ha", "CUC_BDTW": "ha"}

CVT = "CTPH-CVT-STTTT-HN-2020"
BDTW = "CTPH-CBDTW-STTTT-HN-2020"
SUCCESSOR = "CTPH-CVT-SKHCN-HN-2026"


def _t(title, responsible, supporting=(), **spec):
    """A task as the demo writes it: ``updates`` [(day, percent or None, narrative)],
    ``status`` ("done" / "dropped" at the end), ``done_until`` (a recurring task's occurrences held
    up to that day), ``key`` (for meeting decisions), ``baseline`` (used when the indicator has no
    value on the programme's first day)."""
    return {"title": title, "responsible": responsible, "supporting": supporting, **spec}


# --- The programme with the Cục Viễn thông ---------------------------------------------------------

CVT_PROGRAMME = {
    "code": CVT,
    "title": (
        "Chương trình phối hợp giữa Cục Viễn thông và Sở Thông tin và Truyền thông Hà Nội về quản "
        "lý hạ tầng số trên địa bàn Thành phố giai đoạn 2020–2025"
    ),
    "summary": (
        "Hai bên phối hợp trong xây dựng, triển khai chính sách, pháp luật về viễn thông và hạ "
        "tầng số trên địa bàn Thủ đô; thanh tra, kiểm tra, xử lý vi phạm; tháo gỡ khó khăn, vướng "
        "mắc; chia sẻ thông tin và đào tạo, bồi dưỡng cán bộ."
    ),
    "signed_on": date(2020, 6, 26),
    "period": (date(2020, 7, 1), date(2025, 12, 31)),
    "parties": [
        ("CUC_VT", "lead", "Cục trưởng Cục Viễn thông"),
        ("SO_TTTT_HN", "party", "Giám đốc Sở Thông tin và Truyền thông Hà Nội"),
    ],
    "areas": [
        (
            1,
            "Xây dựng chính sách của Thành phố, tư vấn văn bản pháp luật, quy hoạch, hướng dẫn",
            "Cục Viễn thông tư vấn, góp ý các cơ chế, chính sách, quy hoạch của Thành phố về hạ "
            "tầng viễn thông; Sở đề xuất nội dung cần hướng dẫn, sửa đổi ở cấp Trung ương.",
            [
                _t(
                    "Góp ý Quy hoạch hạ tầng kỹ thuật viễn thông thụ động thành phố Hà Nội",
                    "SO_TTTT_HN",
                    ["CUC_VT"],
                    due_date=date(2022, 12, 31),
                    status="done",
                    updates=[
                        (date(2021, 9, 15), 40, "Sở gửi dự thảo quy hoạch xin ý kiến Cục."),
                        (date(2022, 3, 10), 70, "Cục Viễn thông có văn bản góp ý dự thảo."),
                        (date(2022, 11, 25), 100, "Hoàn thiện hồ sơ, trình UBND Thành phố."),
                    ],
                ),
                _t(
                    "Hướng dẫn triển khai Luật Viễn thông 2023 và các nghị định hướng dẫn trên địa "
                    "bàn Thành phố",
                    "CUC_VT",
                    ["SO_TTTT_HN"],
                    due_date=date(2025, 6, 30),
                    status="done",
                    updates=[
                        (date(2024, 8, 20), 50, "Tổ chức hội nghị phổ biến Luật Viễn thông 2023."),
                        (date(2025, 5, 28), 100, "Ban hành tài liệu hướng dẫn cho quận, huyện."),
                    ],
                ),
                # "Quy định trạm BTS ngụy trang" comes from the 2022 meeting's decision.
            ],
        ),
        (
            2,
            "Triển khai chính sách, pháp luật trên địa bàn",
            "Tổ chức thực hiện các chương trình, kế hoạch phát triển hạ tầng số của Thành phố.",
            [
                _t(
                    "Hạ ngầm, chỉnh trang đường dây, cáp viễn thông đi nổi trên khoảng 300 tuyến "
                    "phố (≈ 300 km cáp treo được tháo dỡ)",
                    "SO_TTTT_HN",
                    ["CUC_VT"],
                    due_date=date(2025, 12, 31),
                    indicator="cables.km_overhead_removed",
                    baseline=Decimal("0"),
                    target_value=Decimal("300"),
                    target_date=date(2025, 12, 31),
                    updates=[
                        (date(2023, 12, 20), None, "Hoàn thành hạ ngầm các tuyến năm 2023."),
                        (date(2025, 11, 30), None, "Một số tuyến chậm do vướng mặt bằng."),
                    ],
                ),
                _t(
                    "Nâng tỷ lệ trạm BTS dùng chung cơ sở hạ tầng lên 30%",
                    "SO_TTTT_HN",
                    ["CUC_VT"],
                    due_date=date(2025, 12, 31),
                    indicator="sharing.shared_site_pct",
                    baseline=Decimal("8"),
                    target_value=Decimal("30"),
                    target_date=date(2025, 12, 31),
                ),
                _t(
                    "Giải quyết hồ sơ cấp phép lắp đặt trạm BTS đúng hạn (95% hồ sơ)",
                    "SO_TTTT_HN",
                    ["CUC_VT"],
                    due_date=date(2025, 12, 31),
                    indicator="stations.permits_on_time_pct",
                    baseline=Decimal("70"),
                    target_value=Decimal("95"),
                    target_date=date(2025, 12, 31),
                ),
                _t(
                    "Phối hợp với các doanh nghiệp phát triển mạng 5G tại các khu vực trung tâm",
                    "CUC_VT",
                    ["SO_TTTT_HN"],
                    due_date=date(2025, 9, 30),
                    updates=[
                        (date(2024, 11, 5), 40, "Cấp phép thử nghiệm 5G tại quận Hoàn Kiếm."),
                        (date(2025, 7, 15), 75, "Các doanh nghiệp phủ sóng 5G khu vực nội đô."),
                    ],
                ),
            ],
        ),
        (
            3,
            "Phối hợp thanh tra, kiểm tra, xử lý vi phạm",
            "Thanh tra, kiểm tra liên ngành; xử lý tin nhắn rác, cuộc gọi rác, SIM kích hoạt sẵn.",
            [
                _t(
                    "Thanh tra, kiểm tra liên ngành việc chấp hành quy định về trạm BTS và cáp "
                    "viễn thông",
                    "CUC_VT",
                    ["SO_TTTT_HN"],
                    due_date=date(2020, 12, 15),
                    recurrence="yearly",
                    done_until=date(2024, 12, 15),
                    updates=[
                        (date(2021, 12, 10), None, "Kiểm tra 120 trạm BTS tại 6 quận."),
                        (date(2023, 12, 8), None, "Xử phạt 4 doanh nghiệp vi phạm về cáp treo."),
                    ],
                ),
                _t(
                    "Rà soát, xử lý SIM kích hoạt sẵn tại các điểm bán trên địa bàn",
                    "SO_TTTT_HN",
                    ["CUC_VT"],
                    due_date=date(2021, 12, 31),
                    status="done",
                    updates=[(date(2021, 12, 20), 100, "Kiểm tra 350 điểm bán, thu hồi SIM.")],
                ),
                _t(
                    "Ngăn chặn tin nhắn rác, cuộc gọi rác: xử lý trong thời hạn 90% vụ việc",
                    "CUC_VT",
                    ["SO_TTTT_HN"],
                    due_date=date(2025, 12, 31),
                    indicator="spam_reports.handled_within_sla_pct",
                    baseline=Decimal("60"),
                    target_value=Decimal("90"),
                    target_date=date(2025, 12, 31),
                ),
            ],
        ),
        (
            4,
            "Giải quyết khó khăn, vướng mắc phát sinh trong quản lý",
            "Trao đổi định kỳ, tháo gỡ vướng mắc về cấp phép, mặt bằng và dùng chung hạ tầng.",
            [
                _t(
                    "Họp giao ban định kỳ hàng quý giữa hai bên",
                    "SO_TTTT_HN",
                    ["CUC_VT"],
                    due_date=date(2020, 9, 30),
                    recurrence="quarterly",
                    done_until=date(2025, 9, 30),
                ),
                _t(
                    "Tháo gỡ vướng mắc cấp phép xây dựng trạm BTS trên đất công, trụ sở cơ quan "
                    "nhà nước",
                    "SO_TTTT_HN",
                    ["CUC_VT"],
                    due_date=date(2022, 12, 31),
                    status="done",
                    key="bts_land",
                    updates=[(date(2022, 10, 12), 50, "Tổng hợp vướng mắc của các doanh nghiệp.")],
                ),
                _t(
                    "Thí điểm cột treo cáp dùng chung trên tuyến phố Trần Duy Hưng",
                    "SO_TTTT_HN",
                    ["CUC_VT"],
                    due_date=date(2022, 12, 31),
                    status="dropped",
                    updates=[(date(2021, 11, 3), 10, "Khảo sát tuyến; tuyến đã được hạ ngầm.")],
                ),
                _t(
                    "Hướng dẫn giá thuê hạ tầng viễn thông dùng chung giữa các doanh nghiệp",
                    "CUC_VT",
                    ["SO_TTTT_HN"],
                    due_date=date(2024, 12, 31),
                    updates=[(date(2024, 5, 14), 30, "Lấy ý kiến các doanh nghiệp.")],
                ),
            ],
        ),
        (
            5,
            "Chia sẻ thông tin, đào tạo, bồi dưỡng cán bộ",
            "Kết nối, chia sẻ cơ sở dữ liệu quản lý; tập huấn nghiệp vụ cho cán bộ các cấp.",
            [
                _t(
                    "Kết nối, chia sẻ dữ liệu trạm BTS và hạ tầng dùng chung giữa hệ thống của "
                    "Cục Viễn thông và Cổng thông tin hạ tầng của Thành phố",
                    "CUC_VT",
                    ["SO_TTTT_HN"],
                    due_date=date(2025, 12, 31),
                    updates=[
                        (date(2023, 4, 20), 30, "Thống nhất cấu trúc dữ liệu trao đổi."),
                        (date(2024, 9, 9), 60, "Kết nối thử nghiệm qua API."),
                        (date(2025, 10, 1), 80, "Đồng bộ dữ liệu trạm BTS hằng ngày."),
                    ],
                ),
                _t(
                    "Tập huấn nghiệp vụ quản lý viễn thông cho cán bộ cấp quận, huyện, xã, phường",
                    "CUC_VT",
                    ["SO_TTTT_HN"],
                    due_date=date(2020, 11, 30),
                    recurrence="yearly",
                    done_until=date(2025, 11, 30),
                ),
            ],
        ),
    ],
    "meetings": [
        {
            "held_on": date(2022, 7, 14),
            "title": "Hội nghị sơ kết 2 năm thực hiện Chương trình phối hợp",
            "minutes": (
                "Hai bên đánh giá kết quả 2 năm thực hiện; thống nhất bổ sung nhiệm vụ xây dựng "
                "quy định về trạm BTS ngụy trang và lùi thời hạn tháo gỡ vướng mắc cấp phép trạm."
            ),
            "decisions": [
                (
                    "Giao Sở TT&TT chủ trì xây dựng quy định về lắp đặt trạm BTS ngụy trang, thân "
                    "thiện môi trường tại khu vực nội đô.",
                    {
                        "new": _t(
                            "Xây dựng quy định về lắp đặt trạm BTS ngụy trang, thân thiện môi "
                            "trường tại khu vực nội đô",
                            "SO_TTTT_HN",
                            ["CUC_VT"],
                            area=1,
                            due_date=date(2025, 9, 30),
                            updates=[
                                (date(2023, 5, 18), 30, "Khảo sát mẫu trạm ngụy trang."),
                                (date(2024, 10, 2), 55, "Dự thảo quy định, lấy ý kiến."),
                                (date(2025, 8, 12), 70, "Hoàn thiện dự thảo sau góp ý."),
                            ],
                        )
                    },
                ),
                (
                    "Lùi thời hạn tháo gỡ vướng mắc cấp phép trạm BTS trên đất công đến "
                    "30/06/2023.",
                    {"task": "bts_land", "changes": {"due_date": date(2023, 6, 30)}},
                ),
            ],
        },
        {
            "held_on": date(2025, 9, 26),
            "title": "Họp giao ban quý III/2025",
            "minutes": (
                "Chương trình sắp kết thúc; hai bên thống nhất tổng kết và đề xuất chương trình "
                "giai đoạn 2026–2030."
            ),
            "decisions": [
                (
                    "Giao Sở chủ trì tổng kết Chương trình phối hợp giai đoạn 2020–2025, đề xuất "
                    "nội dung giai đoạn 2026–2030.",
                    {
                        "new": _t(
                            "Tổng kết Chương trình phối hợp giai đoạn 2020–2025, đề xuất nội dung "
                            "giai đoạn 2026–2030",
                            "SO_TTTT_HN",
                            ["CUC_VT"],
                            area=4,
                            due_date=date(2025, 12, 15),
                            updates=[(date(2025, 11, 20), 60, "Dự thảo báo cáo tổng kết.")],
                        )
                    },
                ),
            ],
        },
    ],
}


# --- The programme with the Cục Bưu điện Trung ương -------------------------------------------------

BDTW_PROGRAMME = {
    "code": BDTW,
    "title": (
        "Chương trình phối hợp giữa Cục Bưu điện Trung ương và Sở Thông tin và Truyền thông Hà "
        "Nội về bảo đảm thông tin phục vụ cơ quan Đảng, Nhà nước giai đoạn 2020–2025"
    ),
    "summary": (
        "Phối hợp bảo đảm dịch vụ bưu chính phục vụ cơ quan Đảng, Nhà nước; phát triển, khai thác "
        "mạng truyền số liệu chuyên dùng; đào tạo và chia sẻ cơ sở dữ liệu."
    ),
    "signed_on": date(2020, 8, 20),
    "period": (date(2020, 9, 1), date(2025, 12, 31)),
    "parties": [
        ("CUC_BDTW", "lead", "Cục trưởng Cục Bưu điện Trung ương"),
        ("SO_TTTT_HN", "party", "Giám đốc Sở Thông tin và Truyền thông Hà Nội"),
    ],
    "areas": [
        (
            1,
            "Bưu chính phục vụ cơ quan Đảng, Nhà nước",
            "Bảo đảm dịch vụ bưu chính KT1 an toàn, kịp thời cho các cơ quan trên địa bàn.",
            [
                _t(
                    "Bảo đảm bưu chính phục vụ Đại hội Đảng bộ Thành phố lần thứ XVII",
                    "CUC_BDTW",
                    ["SO_TTTT_HN"],
                    due_date=date(2020, 10, 31),
                    status="done",
                    updates=[(date(2020, 10, 20), 100, "Phục vụ an toàn, không để sai sót.")],
                ),
                _t(
                    "Bảo đảm bưu chính phục vụ bầu cử đại biểu Quốc hội khóa XV và HĐND các cấp "
                    "nhiệm kỳ 2021–2026",
                    "CUC_BDTW",
                    ["SO_TTTT_HN"],
                    due_date=date(2021, 5, 31),
                    status="done",
                    updates=[(date(2021, 5, 25), 100, "Chuyển phát tài liệu bầu cử đúng hạn.")],
                ),
                _t(
                    "Rà soát danh sách cơ quan, đơn vị trên địa bàn được phục vụ bưu chính KT1",
                    "SO_TTTT_HN",
                    ["CUC_BDTW"],
                    due_date=date(2025, 6, 30),
                    updates=[(date(2024, 3, 5), 50, "Cập nhật theo sắp xếp đơn vị hành chính.")],
                ),
            ],
        ),
        (
            2,
            "Mạng truyền số liệu chuyên dùng của cơ quan Đảng, Nhà nước",
            "Phát triển, kết nối và bảo đảm an toàn thông tin mạng truyền số liệu chuyên dùng.",
            [
                _t(
                    "Kết nối mạng truyền số liệu chuyên dùng cấp II đến 100% xã, phường, thị trấn",
                    "CUC_BDTW",
                    ["SO_TTTT_HN"],
                    due_date=date(2024, 12, 31),
                    updates=[
                        (date(2021, 12, 15), 45, "Kết nối 260 xã, phường."),
                        (date(2023, 12, 12), 85, "Kết nối 490 xã, phường, thị trấn."),
                    ],
                ),
                _t(
                    "Chuyển đổi mạng truyền số liệu chuyên dùng sang IPv6",
                    "CUC_BDTW",
                    ["SO_TTTT_HN"],
                    due_date=date(2025, 12, 31),
                    updates=[(date(2025, 4, 2), 40, "Chuyển đổi tại các sở, ngành.")],
                ),
                _t(
                    "Giám sát an toàn thông tin trên mạng truyền số liệu chuyên dùng của Thành phố",
                    "SO_TTTT_HN",
                    ["CUC_BDTW"],
                    due_date=date(2021, 6, 30),
                    recurrence="half_yearly",
                    done_until=date(2025, 6, 30),
                ),
            ],
        ),
        (
            3,
            "Đào tạo, bồi dưỡng; chia sẻ cơ sở dữ liệu",
            "Tập huấn khai thác mạng và dịch vụ; chia sẻ cơ sở dữ liệu điểm kết nối.",
            [
                _t(
                    "Tập huấn khai thác, sử dụng mạng truyền số liệu chuyên dùng cho cán bộ các "
                    "sở, ngành, quận, huyện",
                    "CUC_BDTW",
                    ["SO_TTTT_HN"],
                    due_date=date(2021, 11, 30),
                    recurrence="yearly",
                    done_until=date(2024, 11, 30),
                ),
                _t(
                    "Chia sẻ cơ sở dữ liệu các điểm kết nối mạng truyền số liệu chuyên dùng trên "
                    "địa bàn Hà Nội",
                    "CUC_BDTW",
                    ["SO_TTTT_HN"],
                    due_date=date(2023, 12, 31),
                    status="done",
                    updates=[
                        (date(2022, 6, 1), 50, "Thống nhất danh mục dữ liệu."),
                        (date(2023, 12, 18), 100, "Bàn giao cơ sở dữ liệu cho Sở."),
                    ],
                ),
            ],
        ),
    ],
    "meetings": [
        {
            "held_on": date(2023, 1, 12),
            "title": "Hội nghị đánh giá kết quả phối hợp năm 2022",
            "minutes": "Đánh giá việc mở rộng mạng truyền số liệu chuyên dùng đến cấp xã.",
            "decisions": [
                (
                    "Bổ sung nhiệm vụ bảo đảm thông tin phục vụ sắp xếp đơn vị hành chính cấp xã.",
                    {
                        "new": _t(
                            "Điều chỉnh kết nối mạng truyền số liệu chuyên dùng theo sắp xếp đơn "
                            "vị hành chính cấp xã",
                            "CUC_BDTW",
                            ["SO_TTTT_HN"],
                            area=2,
                            due_date=date(2025, 9, 30),
                            updates=[(date(2025, 8, 15), 70, "Chuyển kết nối về 126 xã, phường.")],
                        )
                    },
                ),
            ],
        },
    ],
}

PROGRAMMES = [CVT_PROGRAMME, BDTW_PROGRAMME]


# --- Loading ---------------------------------------------------------------------------------------


def _baseline(spec, day):
    """The indicator's value on the programme's first day, else the demo's figure."""
    try:
        value = indicators.get(spec["indicator"]).value(as_of=day)
    except Exception:  # the app's data may be missing: the demo's figure then
        value = None
    if value is None:
        return spec.get("baseline")
    return Decimal(str(round(float(value), 1)))


class _Loader:
    def __init__(self, users, orgs, today):
        self.users, self.orgs, self.today = users, orgs, today
        self.official = users["minh"]
        self.counts = {"agreements": 0, "areas": 0, "tasks": 0, "updates": 0, "meetings": 0}

    def programme(self, spec):
        start, end = spec["period"]
        agreement = services.save_agreement(
            self.official,
            parties=[
                {"organization": self.orgs[c], "role": role, "signatory_title": title}
                for c, role, title in spec["parties"]
            ],
            code=spec["code"],
            title=spec["title"],
            summary=spec["summary"],
            period_start=start,
            period_end=end,
        )
        agreement = services.bring_into_force(self.official, agreement, spec["signed_on"])
        self.counts["agreements"] += 1
        areas, keyed, later = {}, {}, []
        for number, title, description, tasks in spec["areas"]:
            area = services.save_area(
                self.official, agreement, number=number, title=title, description=description
            )
            areas[number] = area
            self.counts["areas"] += 1
            for task_spec in tasks:
                task = self.task(area, task_spec, start)
                keyed[task_spec.get("key", task.pk)] = task
                later.append((task, task_spec))
        for meeting in spec["meetings"]:
            later += self.meeting(agreement, meeting, areas, keyed, start)
        for task, task_spec in later:
            self.updates(task, task_spec, start)
        for task, task_spec in later:
            self.finish(task, task_spec)
        return agreement

    def task(self, area, spec, start):
        fields = {
            "title": spec["title"],
            "responsible": self.orgs[spec["responsible"]],
            "due_date": spec.get("due_date"),
            "recurrence": spec.get("recurrence", ""),
        }
        if spec.get("indicator"):
            fields.update(
                indicator=spec["indicator"],
                baseline_value=_baseline(spec, start - timedelta(days=1)),
                target_value=spec["target_value"],
                target_date=spec.get("target_date"),
            )
        task = services.save_task(
            self.official,
            area=area,
            supporting=[self.orgs[c] for c in spec["supporting"]],
            **fields,
        )
        self.counts["tasks"] += 1
        return task

    def meeting(self, agreement, spec, areas, keyed, start):
        decisions, made = [], []
        for text, what in spec["decisions"]:
            if "new" in what:
                new = what["new"]
                decisions.append(
                    {
                        "text": text,
                        "new_task": {
                            "area": areas[new["area"]],
                            "title": new["title"],
                            "responsible": self.orgs[new["responsible"]],
                            "supporting": [self.orgs[c] for c in new["supporting"]],
                            "due_date": new["due_date"],
                        },
                    }
                )
            else:
                decisions.append(
                    {"text": text, "task": keyed[what["task"]], "changes": what["changes"]}
                )
        meeting = services.record_meeting(
            self.official,
            agreement,
            held_on=min(spec["held_on"], self.today),
            title=spec["title"],
            present=[p.organization for p in agreement.parties.select_related("organization")],
            minutes=spec["minutes"],
            decisions=decisions,
        )
        self.counts["meetings"] += 1
        for decision, (_text, what) in zip(
            meeting.decisions.order_by("id"), spec["decisions"], strict=True
        ):
            if "new" in what:
                self.counts["tasks"] += 1
                made.append((decision.task, what["new"]))
        return made

    def updates(self, task, spec, start):
        for day, percent, narrative in spec.get("updates", ()):
            if not start <= day <= self.today:
                continue
            party = spec["responsible"]
            services.post_update(
                self.users[REPORTER[party]],
                task,
                reported_on=day,
                narrative=narrative,
                percent=percent,
                organization=self.orgs[party],
            )
            self.counts["updates"] += 1

    def finish(self, task, spec):
        if spec.get("done_until"):
            task = Task.objects.get(pk=task.pk)
            while task.status in Task.OPEN and task.due_date <= min(spec["done_until"], self.today):
                task = services.set_task_status(self.official, task, "done", today=task.due_date)
        if spec.get("status"):
            task = Task.objects.get(pk=task.pk)
            if task.status != spec["status"]:
                services.set_task_status(self.official, task, spec["status"])


def load_programmes(today=None):
    today = today or timezone.localdate()
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES)}
    codes = {c for p in PROGRAMMES for c, _role, _title in p["parties"]} | {"SO_KHCN_HN"}
    orgs = {o.code: o for o in Organization.objects.filter(code__in=codes)}
    loader = _Loader(users, orgs, today)
    for spec in PROGRAMMES:
        if not Agreement.objects.filter(code=spec["code"]).exists():
            loader.programme(spec)
    return loader.counts


def load_successor():
    """The 2026-2030 draft carrying on the programme with the Cục Viễn thông (once)."""
    first = Agreement.objects.filter(code=CVT).first()
    if first is None or Agreement.objects.filter(predecessor=first).exists():
        return 0
    services.renew(
        User.objects.get(username="minh"),
        first,
        code=SUCCESSOR,
        title=(
            "Chương trình phối hợp giữa Cục Viễn thông và Sở Khoa học và Công nghệ Hà Nội về quản "
            "lý hạ tầng số trên địa bàn Thành phố giai đoạn 2026–2030"
        ),
        period_start=date(2026, 1, 1),
        period_end=date(2030, 12, 31),
    )
    return 1


def load(stdout=None):
    """Load the two programmes and the draft successor (each once); returns what it created."""
    from core import demo as core_demo

    started = timezone.now()
    if User.objects.filter(username__in=DEMO_USERNAMES).count() != len(DEMO_USERNAMES):
        core_demo.load()
    with transaction.atomic():
        result = load_programmes()
        result["drafts"] = load_successor()
        if any(result.values()):
            # Today's picture: overdue tasks marked (and their parties told), past programmes expired.
            services.send_reminders()
    if stdout:
        seconds = (timezone.now() - started).total_seconds()
        stdout.write(
            f"agreements: {result['agreements']} programmes, {result['areas']} content areas, "
            f"{result['tasks']} tasks, {result['updates']} progress updates, "
            f"{result['meetings']} meetings and {result['drafts']} draft successor created "
            f"({seconds:.1f} s)."
        )
    return result
