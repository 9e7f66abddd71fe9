"""Rollups kept by the database: every insert, update or delete of reports (one row from a form or
100,000 from an import's INSERT … SELECT) adjusts, in the same transaction and in one statement per
rollup, the case's report count and first / last seen, DailyStat and CaseMonth.

Statement-level triggers with transition tables: the work is per statement, grouped, not per row.
Rows are upserted in key order so that concurrent writers lock them in the same order.
"""

from django.db import migrations

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
        c AS (SELECT case_id, sum(sign) AS n,
                     min(received_at) FILTER (WHERE sign > 0) AS first_at,
                     max(received_at) FILTER (WHERE sign > 0) AS last_at
              FROM d GROUP BY case_id HAVING sum(sign) <> 0 ORDER BY case_id)
        UPDATE spam_reports_spamcase k SET
            report_count = k.report_count + c.n,
            first_seen_at = CASE WHEN c.first_at IS NULL THEN k.first_seen_at
                                 ELSE LEAST(k.first_seen_at, c.first_at) END,
            last_seen_at = CASE WHEN c.last_at IS NULL THEN k.last_seen_at
                                ELSE GREATEST(k.last_seen_at, c.last_at) END
        FROM c WHERE k.id = c.case_id';
    RETURN NULL;
END
$fn$;
"""

TRIGGERS = """
CREATE TRIGGER spam_reports_rollup_insert AFTER INSERT ON spam_reports_spamreport
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION spam_reports_rollup();
CREATE TRIGGER spam_reports_rollup_update AFTER UPDATE ON spam_reports_spamreport
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION spam_reports_rollup();
CREATE TRIGGER spam_reports_rollup_delete AFTER DELETE ON spam_reports_spamreport
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION spam_reports_rollup();
"""

REVERSE = """
DROP TRIGGER IF EXISTS spam_reports_rollup_insert ON spam_reports_spamreport;
DROP TRIGGER IF EXISTS spam_reports_rollup_update ON spam_reports_spamreport;
DROP TRIGGER IF EXISTS spam_reports_rollup_delete ON spam_reports_spamreport;
DROP FUNCTION IF EXISTS spam_reports_rollup();
"""


class Migration(migrations.Migration):
    dependencies = [("spam_reports", "0001_initial")]

    operations = [migrations.RunSQL(FUNCTION + TRIGGERS, REVERSE)]
