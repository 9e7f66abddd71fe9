"""The checks of Decree 91/2020/NĐ-CP on a case, each a named rule evaluated in the database.

A rule flags a case when one of its reports (not marked invalid) shows the breach. Evaluation is
incremental: ``flag_reports(ids)`` looks at the given reports only (with the 24-hour windows around
them) and adds flags; ``refresh_cases(ids)`` recomputes a case from all its reports (after reports
are marked invalid, flags may go).
"""

from django.db import connection
from django.utils.translation import gettext_lazy as _

RULES = {
    "ordinary_number_ads": {
        "label": _("Advertising from an ordinary number"),
        "basis": _(
            "Advertising messages must be sent under a registered brandname "
            "(Decree 91/2020/NĐ-CP, art. 3 and 11)."
        ),
    },
    "sms_outside_hours": {
        "label": _("Messages outside 07:00–22:00"),
        "basis": _(
            "Advertising messages only from 07:00 to 22:00 (Decree 91/2020/NĐ-CP, art. 12)."
        ),
    },
    "call_outside_hours": {
        "label": _("Calls outside 08:00–17:00"),
        "basis": _("Advertising calls only from 08:00 to 17:00 (Decree 91/2020/NĐ-CP, art. 12)."),
    },
    "too_many_messages": {
        "label": _("More than 3 messages to one recipient in 24 hours"),
        "basis": _(
            "At most 3 advertising messages to one number in 24 hours "
            "(Decree 91/2020/NĐ-CP, art. 12)."
        ),
    },
    "too_many_calls": {
        "label": _("More than 1 call to one recipient in 24 hours"),
        "basis": _(
            "At most 1 advertising call to one number in 24 hours (Decree 91/2020/NĐ-CP, art. 12)."
        ),
    },
    "do_not_call": {
        "label": _("Recipient on the do-not-call list"),
        "basis": _(
            "No advertising to numbers registered as refusing it (Decree 91/2020/NĐ-CP, art. 12)."
        ),
    },
}
CHOICES = [(code, rule["label"]) for code, rule in RULES.items()]

# (case_id, rule) for every breach that the reports in ``r`` show. A window of more than N messages
# that includes report r ends at some message m within 24 hours after r; counting the 24 hours
# before each such m is exact, and an index on (case, recipient, received_at) keeps it short.
HITS_SQL = """
WITH r AS (
    SELECT x.id, x.case_id, x.channel, x.sender_kind, x.recipient, x.received_at,
           (x.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::time AS local_time,
           CASE WHEN %(skip)s THEN k.flags ELSE '{{}}' END AS had
    FROM spam_reports_spamreport x JOIN spam_reports_spamcase k ON k.id = x.case_id
    WHERE {where} AND x.status <> 'invalid'
)
SELECT case_id, 'ordinary_number_ads' AS rule FROM r
WHERE channel = 'sms' AND sender_kind = 'phone' AND NOT 'ordinary_number_ads' = ANY(had)
UNION
SELECT case_id, 'sms_outside_hours' FROM r
WHERE channel = 'sms' AND (local_time < '07:00' OR local_time >= '22:00')
  AND NOT 'sms_outside_hours' = ANY(had)
UNION
SELECT case_id, 'call_outside_hours' FROM r
WHERE channel = 'call' AND (local_time < '08:00' OR local_time >= '17:00')
  AND NOT 'call_outside_hours' = ANY(had)
UNION
SELECT r.case_id, 'do_not_call' FROM r
JOIN spam_reports_donotcallentry d
  ON d.number = r.recipient
 AND d.registered_on <= (r.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
WHERE r.channel IN ('sms', 'call') AND NOT 'do_not_call' = ANY(r.had)
UNION
SELECT r.case_id, CASE r.channel WHEN 'sms' THEN 'too_many_messages' ELSE 'too_many_calls' END
FROM r
WHERE r.channel IN ('sms', 'call') AND r.recipient <> ''
  AND NOT (CASE r.channel WHEN 'sms' THEN 'too_many_messages' ELSE 'too_many_calls' END) = ANY(r.had)
  AND EXISTS (
    SELECT 1 FROM spam_reports_spamreport m
    WHERE m.case_id = r.case_id AND m.recipient = r.recipient AND m.channel = r.channel
      AND m.status <> 'invalid'
      AND m.received_at >= r.received_at AND m.received_at < r.received_at + interval '24 hours'
      AND (SELECT count(*) FROM spam_reports_spamreport x
           WHERE x.case_id = r.case_id AND x.recipient = r.recipient AND x.channel = r.channel
             AND x.status <> 'invalid'
             AND x.received_at > m.received_at - interval '24 hours'
             AND x.received_at <= m.received_at) > CASE r.channel WHEN 'sms' THEN 3 ELSE 1 END
)
"""


def _apply(where, params, replace_for=None):
    """Add the hits to their cases' flags (or, for ``replace_for`` cases, set them to the hits).

    Adding skips the rules a case is already flagged for (a repeat offender's new reports cost
    little); replacing evaluates every rule."""
    hits = HITS_SQL.format(where=where)
    params = {**params, "skip": replace_for is None}
    with connection.cursor() as cursor:
        if replace_for is None:
            cursor.execute(
                f"""
                WITH h AS ({hits}), f AS (
                    SELECT case_id, array_agg(DISTINCT rule)::varchar(32)[] AS found FROM h GROUP BY case_id
                )
                UPDATE spam_reports_spamcase c
                SET flags = ARRAY(SELECT DISTINCT unnest(c.flags || f.found) ORDER BY 1)
                FROM f WHERE c.id = f.case_id AND NOT c.flags @> f.found
                """,
                params,
            )
        else:
            cursor.execute(
                f"""
                WITH h AS ({hits}), f AS (
                    SELECT k.id AS case_id,
                           ARRAY(SELECT DISTINCT h.rule FROM h WHERE h.case_id = k.id
                                 ORDER BY 1)::varchar(32)[] AS found
                    FROM spam_reports_spamcase k WHERE k.id = ANY(%(cases)s)
                )
                UPDATE spam_reports_spamcase c SET flags = f.found
                FROM f WHERE c.id = f.case_id AND c.flags IS DISTINCT FROM f.found
                """,
                {**params, "cases": list(replace_for)},
            )


def flag_reports(report_ids):
    """Add to their cases the flags these (new) reports show."""
    if report_ids:
        _apply("x.id = ANY(%(ids)s)", {"ids": list(report_ids)})


def refresh_cases(case_ids):
    """Recompute the cases' flags from all their reports (flags can go, e.g. after invalidation)."""
    if case_ids:
        _apply("x.case_id = ANY(%(cases)s)", {}, replace_for=case_ids)


def labels(flags):
    return [RULES[f]["label"] for f in flags if f in RULES]
