"""The change feed's capture: database triggers that write every create, update and delete of a
synced resource into ``core_change``, with the record's API Feature built by PostgreSQL.

- One statement-level trigger per resource table and operation, with transition tables: a bulk
  ``INSERT … SELECT``, ``UPDATE`` or COPY-fed upsert writes its changes in one statement.
- The Feature is the resource's GeoJSON (its ``properties``), compiled from the ORM into SQL once, so
  the feed gives what the API gives. An update that leaves the Feature as it was writes nothing.
- ``version`` counts the record's changes (1 at creation).
- ``seq`` is left empty; a deferred constraint trigger numbers the transaction's changes at commit
  while holding an advisory lock, so numbers follow commit order (see ``SEQUENCE_SQL``).

The per-resource trigger functions are generated from the registry and (re)installed after every
``migrate`` (``install``), so a changed property list takes effect without a hand-written migration.
"""

from django.db import connection
from django.db.models import F
from django.db.models.expressions import RawSQL

from core import sync
from core.geojson import feature_expression

LOCK_KEY = 730_001  # pg_advisory_xact_lock key of the feed's commit-order section

SEQUENCE_SQL = f"""
CREATE SEQUENCE IF NOT EXISTS core_change_seq_counter;

CREATE OR REPLACE FUNCTION core_change_sequence() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tx bigint := pg_current_xact_id()::text::bigint;
    n bigint;
    base bigint;
BEGIN
    -- Fired once per change row at commit; the first firing numbers them all, the others find none.
    IF NOT EXISTS (SELECT 1 FROM core_change WHERE txid = tx AND seq IS NULL) THEN
        RETURN NULL;
    END IF;
    -- Held until the transaction's end (after its commit is visible): the next committer numbers
    -- its changes after ours, so a reader never finds a lower number appearing later.
    PERFORM pg_advisory_xact_lock({LOCK_KEY});
    SELECT count(*) INTO n FROM core_change WHERE txid = tx AND seq IS NULL;
    base := nextval('core_change_seq_counter');
    IF n > 1 THEN
        PERFORM setval('core_change_seq_counter', base + n - 1);
    END IF;
    UPDATE core_change c SET seq = base + r.rn - 1
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn
          FROM core_change WHERE txid = tx AND seq IS NULL) r
    WHERE c.id = r.id;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS core_change_sequence ON core_change;
CREATE CONSTRAINT TRIGGER core_change_sequence AFTER INSERT ON core_change
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION core_change_sequence();
"""

SEQUENCE_REVERSE_SQL = """
DROP TRIGGER IF EXISTS core_change_sequence ON core_change;
DROP FUNCTION IF EXISTS core_change_sequence();
DROP SEQUENCE IF EXISTS core_change_seq_counter;
"""


def _inline(sql, params):
    """The query with its parameters written in (for a trigger body)."""
    if not params:
        return sql
    with connection.cursor() as cursor:
        text = cursor.mogrify(sql, params)
    return text.decode() if isinstance(text, bytes) else text


def state_sql(resource, ids_sql):
    """SELECT id, public_id, org_id, state (jsonb) of the resource's rows whose id is in ``ids_sql``."""
    queryset = (
        resource.state_queryset()
        .filter(pk__in=RawSQL(ids_sql, ()))
        .annotate(
            sync_state=feature_expression(
                geometry=resource.geometry,
                properties=resource.properties,
                id_field="public_id",
            ),
            sync_org=F(resource.org_field) if resource.org_field else RawSQL("NULL::bigint", ()),
        )
        .order_by()
        .values("id", "public_id", "sync_org", "sync_state")
    )
    sql, params = queryset.query.sql_with_params()
    return _inline(sql, params)


def _last(resource, alias):
    return f"""LEFT JOIN LATERAL (
        SELECT c.version, c.data FROM core_change c
        WHERE c.resource = '{resource.name}' AND c.object_id = {alias}.id
        ORDER BY c.id DESC LIMIT 1) last ON true"""


def _function_name(resource, op):
    return f"sync_capture_{resource.name.replace('-', '_')}_{op}"


def _insert(resource, source_sql):
    columns = "txid, resource, object_id, public_id, action, version, org_id, data, changed_at"
    return f"""
        INSERT INTO core_change ({columns})
        SELECT pg_current_xact_id()::text::bigint, '{resource.name}', s.id, s.public_id,
               CASE WHEN last.version IS NULL THEN 'create' ELSE 'update' END,
               COALESCE(last.version, 0) + 1, s.sync_org, s.sync_state::jsonb, clock_timestamp()
        FROM ({source_sql}) s
        {_last(resource, "s")}
        WHERE last.data IS DISTINCT FROM s.sync_state::jsonb
        ORDER BY s.id"""


def trigger_sql(resource):
    """CREATE FUNCTION and CREATE TRIGGER statements of one resource (insert, update, delete)."""
    table = resource.table
    org_column = (
        resource.model._meta.get_field(resource.org_field).column if resource.org_field else None
    )
    statements = []
    for op, transition in (("insert", "NEW"), ("update", "NEW")):
        body = _insert(resource, state_sql(resource, "SELECT id FROM sync_rows"))
        statements.append((_function_name(resource, op), op, transition, body))
    delete_body = f"""
        INSERT INTO core_change (txid, resource, object_id, public_id, action, version, org_id,
                                 data, changed_at)
        SELECT pg_current_xact_id()::text::bigint, '{resource.name}', o.id, o.public_id, 'delete',
               COALESCE(last.version, 0) + 1, {f"o.{org_column}" if org_column else "NULL"}, NULL,
               clock_timestamp()
        FROM sync_rows o
        {_last(resource, "o")}
        ORDER BY o.id"""
    statements.append((_function_name(resource, "delete"), "delete", "OLD", delete_body))
    sql = []
    for function, op, transition, body in statements:
        trigger = function
        sql.append(
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n{body};\nRETURN NULL;\nEND $$;"
        )
        sql.append(f"DROP TRIGGER IF EXISTS {trigger} ON {table};")
        sql.append(
            f"CREATE TRIGGER {trigger} AFTER {op.upper()} ON {table} "
            f"REFERENCING {transition} TABLE AS sync_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {function}();"
        )
    return sql


def seed_sql(resource):
    """Changes for the rows that have none yet (records stored before the feed existed)."""
    missing = (
        f"SELECT t.id FROM {resource.table} t WHERE NOT EXISTS (SELECT 1 FROM core_change c "
        f"WHERE c.resource = '{resource.name}' AND c.object_id = t.id)"
    )
    return _insert(resource, state_sql(resource, missing))


def install(seed=True, using=None):
    """(Re)create every resource's capture triggers; with ``seed``, record the rows that have no
    change yet as created (once, when a resource first joins the feed)."""
    with connection.cursor() as cursor:
        for resource in sync.resources().values():
            cursor.execute(
                "SELECT 1 FROM pg_trigger WHERE tgname = %s",
                [_function_name(resource, "insert")],
            )
            new = cursor.fetchone() is None
            for statement in trigger_sql(resource):
                cursor.execute(statement)
            if seed and new:
                cursor.execute(seed_sql(resource))


def on_post_migrate(sender, app_config=None, using="default", **kwargs):
    """post_migrate receiver: install once, after the last app (reports) has migrated."""
    from django.apps import apps

    last = list(apps.get_app_configs())[-1]
    if app_config is not None and app_config.label != last.label:
        return
    if "core_change" not in connection.introspection.table_names():
        return
    from django.db import transaction

    with transaction.atomic():
        install()
