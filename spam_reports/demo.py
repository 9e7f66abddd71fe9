"""Demo data of the spam_reports app: three months of spam complaints in Hanoi and their handling.

- ~20,000 reports over the last 90 days from 1,500 senders: mobile numbers of the real operators'
  ranges (Viettel 086/096-098/032-039, VinaPhone 088/091/094/081-085, MobiFone 090/093/070/076-079,
  Vietnamobile 092/056/058), Hanoi landlines of telesales centres, a few foreign numbers (scam calls),
  short codes and 1900 numbers, SMS brandnames (fictional) and e-mail senders. Skewed like the real
  thing: a long tail of senders with one or two complaints, a few with hundreds, and 0912 345 678
  (journey 5) with 1,406 reports: SMS advertising from an ordinary number, calls after 17:00.
- Recipients are 12,000 Hanoi subscribers; contents are the usual Vietnamese spam (vay tiền, bất động
  sản, khuyến mãi, cá độ, tuyển CTV, sim số đẹp, bảo hiểm, giả mạo ngân hàng…), typed without
  accents in a good part of the 5656 messages.
- Loaded FAST through the real import path (services.import_reports: COPY into a staging table, one
  INSERT … SELECT per 5,000 rows; the triggers keep counters and rollups, the rules flag the cases):
  one 5656 export per month (minh), one complaint feed per operator (lan/Viettel, tuan/VNPT,
  huy/MobiFone) and one file of complaints received by the Cục's hotline (ha, with the e-mails). The
  files carry a few bad rows and duplicates, as real ones do. A handful more reports are typed in by
  minh through services.submit_report, some with a screenshot.
- A do-not-call list of 320 numbers (60 registered recipients make the do_not_call rule fire; ten
  more registered today, after their messages, do not).
- Cases in every status, handled through the services with past times: assignments to the sender's
  operator answered on time, late, pending, overdue (flagged by services.flag_overdue), declined with
  a reason, numbers blocked and brandnames suspended; a few reports marked invalid; closed cases whose
  sender came back (a successor case). The journey's case is left under verification, unassigned.
- Subscriber-information inspections of Viettel, VNPT and MobiFone with follow-ups (one overdue).

Idempotent: each part is skipped when its marker exists; a fixed seed makes every load the same
(times are relative to the day it is loaded).
"""

import random
import struct
import unicodedata
import zlib
from datetime import datetime, time, timedelta

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from core import imports
from core.exceptions import DomainError
from core.models import ImportJob, Organization, User
from spam_reports import services
from spam_reports.models import SpamCase, SpamReport, SubscriberInspection

SEED = 5656
DAYS = 90
N_SUBSCRIBERS = 12_000
N_REPORTS = 20_000
JOURNEY_SENDER = "+84912345678"
JOURNEY_REPORTS = 1_406
DEMO_USERNAMES = ["minh", "ha", "lan", "tuan", "huy"]
STAFF = {"VIETTEL": "lan", "VNPT": "tuan", "MOBIFONE": "huy"}
KIND = "spam_reports.reports"

# Mobile prefixes (after the 0) of each operator, and its share of Hanoi's subscribers.
PREFIXES = {
    "VIETTEL": ["86", "96", "97", "98", "32", "33", "34", "35", "36", "37", "38", "39"],
    "VNPT": ["88", "91", "94", "81", "82", "83", "84", "85"],
    "MOBIFONE": ["90", "93", "70", "76", "77", "78", "79"],
    "VIETNAMOBILE": ["92", "56", "58"],
}
SHARE = {"VIETTEL": 0.52, "VNPT": 0.24, "MOBIFONE": 0.19, "VIETNAMOBILE": 0.05}

BRAND_WORDS = ["VAY", "TIEN", "NHADAT", "BDS", "SALE", "KM", "CREDIT", "SIM", "SPA", "HOC",
               "BAOHIEM", "CAN", "HO", "DAT", "VIP", "SIEU", "MUA", "SAM", "THE", "NHA", "XE",
               "DU-LICH", "DEP", "GIA"]  # fmt: skip
EMAIL_LOCALS = ["khuyenmai", "no-reply", "hotro", "tuyendung", "thongbao", "cskh", "uudai", "info"]
EMAIL_DOMAINS = [
    "khuyenmai-hot.vn",
    "vaynhanh24h.com",
    "nhadat-hanoi.net",
    "viec-lam-online.com",
    "quatang-tri-an.vn",
    "baohiem-24h.com",
    "Khuyến-Mãi.vn",  # an accented domain, stored in its IDNA form
    "sanpham-giare.shop",
]
FOREIGN = ["+855961234567", "+85512345678", "+447911123456", "+12025550143", "+8613800138000"]

PROJECTS = ["Vinhomes Cổ Loa", "The Matrix One", "Masteri Waterfront", "Sun Feliza Suites",
            "Hinode Royal Park", "Imperia Smart City", "Lumi Hà Nội", "Eurowindow Twin Parks"]  # fmt: skip
THEMES = {
    "vay": [
        "Vay tiền nhanh chỉ cần CCCD, giải ngân trong {m} phút, lãi suất 0% tháng đầu. LH {phone}",
        "Bạn được duyệt khoản vay {money} triệu, không thẩm định, nhận tiền ngay: {url}",
        "Hỗ trợ vay tín chấp theo lương đến {money} triệu, không cần thế chấp. Zalo {phone}",
    ],
    "bds": [
        "Mở bán căn hộ {project} chỉ từ {price} tỷ/căn, chiết khấu {pct}%, hỗ trợ vay 70%. Gọi {phone}",
        "Đất nền sổ đỏ Đông Anh, giá chỉ {money} triệu/m2, pháp lý chuẩn. Xem ngay {url}",
        "Quỹ căn ngoại giao {project}, ký trực tiếp chủ đầu tư, tặng gói nội thất. LH {phone}",
    ],
    "km": [
        "KHUYẾN MÃI SỐC: giảm {pct}% toàn bộ sản phẩm, chỉ hôm nay. Truy cập {url}",
        "Tri ân khách hàng: tặng voucher {money}0.000đ, nhận tại {url} trước 23h59",
        "Flash sale 0đ: điện thoại, tai nghe, đồng hồ. Số lượng có hạn {url}",
    ],
    "cado": [
        "Nhà cái uy tín, thưởng {pct}0% nạp đầu, cá độ bóng đá, casino online. Đăng ký {url}",
        "Soi kèo miễn phí, tỷ lệ cược cao nhất thị trường, rút tiền 5 phút. {url}",
    ],
    "ctv": [
        "Tuyển CTV làm việc online tại nhà, thu nhập {money}0.000đ/ngày, liên hệ Zalo {phone}",
        "Việc nhẹ lương cao: like, share sản phẩm, hoa hồng {pct}%. Nhắn tin {phone}",
    ],
    "sim": [
        "Sim số đẹp tứ quý, lộc phát, giá từ {money}0.000đ, giao sim tận nhà. Gọi {phone}",
    ],
    "baohiem": [
        "Bảo hiểm sức khoẻ trọn gói chỉ {money}.000đ/ngày, chi trả 100% viện phí. LH {phone}",
    ],
    "giamao": [
        "Tài khoản của quý khách sẽ bị khoá sau 24h. Vui lòng xác minh tại {url}",
        "Quý khách trúng thưởng {money} triệu từ chương trình tri ân, nhận thưởng tại {url}",
    ],
    "hoc": [
        "Khoá học tiếng Anh giao tiếp giảm {pct}%, học thử miễn phí tại Cầu Giấy. LH {phone}",
    ],
}
CALL_NOTES = ["Gọi mời vay tiền", "Mời mua căn hộ", "Mời mua bảo hiểm", "Mời mở thẻ tín dụng",
              "Giả danh công an", "Mời đầu tư chứng khoán", "", "", ""]  # fmt: skip
URLS = ["bit.ly/km{n}", "vaynhanh{n}.online", "uudai-{n}.shop", "nhacai{n}.bet", "tinyurl.com/x{n}"]

# How a case is handled (chosen by rank among the 260 largest cases after the journey's).
PLAN = (
    ["blocked"] * 60
    + ["blocked_late"] * 18
    + ["blocked_closed"] * 26
    + ["verified"] * 24
    + ["declined"] * 14
    + ["pending"] * 18
    + ["overdue"] * 12
    + ["verifying"] * 34
    + ["confirmed"] * 22
    + ["not_spam"] * 16
    + ["closed"] * 16
)
DECLINED = [
    "Thuê bao đã chuyển mạng giữ số sang nhà mạng khác từ tháng trước.",
    "Số máy là tổng đài chăm sóc khách hàng đã đăng ký với Cục Viễn thông.",
    "Không đủ căn cứ: thuê bao là doanh nghiệp, đã có hợp đồng quảng cáo hợp lệ.",
]
NOT_SPAM = [
    "Tin nhắn giao dịch (OTP, sao kê) của ngân hàng, không phải quảng cáo.",
    "Thông báo của cơ quan nhà nước về lịch tiêm chủng, không phải quảng cáo.",
    "Người nhận đã đăng ký nhận tin từ cửa hàng; đã hủy đăng ký.",
]
INVALID = [
    "Số người nhận không tồn tại.",
    "Phản ánh trùng nội dung, khác thời điểm do người dân gửi lại.",
    "Tin nhắn giao dịch, không phải quảng cáo.",
]

# (operator, agency, reference, days ago, sample, not matching, deadline days after, follow-ups
#  [(days after the inspection, remedied, closes)], finally closed by the official)
INSPECTIONS = [
    ("VIETTEL", "CUC_VT", "15/BB-KTTB-VT", 150, 2000, 46, 30, [(12, 30, False), (26, 16, True)], True),
    ("VIETTEL", "SO_KHCN_HN", "42/BB-SKHCN", 20, 1500, 31, 25, [(9, 12, False)], False),
    ("VNPT", "CUC_VT", "16/BB-KTTB-VT", 120, 1800, 58, 30, [(20, 58, True)], False),
    ("VNPT", "SO_KHCN_HN", "37/BB-SKHCN", 45, 1000, 72, 40, [], False),
    ("MOBIFONE", "CUC_VT", "17/BB-KTTB-VT", 90, 1200, 25, 30, [(15, 25, True)], True),
    ("MOBIFONE", "SO_KHCN_HN", "45/BB-SKHCN", 10, 800, 19, 30, [], False),
]  # fmt: skip
INSPECTION_TEXT = (
    "Kiểm tra ngẫu nhiên thông tin thuê bao di động trả trước: đối chiếu số định danh, họ tên, "
    "ngày sinh và ảnh chân dung với Cơ sở dữ liệu quốc gia về dân cư."
)
ACTIONS_REQUIRED = (
    "Chuẩn hoá thông tin các thuê bao sai lệch; khoá một chiều sau 15 ngày, hai chiều sau 30 ngày "
    "nếu chủ thuê bao không bổ sung; báo cáo kết quả bằng văn bản."
)


def _at(day, hour, minute=0, second=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute, second)))


def _ascii(text):
    """Text as typed on a phone keyboard without Vietnamese input (5656 messages often are)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _png(width=4, height=4):
    """A tiny real PNG (a screenshot stand-in) that check_upload accepts and a browser shows."""
    rows = b"".join(b"\x00" + b"\xee\xee\xee" * width for _ in range(height))

    def chunk(kind, data):
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# --- Who complains about whom ----------------------------------------------------------------------


def _mobile(rng, operator):
    return "0" + rng.choice(PREFIXES[operator]) + f"{rng.randrange(10**7):07d}"


def _operator(rng):
    return rng.choices(list(SHARE), weights=list(SHARE.values()))[0]


def subscribers(rng):
    """{number (0xxxxxxxxx): operator} of Hanoi subscribers who receive spam."""
    out = {}
    while len(out) < N_SUBSCRIBERS:
        operator = _operator(rng)
        out[_mobile(rng, operator)] = operator
    return out


def _brandnames(rng, n):
    names = set()
    while len(names) < n:
        a, b = rng.sample(BRAND_WORDS, 2)
        name = f"{a}{rng.choice(['', '', '.', '_'])}{b}{rng.choice(['', '', '24', 'VN', '365'])}"
        if len(name) <= 11 and "-" not in name[:1]:
            names.add(name)
    return sorted(names)


def senders(rng):
    """[{value as typed, kind, channel mix, theme, night, late}], the journey's sender first."""
    out = [{"raw": "0912345678", "kind": "phone", "calls": 0.3, "theme": "vay", "journey": True}]
    taken = {"0912345678"}
    while len(out) < 1_230:
        number = _mobile(rng, _operator(rng))
        if number not in taken:
            taken.add(number)
            caller = rng.random() < 0.25
            out.append({"raw": number, "kind": "phone", "calls": 0.8 if caller else 0.05})
    for i in range(8):
        out.append({"raw": f"024{rng.choice('3367')}{rng.randrange(10**7):07d}", "kind": "phone",
                    "calls": 1.0, "theme": "bds" if i % 2 else "baohiem"})  # fmt: skip
    for number in FOREIGN:
        out.append({"raw": number, "kind": "phone", "calls": 1.0, "theme": "giamao"})
    codes = set()
    while len(codes) < 120:
        if rng.random() < 0.25:
            codes.add(f"1900{rng.randrange(10**4):04d}")
        else:
            codes.add(f"{rng.choice('6789')}{rng.randrange(10**3):03d}")
    for code in sorted(codes):
        out.append({"raw": code, "kind": "short_code", "calls": 0.7 if code[:4] == "1900" else 0.0})
    for name in _brandnames(rng, 89):
        out.append({"raw": name, "kind": "brandname", "calls": 0.0, "other": 0.1})
    emails = set()
    while len(emails) < 48:
        emails.add(f"{rng.choice(EMAIL_LOCALS)}{rng.randrange(100)}@{rng.choice(EMAIL_DOMAINS)}")
    for address in sorted(emails):
        out.append({"raw": address, "kind": "email", "calls": 0.0})
    for sender in out:
        sender.setdefault("theme", rng.choice(list(THEMES)))
        sender["night"] = not sender.get("journey") and rng.random() < 0.08
        sender["late"] = sender.get("journey") or rng.random() < 0.15
    return out


def counts(rng, senders_):
    """Reports per sender: the journey's 1,406, a long tail for the others (rank ^ -0.85)."""
    others = senders_[1:]
    big = [s for s in others if s["kind"] != "email" and not s["raw"].startswith("+")]
    rng.shuffle(big)
    head, rest = big[:40], [s for s in others if s not in big[:40]]
    rng.shuffle(rest)
    ranked = head + rest
    weights = [1 / (r + 1) ** 0.85 for r in range(len(ranked))]
    budget = N_REPORTS - JOURNEY_REPORTS - len(ranked)
    total = sum(weights)
    for sender, w in zip(ranked, weights, strict=True):
        sender["n"] = 1 + int(budget * w / total)
    senders_[0]["n"] = JOURNEY_REPORTS
    return senders_


def _content(rng, theme, n):
    template = rng.choice(THEMES[theme])
    phone = "09" + f"{rng.randrange(10**8):08d}"
    url = rng.choice(URLS).format(n=rng.randrange(10, 999))
    return template.format(
        m=rng.choice([5, 10, 15, 30]),
        money=rng.choice([5, 10, 20, 30, 50, 80, 100, 200]),
        project=rng.choice(PROJECTS),
        price=rng.choice(["1,2", "1,8", "2,5", "3,9", "4,6"]),
        pct=rng.choice([10, 15, 20, 30, 50, 70]),
        phone=phone,
        url=url,
    ) + ("" if n % 7 else f" (KM{n % 97})")


def _hour(rng, channel, sender):
    """A time of day (h, m, s) as such senders send: daytime mostly, some at night or after 17:00."""
    if channel == "call":
        if sender["late"] and rng.random() < 0.2:
            return rng.randint(17, 19), rng.randrange(60), rng.randrange(60)
        return rng.randint(8, 16), rng.randrange(60), rng.randrange(60)
    if sender["night"] and rng.random() < 0.35:
        return rng.choice([22, 23, 5, 6]), rng.randrange(60), rng.randrange(60)
    hour = rng.choices(range(7, 22), weights=[2, 5, 8, 8, 7, 5, 4, 5, 6, 6, 5, 6, 8, 8, 5])[0]
    return hour, rng.randrange(60), rng.randrange(60)


def plan(rng, now):
    """The reports to load: [dict(channel, sender, kind, recipient, content, at, journey)]."""
    pool = subscribers(rng)
    numbers = sorted(pool)
    do_not_call = set(rng.sample(numbers, 70))
    free = [n for n in numbers if n not in do_not_call]
    journey_recipients = rng.sample(free, JOURNEY_REPORTS)
    today = timezone.localdate(now)
    rows = []
    for index, sender in enumerate(counts(rng, senders(rng))):
        span = DAYS if sender["n"] > 300 else rng.randint(1, DAYS)
        start = rng.randint(span - 1, DAYS - 1) if span < DAYS else DAYS - 1
        for k in range(sender["n"]):
            if sender["kind"] == "email":
                channel = "email"
            elif rng.random() < sender["calls"]:
                channel = "call"
            else:
                channel = "other" if rng.random() < sender.get("other", 0) else "sms"
            day = today - timedelta(days=start - rng.randrange(span))
            at = _at(day, *_hour(rng, channel, sender))
            while at > now - timedelta(minutes=10):  # later today: the day before, same hour
                at -= timedelta(days=1)
            if sender.get("journey"):
                recipient = journey_recipients[k]
            elif channel == "email":
                name = rng.choice(["lan", "hoa", "minh", "tuan", "ngoc", "trang"])
                recipient = f"{name}{rng.randrange(999)}@gmail.com"
            else:
                recipient = rng.choice(numbers)
            content = "" if channel == "call" else _content(rng, sender["theme"], k)
            if channel == "call" and rng.random() < 0.5:
                content = rng.choice(CALL_NOTES)
            rows.append({"sender": sender["raw"], "kind": sender["kind"], "channel": channel,
                         "recipient": recipient, "content": content, "at": at,
                         "journey": bool(sender.get("journey")), "rank": index})  # fmt: skip
    _bursts(rng, rows, now)
    return rows, pool, sorted(do_not_call)


def _bursts(rng, rows, now):
    """Some senders hit one recipient 4-6 times in a few hours (SMS) or twice (calls)."""
    by_sender = {}
    for row in rows:
        if not row["journey"] and row["channel"] in ("sms", "call"):
            by_sender.setdefault((row["sender"], row["channel"]), []).append(row)
    candidates = sorted(k for k, v in by_sender.items() if len(v) >= 6)
    for key in rng.sample(candidates, min(45, len(candidates))):
        group = by_sender[key]
        size = 2 if key[1] == "call" else rng.randint(4, 6)
        first = group[0]
        start = min(first["at"], now - timedelta(hours=8))
        for i, row in enumerate(group[1:size]):
            row["recipient"] = first["recipient"]
            row["at"] = start + timedelta(minutes=47 * (i + 1))


# --- Files through the import path -----------------------------------------------------------------


def _csv(rows):
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def _5656(rows, rng):
    """One 5656 export: the reporter, the message as they typed it, the time it was received."""
    lines = [["reporter", "message", "received_at"]]
    for row in rows:
        sender = row["sender"]
        if row["kind"] == "phone" and sender.startswith("0") and rng.random() < 0.3:
            sender = "84" + sender[1:]
        content = row["content"]
        if content and not row.get("exact") and rng.random() < 0.45:
            content = _ascii(content)
        verb = "V" if row["channel"] == "call" else "S"
        message = f"{verb} {sender} {content}".strip()
        when = timezone.localtime(row["at"]).strftime("%d/%m/%Y %H:%M:%S")
        lines.append(["84" + row["recipient"][1:], message, when])
    return lines


def _feed(rows, prefix):
    """An operator's feed of its subscribers' complaints (their own ids, ISO times)."""
    lines = [["channel", "sender", "recipient", "content", "received_at", "external_id"]]
    for n, row in enumerate(rows, start=1):
        sender = row["sender"]
        if row["kind"] == "phone" and sender.startswith("0"):
            sender = "84" + sender[1:]
        when = timezone.localtime(row["at"]).strftime("%Y-%m-%d %H:%M:%S")
        lines.append([row["channel"], sender, row["recipient"], row["content"], when,
                      f"{prefix}-{n:06d}"])  # fmt: skip
    return lines


CHANNEL_VI = {"sms": "tin nhắn", "call": "cuộc gọi", "email": "email", "other": "khác"}


def _hotline(rows):
    """Complaints taken by the Cục's hotline, typed by its staff (spaces, Vietnamese channel names)."""
    lines = [["Channel", "Sender", "Recipient", "Content", "Received at"]]
    for row in rows:
        sender = row["sender"]
        if row["kind"] == "phone" and len(sender) == 10:
            sender = f"{sender[:4]} {sender[4:7]} {sender[7:]}"
        when = timezone.localtime(row["at"]).strftime("%d/%m/%Y %H:%M")
        lines.append([CHANNEL_VI[row["channel"]], sender, row["recipient"], row["content"], when])
    return lines


BAD_5656 = [
    ["tin rac 0912 345 678", "Tin nhắn không theo cú pháp"],
    ["S", ""],
    ["V", ""],
    ["S 09123 vay tien", ""],
    ["S DAI-LY-VAY-TIEN-NHANH vay", ""],
    ["X 0987654321 qc", ""],
]


def _with_bad_rows(lines, rng, n):
    """A few rows a real export carries: messages off the syntax, unreadable numbers, repeats."""
    body = lines[1:]
    for _ in range(n):
        reporter, _msg, when = rng.choice(body)
        bad = rng.choice(BAD_5656)[0]
        body.insert(rng.randrange(len(body)), [reporter, bad, when])
    for _ in range(n // 2):
        body.insert(rng.randrange(len(body)), list(rng.choice(body)))  # a row sent twice
    body.insert(rng.randrange(len(body)), ["so-khong-ro", "S 0961234567 vay tien", body[0][2]])
    return [lines[0], *body]


def _job(user, name, data, origin):
    job = ImportJob(
        kind=KIND,
        original_name=name,
        options={"origin": origin, "demo": True},
        created_by=user,
        organization_id=user.organization_id,
    )
    job.file.save(name, ContentFile(data), save=False)
    job.save()
    job = imports.run(job.pk)
    if job.status != ImportJob.Status.DONE:
        raise DomainError(f"spam_reports demo: the import of {name} failed: {job.message}")
    return job


def load_reports(rng, users, now=None):
    now = now or timezone.now()
    rows, pool, do_not_call = plan(rng, now)
    # The do-not-call list first, so the rule sees it when the reports come in. Ten recipients
    # registered only today: their earlier messages were no breach.
    registered = 0
    extra = [_mobile(rng, _operator(rng)) for _ in range(250)]
    chunks = [
        (do_not_call[:40], "Cục Viễn thông (DNC)", 400),
        (do_not_call[40:60], "Cục Viễn thông (DNC)", 200),
        (extra, "Tổng đài 5656", 30),
        (do_not_call[60:], "Tổng đài 5656", 0),
    ]
    for numbers, source, days in chunks:
        registered += services.register_do_not_call(
            users["ha"],
            numbers,
            source=source,
            registered_on=timezone.localdate(now) - timedelta(days=days),
        )
    five, feeds, hotline = {}, {code: [] for code in STAFF}, []
    for row in rows:
        if row["channel"] in ("email", "other"):
            hotline.append(row)
            continue
        r = rng.random()
        operator = pool.get(row["recipient"])
        if r < 0.58 or (r < 0.95 and operator not in STAFF):
            month = timezone.localtime(row["at"]).strftime("%Y-%m")
            five.setdefault(month, []).append(row)
        elif r < 0.95:
            feeds[operator].append(row)
        else:
            hotline.append(row)
    # 25 complaints a subscriber sent to 5656 and to their operator: the feed's copy is a duplicate.
    for row in rng.sample([r for r in feeds["VIETTEL"] if not r["journey"]], 25):
        row["exact"] = True
        five.setdefault(timezone.localtime(row["at"]).strftime("%Y-%m"), []).append(row)
    jobs = []
    for month in sorted(five):
        group = sorted(five[month], key=lambda r: r["at"])
        lines = _with_bad_rows(_5656(group, rng), rng, max(3, len(group) // 400))
        name = f"xuat_5656_thang_{month[5:]}_{month[:4]}.csv"
        jobs.append(_job(users["minh"], name, _csv(lines), "export_5656"))
    for code, username in STAFF.items():
        lines = _feed(sorted(feeds[code], key=lambda r: r["at"]), code[:3])
        jobs.append(_job(users[username], f"phan_anh_{code.lower()}.csv", _csv(lines), "operator_feed"))  # fmt: skip
    lines = _hotline(sorted(hotline, key=lambda r: r["at"]))
    jobs.append(_job(users["ha"], "duong_day_nong_cuc_vt.csv", _csv(lines), "official"))
    for job in jobs:
        day = timezone.localdate(now) - timedelta(days=1)
        ImportJob.objects.filter(pk=job.pk).update(created_at=_at(day, 8), started_at=_at(day, 8))
    typed = _typed_reports(rng, users["minh"], now)
    return {
        "do_not_call": registered,
        "imports": len(jobs),
        "reports": sum(j.created_count for j in jobs) + typed,
        "refused_rows": sum(j.error_count for j in jobs),
        "duplicates": sum(j.duplicate_count for j in jobs),
    }


def _typed_reports(rng, official, now):
    """Complaints typed in by the official from letters and calls, some with a screenshot."""
    made = 0
    for i in range(24):
        sender = rng.choice(["0398 765 432", "0868 112 233", "Shop.VN24", "0909 888 777", "8077"])
        at = now - timedelta(days=rng.randint(1, 12), hours=rng.randint(0, 9))
        at = at.replace(hour=rng.randint(8, 20))
        evidence = []
        if i % 4 == 0:
            evidence = [SimpleUploadedFile(f"anh-chup-tin-nhan-{i + 1}.png", _png(), "image/png")]
        content = _content(rng, rng.choice(["vay", "km", "bds"]), i)
        if i == 5:  # pasted from a phone with its link: stored as given, shown escaped
            content += ' <a href="http://vaynhanh.online">Bấm vào đây</a>'
        services.submit_report(
            official,
            channel="sms",
            sender=sender,
            recipient=f"0{rng.choice(['96', '91', '90'])}{rng.randrange(10**7):07d}",
            content=content,
            received_at=min(at, now - timedelta(minutes=5)),
            evidence=evidence,
        )
        made += 1
    return made


# --- Handling: statuses, assignments, answers -------------------------------------------------------


def _staff_for(case, users, orgs, rng):
    """(operator, the user who answers for it): its staff, or the official recording the answer."""
    if case.sender_kind == "brandname" or case.operator_id is None:
        code = rng.choice(list(STAFF))
    else:
        code = next((c for c, o in orgs.items() if o.pk == case.operator_id), None)
    operator = orgs.get(code) or orgs["VIETTEL"]
    return operator, users.get(STAFF.get(operator.code), users["minh"])


def load_handling(rng, users, now=None):
    now = now or timezone.now()
    minh, ha = users["minh"], users["ha"]
    orgs = {o.code: o for o in Organization.objects.filter(code__in=[*STAFF, "VIETNAMOBILE"])}
    open_statuses = SpamCase.OPEN
    journey = SpamCase.objects.get(sender=JOURNEY_SENDER, status__in=open_statuses)
    services.change_status(
        minh, journey, "verifying", note="Nhiều phản ánh qua 5656; đề nghị VNPT cung cấp thông tin."
    )
    cases = list(
        SpamCase.objects.exclude(pk=journey.pk)
        .exclude(sender_kind="email")
        .filter(report_count__gte=3)
        .order_by("-report_count", "id")[: len(PLAN)]
    )
    plan_ = list(PLAN)
    rng.shuffle(plan_)
    times, counts_ = {}, {}
    for case, outcome in zip(cases, plan_, strict=False):
        counts_[outcome] = counts_.get(outcome, 0) + 1
        seen = max(case.first_seen_at, now - timedelta(days=80))
        latest = now - timedelta(days=4)
        assigned = seen + (latest - seen) * rng.uniform(0.2, 1.0) if latest > seen else latest
        _handle(case, outcome, assigned, now, rng, users, orgs, times)
    for email_case in SpamCase.objects.filter(sender_kind="email").order_by("-report_count")[:6]:
        services.change_status(ha, email_case, "verifying")
    for pk, (confirmed, closed) in times.items():
        values = {"confirmed_at": confirmed} if confirmed else {}
        if closed:
            values["closed_at"] = closed
        if values:
            SpamCase.objects.filter(pk=pk).update(**values)
    invalid = _invalid_reports(rng, minh)
    successors = _successors(rng, minh, now)
    run = services.flag_overdue(now=now)
    return {"handled": len(cases), "invalid": invalid, "successors": successors,
            "overdue": run.flagged, **counts_}  # fmt: skip


def _handle(case, outcome, assigned, now, rng, users, orgs, times):
    minh = users["minh"]
    operator, staff = _staff_for(case, users, orgs, rng)
    hours = rng.choice([12, 24, 24, 24, 48])
    if outcome in ("verifying", "confirmed", "not_spam", "closed"):
        services.change_status(minh, case, "verifying")
        if outcome == "not_spam":
            services.change_status(minh, case, "not_spam", note=rng.choice(NOT_SPAM))
            times[case.pk] = (None, assigned)
        elif outcome in ("confirmed", "closed"):
            services.change_status(minh, case, "confirmed", note="Đủ căn cứ xác định tin rác.")
            closed = None
            if outcome == "closed":
                services.change_status(minh, case, "closed", note="Thuê bao đã ngừng hoạt động.")
                closed = assigned + timedelta(days=rng.randint(2, 10))
            times[case.pk] = (assigned, closed)
        return
    if outcome == "pending":
        assigned = now - timedelta(hours=rng.uniform(1, hours - 1))
    elif outcome == "overdue":
        assigned = now - timedelta(hours=hours + rng.uniform(3, 90))
    if outcome != "pending" and rng.random() < 0.5:
        services.change_status(minh, case, "confirmed")
    action = services.assign(
        minh, case, operator=operator, sla_hours=hours, now=assigned,
        instructions="Đề nghị xác minh, ngăn chặn và báo cáo kết quả xử lý.",
    )  # fmt: skip
    confirmed = assigned if case.status == "confirmed" else None
    if outcome in ("pending", "overdue"):
        times[case.pk] = (confirmed, None)
        return
    late = outcome == "blocked_late"
    spent = rng.uniform(hours * 1.1, hours * 3) if late else rng.uniform(0.5, hours * 0.9)
    answered = assigned + timedelta(hours=spent)
    if outcome == "declined":
        services.respond(staff, action, "declined", note=rng.choice(DECLINED), now=answered)
        times[case.pk] = (confirmed, None)
        return
    if outcome == "verified":
        services.respond(
            staff, action, "verified", note="Đã xác minh, đang theo dõi.", now=answered
        )
        times[case.pk] = (confirmed or answered, None)
        return
    kind = "suspended_brandname" if case.sender_kind == "brandname" else "blocked_number"
    note = (
        "Đã tạm ngừng brandname 30 ngày." if kind == "suspended_brandname" else "Đã chặn 2 chiều."
    )
    services.respond(staff, action, kind, note=note, now=answered)
    closed = None
    if outcome == "blocked_closed":
        services.change_status(minh, case, "closed", note="Đã xử lý xong, đóng hồ sơ.")
        closed = answered + timedelta(days=rng.randint(1, 5))
    times[case.pk] = (confirmed or answered, closed)


def _invalid_reports(rng, official):
    ids = list(
        SpamReport.objects.filter(status="received", case__status__in=["new", "verifying"])
        .exclude(sender=JOURNEY_SENDER)
        .order_by("id")
        .values_list("id", flat=True)[:4000]
    )
    for pk in rng.sample(ids, min(40, len(ids))):
        services.mark_report(official, SpamReport(pk=pk), valid=False, reason=rng.choice(INVALID))
    return min(40, len(ids))


def _successors(rng, official, now):
    """Three closed senders came back: their new reports open a successor case."""
    made = 0
    closed = SpamCase.objects.filter(status="closed", sender_kind="phone").order_by("id")[:3]
    for case in closed:
        services.submit_report(
            official,
            channel="sms",
            sender=case.sender,
            recipient=f"09{rng.randrange(10**8):08d}",
            content="Vay tiền nhanh, giải ngân trong ngày, không thẩm định. LH ngay",
            received_at=now - timedelta(hours=rng.randint(2, 30)),
        )
        made += 1
    return made


# --- Subscriber-information inspections -------------------------------------------------------------


def load_inspections(users, today=None):
    today = today or timezone.localdate()
    orgs = {o.code: o for o in Organization.objects.filter(code__in=[*STAFF, "CUC_VT", "SO_KHCN_HN"])}  # fmt: skip
    made = 0
    for operator, agency, ref, ago, sample, bad, within, follow_ups, closed in INSPECTIONS:
        inspected = today - timedelta(days=ago)
        official = users["ha"] if agency == "CUC_VT" else users["minh"]
        inspection = services.save_inspection(
            official,
            operator=orgs[operator],
            inspecting_agency=orgs[agency],
            reference=ref,
            inspected_on=inspected,
            sample_size=sample,
            nonconforming=bad,
            findings=f"{bad} thuê bao không khớp một trong bốn trường thông tin bắt buộc. "
            + INSPECTION_TEXT,
            actions_required=ACTIONS_REQUIRED,
            deadline=inspected + timedelta(days=within),
        )
        for after, remedied, closes in follow_ups:
            services.record_follow_up(
                users[STAFF[operator]],
                inspection,
                recorded_on=min(inspected + timedelta(days=after), today),
                note=f"Đã chuẩn hoá {remedied} thuê bao; khoá một chiều các thuê bao chưa bổ sung.",
                remedied=remedied,
                close=closes,
            )
        if closed:
            services.close_inspection(official, inspection)
        made += 1
    return made


# --- Entry point -----------------------------------------------------------------------------------


# The demo's complaints arrive in a few minutes of imports; in the story they were stored within
# an hour of being received, and verified (or found invalid) within two days: the reports of past
# periods (reports app) then count them where they belong.
DATE_REPORTS_SQL = """
    UPDATE spam_reports_spamreport
    SET created_at = LEAST(now(), received_at + interval '1 hour'),
        status_changed_at = CASE WHEN status_changed_at IS NULL THEN NULL
                                 ELSE LEAST(now(), received_at + interval '2 days') END
"""


def date_reports():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(DATE_REPORTS_SQL)


def load(stdout=None):
    """Load the demo complaints, their handling and the inspections (each part once)."""
    from core import demo as core_demo

    started = timezone.now()
    if User.objects.filter(username__in=DEMO_USERNAMES).count() != len(DEMO_USERNAMES):
        core_demo.load()
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES)}
    result = {"do_not_call": 0, "imports": 0, "reports": 0, "refused_rows": 0, "duplicates": 0,
              "handled": 0, "inspections": 0}  # fmt: skip
    with transaction.atomic():
        if not ImportJob.objects.filter(kind=KIND, options__demo=True).exists():
            result.update(load_reports(random.Random(SEED), users))
            result.update(load_handling(random.Random(SEED + 1), users))
            result["reports"] += result["successors"]
            date_reports()
    with transaction.atomic():
        if not SubscriberInspection.objects.filter(reference=INSPECTIONS[0][2]).exists():
            result["inspections"] = load_inspections(users)
            services.flag_overdue()
    if stdout:
        seconds = (timezone.now() - started).total_seconds()
        stdout.write(
            f"spam_reports: {result['reports']} reports in {result['imports']} imports "
            f"({result['refused_rows']} rows refused, {result['duplicates']} duplicates), "
            f"{result['handled']} cases handled, {result['do_not_call']} do-not-call numbers, "
            f"{result['inspections']} inspections created ({seconds:.1f} s)."
        )
    return result
