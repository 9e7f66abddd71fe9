"""Every write of the spam_reports app, by topic; this package re-exports their public names, so
``from spam_reports import services; services.submit_report(...)`` works everywhere.

- ``access``: who may do what (officials, reporters, operators answering);
- ``complaints``: reading, checking and filing reports (one by one, the 5656 form), evidence;
- ``cases``: cases and their moves (spam_reports.workflows), operators' assignments and answers,
  the overdue flags;
- ``do_not_call``: the do-not-call list;
- ``inspections``: subscriber-information inspections and their follow-ups;
- ``importing``: the bulk import of reports (a Celery job with a progress bar).

A new report attaches to its sender's open case (one open case per sender, guaranteed by a partial
unique index); the case's counters and the statistics' rollups follow by database triggers; the
Decree 91 checks (spam_reports.rules) add flags to the case. To replace a function in a test, patch
the module that defines it (``spam_reports.services.importing._store``), not this package.
"""

from spam_reports.services.access import (
    can_answer,
    can_report,
    is_spam_official,
)
from spam_reports.services.cases import (
    OverdueRun,
    allowed_answers,
    allowed_moves,
    assign,
    case_moved,
    change_status,
    flag_overdue,
    mark_report,
    may_assign,
    notify_answer,
    respond,
    set_case_operator,
)
from spam_reports.services.complaints import (
    CHANNELS,
    CLOCK_SKEW,
    CONTENT_MAX,
    DAY_FIRST,
    EVIDENCE_TYPES,
    FINGERPRINT_NS,
    Reading,
    add_evidence,
    attach_evidence,
    can_add_evidence,
    fingerprint,
    open_case_for,
    operator_for_number,
    parse_time,
    read_report,
    submit_5656,
    submit_report,
)
from spam_reports.services.do_not_call import register_do_not_call
from spam_reports.services.importing import (
    CHANNEL_ALIASES,
    CHUNK,
    EXPORT_5656_COLUMNS,
    GENERIC_COLUMNS,
    OPTIONAL_COLUMNS,
    can_import,
    import_reports,
    start_import,
)
from spam_reports.services.inspections import (
    INSPECTION_FIELDS,
    close_inspection,
    record_follow_up,
    save_inspection,
)

__all__ = [
    "CHANNELS",
    "CHANNEL_ALIASES",
    "CHUNK",
    "CLOCK_SKEW",
    "CONTENT_MAX",
    "DAY_FIRST",
    "EVIDENCE_TYPES",
    "EXPORT_5656_COLUMNS",
    "FINGERPRINT_NS",
    "GENERIC_COLUMNS",
    "INSPECTION_FIELDS",
    "OPTIONAL_COLUMNS",
    "OverdueRun",
    "Reading",
    "add_evidence",
    "allowed_answers",
    "allowed_moves",
    "assign",
    "attach_evidence",
    "can_add_evidence",
    "can_answer",
    "can_import",
    "can_report",
    "case_moved",
    "change_status",
    "close_inspection",
    "fingerprint",
    "flag_overdue",
    "import_reports",
    "is_spam_official",
    "mark_report",
    "may_assign",
    "notify_answer",
    "open_case_for",
    "operator_for_number",
    "parse_time",
    "read_report",
    "record_follow_up",
    "register_do_not_call",
    "respond",
    "save_inspection",
    "set_case_operator",
    "start_import",
    "submit_5656",
    "submit_report",
]
