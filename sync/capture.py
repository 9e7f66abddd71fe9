"""The change feed's capture: database triggers that write every create, update and delete of a
synced resource into ``core_change``, with the record's API Feature built by PostgreSQL.

- One statement-level trigger per resource table and operation, with transition tables: a bulk
  ``INSERT … SELECT``, ``UPDATE`` or COPY-fed upsert writes its changes in one statement.
- The Feature is the resource's GeoJSON (its ``properties``), compiled from the ORM into SQL once, so
  the feed gives what the API gives. An update that leaves the Feature as it was writes nothing.
- Properties read from other tables (``operator__code``, a count of approved applications, a
  project's status) are followed too: the tables the compiled Feature query joins get "dependency"
  triggers that rewrite the Feature of the records a change there touches (only when a column the
  Feature reads changed). They lock those records first (``FOR NO KEY UPDATE``), so that writers of
  one record's Feature, direct or through a related table, take turns and the last event is the
  record's committed state.
- ``version`` counts the record's changes (1 at creation).
- ``seq`` is left empty; a deferred constraint trigger numbers the transaction's changes at commit
  while holding an advisory lock, so numbers follow commit order (see ``SEQUENCE_SQL``).

The per-resource trigger functions are generated from the registry and (re)installed after every
``migrate`` (``install``), so a changed property list takes effect without a hand-written migration.
"""

import hashlib

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import F
from django.db.models.expressions import Col, RawSQL

import sync
from core.geojson import feature_expression

LOCK_KEY = 730_001  # pg_advisory_xact_lock key of the feed's commit-order section
# Marks the installed numbering (COMMENT ON FUNCTION): ``install`` replaces an older one.
SEQUENCE_VERSION = "core.sync.capture v2"  # a stored marker: kept from before the move
TRIGGER_PREFIX = "sync_"  # every generated trigger and function name starts with it

# Why a WHEN condition: a constraint trigger is row-level, and one firing per change, each looking
# for the transaction's unnumbered changes, made a commit of n changes cost O(n²) (20,000 rows took
# 23 s at commit, under the lock). ``core_change_sequence_wanted`` queues one numbering per
# transaction instead (a transaction-local setting remembers that one is queued; the numbering
# clears it, so rows written after it, e.g. with SET CONSTRAINTS … IMMEDIATE, queue another). A
# savepoint rolled back takes its queued event and the setting back together.
SEQUENCE_SQL = f"""
CREATE SEQUENCE IF NOT EXISTS core_change_seq_counter;

CREATE OR REPLACE FUNCTION core_change_sequence_wanted() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('core.change_sequence_queued', true) = 'on' THEN
        RETURN false;
    END IF;
    PERFORM set_config('core.change_sequence_queued', 'on', true);
    RETURN true;
END $$;

CREATE OR REPLACE FUNCTION core_change_sequence() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tx bigint := pg_current_xact_id()::text::bigint;
    n bigint;
    top bigint;
BEGIN
    PERFORM set_config('core.change_sequence_queued', 'off', true);
    SELECT count(*) INTO n FROM core_change WHERE txid = tx AND seq IS NULL;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    -- Held until the transaction's end (after its commit is visible): the next committer numbers
    -- its changes after ours, so a reader never finds a lower number appearing later.
    PERFORM pg_advisory_xact_lock({LOCK_KEY});
    top := setval('core_change_seq_counter', nextval('core_change_seq_counter') + n - 1);
    UPDATE core_change c SET seq = top - n + r.rn
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn
          FROM core_change WHERE txid = tx AND seq IS NULL) r
    WHERE c.id = r.id;
    RETURN NULL;
END $$;

COMMENT ON FUNCTION core_change_sequence() IS '{SEQUENCE_VERSION}';

DROP TRIGGER IF EXISTS core_change_sequence ON core_change;
CREATE CONSTRAINT TRIGGER core_change_sequence AFTER INSERT ON core_change
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (core_change_sequence_wanted()) EXECUTE FUNCTION core_change_sequence();
"""

SEQUENCE_REVERSE_SQL = """
DROP TRIGGER IF EXISTS core_change_sequence ON core_change;
DROP FUNCTION IF EXISTS core_change_sequence();
DROP FUNCTION IF EXISTS core_change_sequence_wanted();
DROP SEQUENCE IF EXISTS core_change_seq_counter;
"""

COLUMNS = "txid, resource, object_id, public_id, action, version, org_id, data, changed_at"


def _q(name):
    return connection.ops.quote_name(name)


def _inline(sql, params):
    """The query with its parameters written in (for a trigger body)."""
    if not params:
        return sql
    with connection.cursor() as cursor:
        text = cursor.mogrify(sql, params)
    return text.decode() if isinstance(text, bytes) else text


def _state_queryset(resource, ids_sql):
    return (
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


def state_sql(resource, ids_sql):
    """SELECT id, public_id, org_id, state (jsonb) of the resource's rows whose id is in ``ids_sql``."""
    sql, params = _state_queryset(resource, ids_sql).query.sql_with_params()
    return _inline(sql, params)


def _last(resource, alias):
    return f"""LEFT JOIN LATERAL (
        SELECT c.version, c.action, c.data FROM core_change c
        WHERE c.resource = '{resource.name}' AND c.object_id = {alias}.id
        ORDER BY c.id DESC LIMIT 1) last ON true"""


def _function_name(resource, op):
    return f"{TRIGGER_PREFIX}capture_{resource.name.replace('-', '_')}_{op}"


def _insert(resource, source_sql):
    """INSERT the changes of the rows ``source_sql`` gives (id, public_id, sync_org, sync_state)
    whose Feature differs from their last change."""
    return f"""
        INSERT INTO core_change ({COLUMNS})
        SELECT pg_current_xact_id()::text::bigint, '{resource.name}', s.id, s.public_id,
               CASE WHEN last.version IS NULL OR last.action = 'delete' THEN 'create'
                    ELSE 'update' END,
               COALESCE(last.version, 0) + 1, s.sync_org, s.state, clock_timestamp()
        FROM (
            -- OFFSET 0 keeps the subquery whole: each Feature is built (and made jsonb) once,
            -- not once for the comparison and again for the row written.
            SELECT f.id, f.public_id, f.sync_org, f.sync_state::jsonb AS state
            FROM ({source_sql}) f OFFSET 0
        ) s
        {_last(resource, "s")}
        WHERE last.data IS DISTINCT FROM s.state
        ORDER BY s.id"""


def _org_column(resource):
    if not resource.org_field:
        return None
    return resource.model._meta.get_field(resource.org_field).column


def _delete(resource, source_sql):
    org = _org_column(resource)
    return f"""
        INSERT INTO core_change ({COLUMNS})
        SELECT pg_current_xact_id()::text::bigint, '{resource.name}', o.id, o.public_id, 'delete',
               COALESCE(last.version, 0) + 1, {f"o.{_q(org)}" if org else "NULL"}, NULL,
               clock_timestamp()
        FROM ({source_sql}) o
        {_last(resource, "o")}
        WHERE last.action IS DISTINCT FROM 'delete'
        ORDER BY o.id"""


def _function(name, body, declare=""):
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"{declare}BEGIN\n{body};\nRETURN NULL;\nEND $$;"
    )


def _trigger(name, table, op, referencing):
    return [
        f"DROP TRIGGER IF EXISTS {name} ON {_q(table)};",
        f"CREATE TRIGGER {name} AFTER {op.upper()} ON {_q(table)} "
        f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {name}();",
    ]


def trigger_sql(resource):
    """CREATE FUNCTION and CREATE TRIGGER statements of one resource (insert, update, delete), and
    of the tables its Feature reads (see ``dependency_sql``)."""
    table = resource.table
    sql = []
    for op in ("insert", "update"):
        name = _function_name(resource, op)
        body = _insert(resource, state_sql(resource, "SELECT id FROM sync_rows"))
        sql += [_function(name, body), *_trigger(name, table, op, "NEW TABLE AS sync_rows")]
    name = _function_name(resource, "delete")
    sql += [
        _function(name, _delete(resource, "SELECT * FROM sync_rows")),
        *_trigger(name, table, "delete", "OLD TABLE AS sync_rows"),
    ]
    return sql + dependency_sql(resource)


# --- Properties read from other tables ----------------------------------------------------------


def _columns_read(expression, found):
    """Every (alias, column) an expression of the compiled query reads."""
    if expression is None:
        return
    if isinstance(expression, Col):
        found.add((expression.alias, expression.target.column))
        return
    for child in getattr(expression, "children", ()):  # WHERE nodes
        _columns_read(child, found)
    for side in ("lhs", "rhs"):  # lookups
        value = getattr(expression, side, None)
        if hasattr(value, "resolve_expression"):
            _columns_read(value, found)
    if hasattr(expression, "get_source_expressions"):
        for source in expression.get_source_expressions():
            _columns_read(source, found)


def dependencies(resource):
    """The other tables the resource's Feature reads: {table: [(path, columns read)]}, found in
    the compiled Feature query (its joins and the columns its expressions use), so a property
    through a foreign key, a reverse relation or an aggregate is followed without declaring it.

    A path lists (table, join columns as (parent, child) pairs, parent alias) for each join from
    that table up to the resource's table."""
    query = _state_queryset(resource, "SELECT 1").query
    query.get_compiler(connection=connection).as_sql()  # sets up the joins
    read = set()
    for annotation in query.annotations.values():
        _columns_read(annotation, read)
    _columns_read(query.where, read)
    base = query.base_table
    joins = {alias: join for alias, join in query.alias_map.items() if alias != base}
    found = {}
    for alias, join in joins.items():
        if not query.alias_refcount.get(alias):
            continue
        columns = {column for a, column in read if a == alias}
        columns |= {child for _parent, child in join.join_cols}
        for other in joins.values():  # a join further out hangs on this table's columns
            if other.parent_alias == alias:
                columns |= {parent for parent, _child in other.join_cols}
        path, step = [], alias
        while step != base:
            j = joins[step]
            path.append((j.table_name, j.join_cols, j.parent_alias))
            step = j.parent_alias
        found.setdefault(join.table_name, []).append((path, sorted(columns)))
    return found


def _affected_sql(resource, path, source_sql):
    """SELECT the ids of the resource's records that rows of the path's first table (given by
    ``source_sql``, all columns) reach through the joins."""
    base_table = resource.table
    for index, (_table, join_cols, _parent_alias) in enumerate(path):
        parent_table = base_table if index == len(path) - 1 else path[index + 1][0]
        left = ", ".join(f"p.{_q(parent)}" for parent, _child in join_cols)
        right = ", ".join(f"s.{_q(child)}" for _parent, child in join_cols)
        source_sql = (
            f"SELECT p.* FROM {_q(parent_table)} p "
            f"WHERE ({left}) IN (SELECT {right} FROM ({source_sql}) s)"
        )
    pk = _q(resource.model._meta.pk.column)
    return f"SELECT a.{pk} FROM ({source_sql}) a"


def _model_of(table):
    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table == table:
            return model
    return None


def _dependency_name(resource, table, op):
    return f"{TRIGGER_PREFIX}dep_{resource.name.replace('-', '_')}_{table}_{op}"[:63]


def dependency_sql(resource):
    """Triggers on the tables the Feature reads: a change of a column it reads rewrites the Feature
    of the records that change reaches (an update that changes no such column costs a comparison
    of the transition tables only)."""
    sql = []
    pk = _q(resource.model._meta.pk.column)
    for table, paths in dependencies(resource).items():
        model = _model_of(table)
        if model is None:
            continue
        table_pk = _q(model._meta.pk.column)
        for op in ("insert", "update", "delete"):
            parts = []
            for path, columns in paths:
                if op == "insert":
                    sources = ["SELECT * FROM sync_new"]
                elif op == "delete":
                    sources = ["SELECT * FROM sync_old"]
                else:
                    old = ", ".join(f"o.{_q(c)}::text" for c in columns)
                    new = ", ".join(f"n.{_q(c)}::text" for c in columns)
                    changed = (
                        f"FROM sync_old o JOIN sync_new n ON n.{table_pk} = o.{table_pk} "
                        f"WHERE ROW({old}, NULL) IS DISTINCT FROM ROW({new}, NULL)"
                    )
                    sources = [f"SELECT o.* {changed}", f"SELECT n.* {changed}"]
                parts += [_affected_sql(resource, path, source) for source in sources]
            name = _dependency_name(resource, table, op)
            ids = " UNION ".join(parts)
            body = f"""
    SELECT array_agg(DISTINCT a.id ORDER BY a.id) INTO sync_dep_ids FROM ({ids}) a(id);
    IF sync_dep_ids IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM {_q(resource.table)} r WHERE r.{pk} = ANY(sync_dep_ids)
        ORDER BY r.{pk} FOR NO KEY UPDATE;
    {_insert(resource, state_sql(resource, "SELECT unnest(sync_dep_ids)"))}"""
            referencing = {
                "insert": "NEW TABLE AS sync_new",
                "update": "OLD TABLE AS sync_old NEW TABLE AS sync_new",
                "delete": "OLD TABLE AS sync_old",
            }[op]
            sql += [
                _function(name, body, declare="DECLARE\n    sync_dep_ids bigint[];\n"),
                *_trigger(name, table, op, referencing),
            ]
    return sql


# --- Installing ----------------------------------------------------------------------------------


def seed_sql(resource):
    """Bring the feed level with the table (records stored before the resource joined the feed,
    or written while its triggers were missing): a create for a row without a change, an update for
    a row whose Feature differs from its last change, a delete for a record whose row is gone."""
    pk = _q(resource.model._meta.pk.column)
    rows = _insert(resource, state_sql(resource, f"SELECT {pk} FROM {_q(resource.table)}"))
    org = "c.org_id"
    gone = f"""
        INSERT INTO core_change ({COLUMNS})
        SELECT pg_current_xact_id()::text::bigint, c.resource, c.object_id, c.public_id, 'delete',
               c.version + 1, {org}, NULL, clock_timestamp()
        FROM (SELECT DISTINCT ON (object_id) * FROM core_change
              WHERE resource = '{resource.name}' ORDER BY object_id, id DESC) c
        WHERE c.action <> 'delete'
          AND NOT EXISTS (SELECT 1 FROM {_q(resource.table)} t WHERE t.{pk} = c.object_id)
        ORDER BY c.object_id"""
    return [rows, gone]


def _installed_sequence(cursor):
    cursor.execute(
        "SELECT obj_description(p.oid, 'pg_proc') FROM pg_proc p "
        "WHERE p.proname = 'core_change_sequence'"
    )
    row = cursor.fetchone()
    return row[0] if row else None


def definition(resource):
    """A fingerprint of the resource's Feature query: stored with its trigger function, it tells
    ``install`` when the Feature changed shape (a property added, renamed or computed otherwise)."""
    text = state_sql(resource, "SELECT id FROM sync_rows")
    return "feature " + hashlib.sha256(text.encode()).hexdigest()[:20]


def _installed(cursor, resource):
    """(trigger present, fingerprint stored) of a resource's insert capture."""
    name = _function_name(resource, "insert")
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = %s AND tgrelid = %s::regclass), "
        "(SELECT obj_description(p.oid, 'pg_proc') FROM pg_proc p WHERE p.proname = %s)",
        [name, resource.table, name],
    )
    return cursor.fetchone()


def install(seed=True, using=None):
    """(Re)create the numbering (when older than this code's) and every resource's capture
    triggers; drop generated triggers and functions no resource declares any more.

    With ``seed``, bring a resource level with its table (``seed_sql``) when its triggers were
    missing (records stored before it joined the feed, or while they were gone) or when its
    Feature changed shape (every record then gets an update with its Feature as it is now)."""
    db = connections[using or DEFAULT_DB_ALIAS]
    with db.cursor() as cursor:
        if _installed_sequence(cursor) != SEQUENCE_VERSION:
            cursor.execute(SEQUENCE_SQL)
        wanted = set()
        for resource in sync.resources().values():
            present, fingerprint = _installed(cursor, resource)
            expected = definition(resource)
            for statement in trigger_sql(resource):
                cursor.execute(statement)
                if statement.startswith("CREATE TRIGGER "):
                    wanted.add(statement.split()[2])
            cursor.execute(
                f"COMMENT ON FUNCTION {_function_name(resource, 'insert')}() IS %s", [expected]
            )
            if seed and (not present or fingerprint != expected):
                for statement in seed_sql(resource):
                    cursor.execute(statement)
        pattern = [f"{TRIGGER_PREFIX}capture\\_%", f"{TRIGGER_PREFIX}dep\\_%"]
        cursor.execute(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND (t.tgname LIKE %s OR t.tgname LIKE %s)",
            pattern,
        )
        for name, table in cursor.fetchall():
            if name not in wanted:
                cursor.execute(f"DROP TRIGGER IF EXISTS {_q(name)} ON {_q(table)}")
        cursor.execute(
            "SELECT proname FROM pg_proc WHERE pg_function_is_visible(oid) "
            "AND (proname LIKE %s OR proname LIKE %s)",
            pattern,
        )
        for (name,) in cursor.fetchall():
            if name not in wanted:
                cursor.execute(f"DROP FUNCTION IF EXISTS {_q(name)}() CASCADE")


def on_post_migrate(sender, app_config=None, using=DEFAULT_DB_ALIAS, **kwargs):
    """post_migrate receiver: install once, after the last app with models has migrated (Django
    sends post_migrate only for apps with a models module)."""
    with_models = [a for a in apps.get_app_configs() if a.models_module is not None]
    if app_config is not None and with_models and app_config.label != with_models[-1].label:
        return
    if "core_change" not in connections[using].introspection.table_names():
        return
    with transaction.atomic(using=using):
        install(using=using)
