"""Bulk import of reports from CSV/XLSX (a Celery job with a progress bar): streamed in chunks,
checked row by row, COPY-ed into a staging table, committed chunk by chunk so a retry resumes."""

import csv
import io
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.dateorder import ORDERS, DateOrder
from core.exceptions import (
    ImportRejected,
    InvalidInput,
    PermissionDenied,
)
from core.history import acting_as
from core.importmap import Field, key, resolve
from core.models import Organization
from core.permissions import is_operator_user
from core.textfiles import clean_cell
from spam_reports import rules, senders
from spam_reports.models import Origin
from spam_reports.services.access import is_spam_official
from spam_reports.services.complaints import operator_for_number, read_report

# --- Bulk import (a Celery job with a progress bar) -------------------------------------------------

GENERIC_COLUMNS = ("channel", "sender", "recipient", "content", "received_at")
OPTIONAL_COLUMNS = ("recipient_operator", "external_id")
EXPORT_5656_COLUMNS = ("reporter", "message", "received_at")
CHUNK = 5000
CHANNEL_ALIASES = {
    "sms": "sms",
    "tin nhắn": "sms",
    "tin nhan": "sms",
    "call": "call",
    "voice": "call",
    "cuộc gọi": "call",
    "cuoc goi": "call",
    "email": "email",
    "e-mail": "email",
    "thư điện tử": "email",
    "other": "other",
    "khác": "other",
    "khac": "other",
}
# Looked up as people type them: any case, with or without accents ("Tin nhan", "CUỘC GỌI").
CHANNEL_KEYS = {key(alias): channel for alias, channel in CHANNEL_ALIASES.items()}


def can_import(user):
    return is_spam_official(user) or is_operator_user(user)


def start_import(
    user,
    uploaded,
    origin=Origin.OPERATOR_FEED,
    date_order=None,
    mapping=None,
    mapping_name=None,
    enqueue=True,
    **options,
):
    """Queue a CSV/XLSX import of reports; returns the ImportJob whose page shows the progress.
    ``date_order`` ("dmy" / "mdy") says how the file writes dates when the file does not;
    ``mapping`` (or a saved ``mapping_name``) which column feeds which field (core.importmap)."""
    from core import imports

    if not can_import(user):
        raise PermissionDenied()
    if origin not in (Origin.OPERATOR_FEED, Origin.EXPORT_5656, Origin.OFFICIAL):
        raise InvalidInput({"origin": [_("Choose the kind of file.")]})
    name = (getattr(uploaded, "name", "") or "").lower()
    if not name.endswith((".csv", ".txt", ".xlsx")):
        raise InvalidInput({"file": [_("Upload a CSV or XLSX file.")]})
    if uploaded is not None and uploaded.size > settings.SPAM_IMPORT_MAX_BYTES:
        raise InvalidInput(
            {
                "file": [
                    _("The file is larger than %(mb)d MB.")
                    % {"mb": settings.SPAM_IMPORT_MAX_BYTES // (1024 * 1024)}
                ]
            }
        )
    if date_order not in (None, "", *ORDERS):
        raise InvalidInput({"date_order": [_("Choose day/month/year or month/day/year.")]})
    options = {
        **{k: v for k, v in options.items() if v not in (None, "")},
        "origin": origin,
        **({"date_order": date_order} if date_order else {}),
        **({"mapping": mapping} if mapping else {}),
        **({"mapping_name": mapping_name} if mapping_name else {}),
    }
    return imports.start(user, "spam_reports.reports", uploaded, options, enqueue=enqueue)


def _table(job, handle=None):
    """The job's file as core.tabular reads every import's: the encoding found (a file that is
    no text it can read is refused before anything is stored), the sheet and the header row
    (among the first rows) that either kind of file's fields recognise, totals rows left out;
    ``handle``: a binary file of it opened apart (a pass of its own)."""
    from core.tabular import Table

    mapping = job.options.get("mapping")

    def is_header(cells):
        for fields in (GENERIC_FIELDS, EXPORT_5656_FIELDS):
            try:
                if not resolve([c for c in cells if c], fields, mapping).missing(fields):
                    return True
            except ImportRejected:  # the mapping names the other kind's fields
                continue
        return False

    handle = handle or job.file.open("rb")
    return Table(handle, name=job.original_name, is_header=is_header, max_rows=None)


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean_cell(value)


GENERIC_FIELDS = (
    Field("channel", required=True, synonyms=("kênh", "loại", "type", "kind")),
    Field("sender", required=True, synonyms=("người gửi", "số gửi", "nguồn gửi", "from")),
    Field("recipient", required=True, synonyms=("người nhận", "số nhận", "thuê bao", "to")),
    Field("content", required=True, synonyms=("nội dung", "text", "body")),
    Field("received_at", required=True, synonyms=("thời gian", "thời điểm nhận", "ngày giờ")),
    Field("recipient_operator", synonyms=("nhà mạng nhận", "mạng nhận")),
    Field("external_id", synonyms=("mã", "id", "mã phản ánh")),
)
EXPORT_5656_FIELDS = (
    Field("reporter", required=True, synonyms=("thuê bao phản ánh", "số phản ánh")),
    Field("message", required=True, synonyms=("tin nhắn", "nội dung tin nhắn")),
    Field("received_at", required=True, synonyms=("thời gian", "thời điểm nhận", "ngày giờ")),
)


def _resolved(cells, fields, mapping):
    """The header resolved against ``fields``, or the refusal when the mapping names others."""
    try:
        return resolve(cells, fields, mapping)
    except ImportRejected as exc:
        return exc


def _header(first, mapping=None):
    """The file's columns as the import's fields ("" for a column that feeds none), the kind of
    file (a generic one, or the 5656 short code's export) and the notices (columns ignored).
    Columns are matched by name or synonym, or by the user's ``mapping`` (core.importmap)."""
    cells = [_cell(h) for h in first]
    generic = _resolved(cells, GENERIC_FIELDS, mapping)
    export = _resolved(cells, EXPORT_5656_FIELDS, mapping)
    if isinstance(generic, ImportRejected) and isinstance(export, ImportRejected):
        raise generic  # the mapping names fields neither kind of file has
    fed = set() if isinstance(generic, ImportRejected) else set(generic.columns.values())
    if not isinstance(export, ImportRejected) and (
        isinstance(generic, ImportRejected)
        or ("message" in export.columns.values() and "sender" not in fed)
    ):
        resolution, fields, kind = export, EXPORT_5656_FIELDS, "5656"
    else:
        resolution, fields, kind = generic, GENERIC_FIELDS, "generic"
    missing = resolution.missing(fields)
    if missing:
        raise ImportRejected(
            _("Missing columns: %(cols)s. The file needs: %(need)s.")
            % {
                "cols": ", ".join(missing),
                "need": ", ".join(f.name for f in fields if f.required),
            }
        )
    header = [resolution.columns.get(cell, "") for cell in cells]
    return header, kind, resolution.notices()


class _Reader:
    """Checks the rows of one import; remembers operators and what it has already seen."""

    def __init__(self, kind, now, date_order="dmy"):
        self.kind = kind
        self.now = now
        self.date_order = date_order
        self.operators = dict(
            Organization.objects.filter(kind=Organization.Kind.OPERATOR).values_list("code", "pk")
        )
        self.seen = {}
        self.prefix_operator = {}

    def operator_of(self, number):
        if not number.startswith("+84"):
            return None
        key = number[:7]
        if key not in self.prefix_operator:
            self.prefix_operator[key] = operator_for_number(number)
        return self.prefix_operator[key]

    def read(self, number, values):
        """(row tuple for COPY, None) or (None, [error dicts]); a duplicate is an error too."""
        if self.kind == "5656":
            try:
                channel, sender, content = senders.parse_5656(values.get("message", ""))
            except InvalidInput as exc:
                return None, _errors(number, exc.errors, values)
            recipient = values.get("reporter", "")
        else:
            channel = CHANNEL_KEYS.get(key(values.get("channel", "")), "?")
            sender, recipient = values.get("sender", ""), values.get("recipient", "")
            content = values.get("content", "")
        try:
            r = read_report(
                channel,
                sender,
                recipient,
                content,
                values.get("received_at"),
                self.now,
                date_order=self.date_order,
            )
        except InvalidInput as exc:
            return None, _errors(number, exc.errors, values)
        recipient_operator = values.get("recipient_operator", "").strip().upper()
        if recipient_operator and recipient_operator not in self.operators:
            return None, _errors(
                number,
                {
                    "recipient_operator": [
                        _("Unknown operator %(code)s.") % {"code": recipient_operator}
                    ]
                },
                values,
            )
        first = self.seen.get(r.fingerprint)
        if first is not None:
            return None, [
                {
                    "row": number,
                    "column": "",
                    "message": _("Duplicate of row %(row)d.") % {"row": first},
                    "duplicate": True,
                }
            ]
        self.seen[r.fingerprint] = number
        sender_operator = self.operator_of(r.sender) if r.sender_kind == "phone" else None
        recipient_operator_id = (
            self.operators[recipient_operator]
            if recipient_operator
            else self.operator_of(r.recipient)
        )
        return (
            number,
            r.channel,
            r.sender_raw,
            r.sender,
            r.sender_kind,
            sender_operator,
            r.recipient_raw,
            r.recipient,
            recipient_operator_id,
            r.content,
            r.received_at.isoformat(),
            str(r.fingerprint),
            values.get("external_id", "").strip()[:128],
        ), None


def _errors(number, errors, values=None):
    """The row's problems as the job keeps them: row, column, the value as written, message."""
    out = []
    for column, messages in errors.items():
        value = str((values or {}).get(column, ""))[:200]
        for message in messages if isinstance(messages, list) else [messages]:
            out.append({"row": number, "column": column, "value": value, "message": str(message)})
    return out


_STAGE_COLUMNS = (
    "row_number",
    "channel",
    "sender_raw",
    "sender",
    "sender_kind",
    "sender_operator_id",
    "recipient_raw",
    "recipient",
    "recipient_operator_id",
    "content",
    "received_at",
    "fingerprint",
    "external_id",
)
_STAGE_SQL = """
    CREATE TEMPORARY TABLE spam_import (
        row_number int, channel text, sender_raw text, sender text, sender_kind text,
        sender_operator_id bigint, recipient_raw text, recipient text, recipient_operator_id bigint,
        content text, received_at timestamptz, fingerprint uuid, external_id text
    ) ON COMMIT DROP
"""
_CASES_SQL = """
    INSERT INTO spam_reports_spamcase (public_id, created_at, updated_at, sender, sender_kind,
        operator_id, channel, status, flags, report_count, note, version)
    SELECT DISTINCT ON (sender) gen_random_uuid(), now(), now(), sender, sender_kind,
        sender_operator_id, channel, 'new', '{}', 0, '', 1
    FROM spam_import ORDER BY sender, received_at
    ON CONFLICT (sender) WHERE status IN ('new', 'verifying', 'confirmed', 'blocked') DO NOTHING
"""
# Imported reports get time-ordered public ids (the time in ms, then random hex): new ids land at
# the right edge of the unique index instead of on a random page of a 10-million-row index.
_REPORTS_SQL = """
    INSERT INTO spam_reports_spamreport (public_id, source, external_id, case_id, channel,
        sender_raw, sender, sender_kind, sender_operator_id, recipient_raw, recipient,
        recipient_operator_id, content, received_at, origin, reporting_organization_id,
        reported_by_id, status, invalid_reason, fingerprint, created_at, updated_at)
    SELECT (lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0') || '7'
            || substr(md5(random()::text || i.row_number), 1, 19))::uuid,
        CASE WHEN i.external_id <> '' THEN %(source)s ELSE '' END,
        COALESCE(i.external_id, ''), c.id, i.channel, i.sender_raw, i.sender, i.sender_kind,
        c.operator_id, COALESCE(i.recipient_raw, ''), COALESCE(i.recipient, ''),
        i.recipient_operator_id, COALESCE(i.content, ''), i.received_at,
        %(origin)s, %(org)s, %(user)s, 'received', '', i.fingerprint, now(), now()
    FROM spam_import i
    JOIN spam_reports_spamcase c
      ON c.sender = i.sender AND c.status IN ('new', 'verifying', 'confirmed', 'blocked')
    ORDER BY i.row_number
    ON CONFLICT DO NOTHING
    RETURNING id, fingerprint
"""


def _store(rows, job, user, origin):
    """COPY one chunk of checked rows, open the cases they need, insert the reports (duplicates of
    stored reports skipped) and flag the cases. Returns (stored, [duplicate error dicts])."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pg_temp.spam_import")
        cursor.execute(_STAGE_SQL)
        cursor.copy_expert(
            f"COPY spam_import ({', '.join(_STAGE_COLUMNS)}) FROM STDIN WITH (FORMAT csv, NULL '')",
            buffer,
        )
        cursor.execute(_CASES_SQL)
        cursor.execute(
            _REPORTS_SQL,
            {
                "source": user.organization.code if user and user.organization_id else "import",
                "origin": origin,
                "org": user.organization_id if user else None,
                "user": user.pk if user else None,
            },
        )
        stored = cursor.fetchall()
    kept = {str(fp) for _id, fp in stored}
    duplicates = [
        {
            "row": row[0],
            "column": "",
            "message": _("Already received (same sender, recipient, time and content)."),
            "duplicate": True,
        }
        for row in rows
        if row[11] not in kept
    ]
    rules.flag_reports([pk for pk, _fp in stored])
    return len(stored), duplicates


def _survey(job, header):
    """A pass of its own over the file: how many records it holds, and the order of its
    received_at dates, from the whole column (core.dateorder): the job's ``date_order`` option
    when the user chose one; day-first when the file proves it or has no date whose order
    matters (or, with a notice, when every date could be either); otherwise the file is refused,
    saying what it shows. Returns (total, order, notice)."""
    found = DateOrder("received_at")  # the column as the file names it
    at = header.index("received_at") if "received_at" in header else None
    total = 0
    with job.file.storage.open(job.file.name, "rb") as handle:
        for number, values in _table(job, handle).rows():
            total += 1
            if at is not None and at < len(values):
                found.see(number, _cell(values[at]))
    order = found.decide(job.options.get("date_order"))
    return total, order, found.notice


def import_reports(job, progress):
    """The Celery handler of a report import: stream the file in chunks of CHUNK rows, each chunk
    checked, stored and committed with the job's progress, so a retry after a crash resumes after
    the last committed chunk and stores nothing twice."""
    from core.imports import MAX_ERRORS, ImportCancelled, keep_errors
    from core.models import ImportJob

    user = job.created_by
    origin = job.options.get("origin", Origin.OPERATOR_FEED)
    table = _table(job)
    header, kind, notices = _header(table.header, job.options.get("mapping"))
    total, date_order, notice = _survey(job, header)
    notices = [*notices, *([notice] if notice else [])]
    reader = _Reader(kind, timezone.now(), date_order)
    resume_after = job.processed
    progress(job.processed, total=total)

    def flush(chunk, chunk_errors, processed):
        with transaction.atomic(), acting_as(user, action="spam_reports.import"):
            fresh = ImportJob.objects.select_for_update().get(pk=job.pk)
            if fresh.status == ImportJob.Status.CANCELLED:
                raise ImportCancelled()  # the chunks committed before stay
            stored, duplicates = _store(chunk, job, user, origin) if chunk else (0, [])
            problems = chunk_errors + duplicates
            keep_errors(job.pk, problems)  # every one; the job's list keeps the first
            fresh.processed = processed
            fresh.created_count += stored
            fresh.duplicate_count += sum(1 for e in problems if e.get("duplicate"))
            fresh.error_count += len({e["row"] for e in problems if not e.get("duplicate")})
            if len(fresh.errors) < MAX_ERRORS:
                fresh.errors = (fresh.errors + sorted(problems, key=lambda e: e["row"]))[
                    :MAX_ERRORS
                ]
            fresh.save(
                update_fields=[
                    "processed",
                    "created_count",
                    "duplicate_count",
                    "error_count",
                    "errors",
                    "updated_at",
                ]
            )

    chunk, chunk_errors, processed = [], [], 0
    for number, values in table.rows():
        processed += 1
        record = {h: _cell(v) for h, v in zip(header, values, strict=False) if h}
        row, errors = reader.read(number, record)
        if processed <= resume_after:
            continue  # committed by an earlier attempt; still read to know the duplicates
        if errors:
            chunk_errors += errors
        else:
            chunk.append(row)
        if len(chunk) + len(chunk_errors) >= CHUNK:
            flush(chunk, chunk_errors, processed)
            chunk, chunk_errors = [], []
    flush(chunk, chunk_errors, processed)
    job.refresh_from_db()
    done = _("%(stored)d reports stored, %(dup)d duplicates, %(bad)d rows refused.") % {
        "stored": job.created_count,
        "dup": job.duplicate_count,
        "bad": job.error_count,
    }
    ImportJob.objects.filter(pk=job.pk).update(notices=[*notices, *table.notices()])
    return " ".join([done, *notices])
