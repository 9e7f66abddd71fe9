"""The case's first / last seen follow deletes and changed times too.

Migration 0002's trigger only widened first_seen_at / last_seen_at (LEAST / GREATEST of the new rows),
so deleting a case's earliest or latest report, or moving a report's time received, left them stale.
Now the statement's net change per (case, time received) is taken: a time that only gains rows widens
the range as before (no extra read); when the rows at the current first (or last) time go, that
bound is read again from the case's reports (AFTER the statement, so it sees the final state).
A status-only update has no net change per time and costs nothing here.
"""

from importlib import import_module

from django.db import migrations

PREVIOUS = import_module("spam_reports.migrations.0002_rollup_triggers").FUNCTION

FUNCTION = r"""
CREATE OR REPLACE FUNCTION spam_reports_rollup() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    delta text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        delta := 'SELECT n.*, 1 AS sign FROM new_rows n';
    ELSIF TG_OP = 'DELETE' THEN
        delta := 'SELECT o.*, -1 AS sign FROM old_rows o';
    ELSE
        delta := 'SELECT n.*, 1 AS sign FROM new_rows n UNION ALL SELECT o.*, -1 FROM old_rows o';
    END IF;

    EXECUTE 'WITH d AS (' || delta || ')
        INSERT INTO spam_reports_dailystat AS s (day, operator_id, channel, received, verified, invalid)
        SELECT (received_at AT TIME ZONE ''Asia/Ho_Chi_Minh'')::date, sender_operator_id, channel,
               sum(sign), coalesce(sum(sign) FILTER (WHERE status = ''verified''), 0),
               coalesce(sum(sign) FILTER (WHERE status = ''invalid''), 0)
        FROM d GROUP BY 1, 2, 3
        HAVING sum(sign) <> 0 OR coalesce(sum(sign) FILTER (WHERE status = ''verified''), 0) <> 0
            OR coalesce(sum(sign) FILTER (WHERE status = ''invalid''), 0) <> 0
        ORDER BY 1, 2, 3
        ON CONFLICT (day, operator_id, channel) DO UPDATE SET
            received = s.received + EXCLUDED.received,
            verified = s.verified + EXCLUDED.verified,
            invalid = s.invalid + EXCLUDED.invalid';

    EXECUTE 'WITH d AS (' || delta || ')
        INSERT INTO spam_reports_casemonth AS m (month, case_id, reports)
        SELECT date_trunc(''month'', received_at AT TIME ZONE ''Asia/Ho_Chi_Minh'')::date, case_id, sum(sign)
        FROM d GROUP BY 1, 2 HAVING sum(sign) <> 0 ORDER BY 2, 1
        ON CONFLICT (case_id, month) DO UPDATE SET reports = m.reports + EXCLUDED.reports';

    EXECUTE 'WITH d AS (' || delta || '),
        t AS (SELECT case_id, received_at, sum(sign) AS net FROM d
              GROUP BY case_id, received_at HAVING sum(sign) <> 0),
        c AS (SELECT case_id, sum(net) AS n,
                     min(received_at) FILTER (WHERE net > 0) AS first_at,
                     max(received_at) FILTER (WHERE net > 0) AS last_at,
                     min(received_at) FILTER (WHERE net < 0) AS gone_first,
                     max(received_at) FILTER (WHERE net < 0) AS gone_last
              FROM t GROUP BY case_id ORDER BY case_id)
        UPDATE spam_reports_spamcase k SET
            report_count = k.report_count + c.n,
            first_seen_at = CASE
                WHEN c.gone_first IS NOT NULL AND c.gone_first <= k.first_seen_at THEN
                    (SELECT min(r.received_at) FROM spam_reports_spamreport r WHERE r.case_id = k.id)
                ELSE LEAST(k.first_seen_at, c.first_at) END,
            last_seen_at = CASE
                WHEN c.gone_last IS NOT NULL AND c.gone_last >= k.last_seen_at THEN
                    (SELECT max(r.received_at) FROM spam_reports_spamreport r WHERE r.case_id = k.id)
                ELSE GREATEST(k.last_seen_at, c.last_at) END
        FROM c WHERE k.id = c.case_id';
    RETURN NULL;
END
$fn$;
"""


class Migration(migrations.Migration):
    dependencies = [("spam_reports", "0003_recipient_index")]

    operations = [migrations.RunSQL(FUNCTION, PREVIOUS)]
