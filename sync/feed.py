"""Reading the change feed: opaque cursors, scoped pages built by PostgreSQL, pruning.

Why a consumer never misses an event: ``seq`` is given at commit under one lock (sync.capture),
so at any moment every committed change has a lower ``seq`` than any change still to commit. A page
is "the changes after the cursor, in seq order" read in one statement (one snapshot), and the
cursor it hands out is the last seq it covered: nothing can later appear at or below it.

When a page is not full, the cursor moves to the highest seq committed (read in the same
statement), so a consumer filtering on a rare type does not re-read the same span each time.

Cursors are signed (``Signer``): a cursor that was never issued (or beyond the feed's end) is
refused (400); one older than what is kept (``ChangeFeedState.pruned_through``, read in the same
statement as the page, so a prune committing meanwhile cannot slip between the check and the read)
is refused with 410, and the consumer starts over from a full download (or from the beginning of
the feed, which keeps every live record's last change). The feed's end never moves back: when
pruning removed the last changes, the end is the horizon.
"""

import base64
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import sync
from core.exceptions import DomainError
from core.scoping import sees_everything

SALT = "core.sync.feed.cursor"  # signs the cursors consumers hold: kept from before the move
MAX_LIMIT = 5000
DEFAULT_LIMIT = 1000


class InvalidCursor(DomainError):
    status_code = 400
    code = "invalid_cursor"
    default_message = _("This cursor was not issued by this server. Start again without one.")


class CursorExpired(DomainError):
    status_code = 410
    code = "cursor_expired"
    default_message = _(
        "This cursor is older than the changes kept. Download the full register and follow the "
        "feed from the cursor the download gives."
    )


class InvalidLimit(DomainError):
    status_code = 400
    code = "invalid_limit"
    default_message = _("The limit is a whole number from 1 to 5000.")


class UnknownType(DomainError):
    status_code = 400
    code = "unknown_type"


def encode_cursor(seq):
    signed = signing.Signer(salt=SALT).sign(f"c1.{int(seq)}")
    return base64.urlsafe_b64encode(signed.encode()).decode().rstrip("=")


def decode_cursor(cursor):
    """The seq a cursor stands for; InvalidCursor when it was not issued here."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        signed = base64.urlsafe_b64decode(padded.encode()).decode()
        value = signing.Signer(salt=SALT).unsign(signed)
        version, seq = value.split(".", 1)
        if version != "c1":
            raise ValueError(version)
        return int(seq)
    except (ValueError, TypeError, UnicodeDecodeError, signing.BadSignature):
        raise InvalidCursor() from None


def pruned_through():
    with connection.cursor() as cursor:
        cursor.execute(PRUNED_SQL)
        return cursor.fetchone()[0]


PRUNED_SQL = "SELECT COALESCE((SELECT max(pruned_through) FROM core_changefeedstate), 0)"
# The feed's end: the highest seq committed, or the horizon if pruning removed the last changes
# (a cursor at the old end stays valid).
HEAD_SQL = f"SELECT GREATEST((SELECT COALESCE(max(seq), 0) FROM core_change), ({PRUNED_SQL}))"


def head_seq():
    with connection.cursor() as cursor:
        cursor.execute(HEAD_SQL)
        return cursor.fetchone()[0]


def readable_types(user, requested=None):
    """The resource names ``user`` may read in the feed, narrowed to ``requested``."""
    from sync.auth import client_of

    names = list(sync.resources())
    if requested:
        unknown = [t for t in requested if t not in names]
        if unknown:
            raise UnknownType(
                _("Unknown type(s): %(types)s. Known: %(known)s.")
                % {"types": ", ".join(unknown), "known": ", ".join(names)}
            )
        names = [n for n in names if n in requested]
    client = client_of(user)
    if client is not None:
        names = [n for n in names if client.may(n, "read")]
    return names


@dataclass
class Page:
    text: str  # the JSON array of events, written by PostgreSQL
    count: int
    next_seq: int
    has_more: bool


# One statement, so one snapshot: the page, whether more follow, the feed's end and the horizon
# are read together (a prune committing meanwhile is seen entirely or not at all).
PAGE_SQL = f"""
WITH candidates AS (
    SELECT seq, resource, public_id, action, version, changed_at, data
    FROM core_change
    WHERE seq > %(after)s AND resource = ANY(%(types)s::text[]) {{scope}}
    ORDER BY seq
    LIMIT %(limit)s + 1
), page AS (
    SELECT * FROM candidates ORDER BY seq LIMIT %(limit)s
)
SELECT
    COALESCE((SELECT json_agg(json_build_object(
        'seq', p.seq, 'type', p.resource, 'id', p.public_id, 'action', p.action,
        'version', p.version, 'changed_at', p.changed_at, 'data', p.data) ORDER BY p.seq)
        FROM page p)::text, '[]'),
    (SELECT count(*) FROM page),
    (SELECT max(seq) FROM page),
    (SELECT count(*) FROM candidates) > %(limit)s,
    ({HEAD_SQL}),
    ({PRUNED_SQL})
"""


def _scope(user, names):
    """The SQL condition and parameters narrowing the changes to what ``user`` may see: officials
    and agencies everything; an operator (staff or client) its own records and the types open to
    all; anyone else nothing."""
    if sees_everything(user):
        return "", {}
    org = getattr(user, "organization_id", None) if user is not None else None
    if not org or not getattr(user, "is_authenticated", False) or not user.is_active:
        return "AND false", {}
    open_types = [n for n in names if sync.get(n).open_to_all]
    condition, params = (
        "org_id = %(org)s OR resource = ANY(%(open)s::text[])",
        {
            "org": org,
            "open": open_types,
        },
    )
    for i, name in enumerate(n for n in names if n not in open_types and sync.get(n).feed_scope):
        resource = sync.get(name)
        condition += f" OR (resource = %(scoped_{i})s AND {resource.feed_scope(resource)})"
        params[f"scoped_{i}"] = name
    return f"AND ({condition})", params


def read(user, after=None, types=None, limit=DEFAULT_LIMIT):
    """One page of the changes ``user`` may see after the cursor ``after`` (None: the beginning).

    The cursor handed out (``next_seq``) is the last seq of a full page, or the feed's end when the
    page is not full (nothing later can commit at or below it, see sync.capture)."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    seq = decode_cursor(after) if after else 0
    names = readable_types(user, types)
    scope, params = _scope(user, names)
    params.update({"after": seq, "types": names, "limit": limit})
    with connection.cursor() as cursor:
        cursor.execute(PAGE_SQL.format(scope=scope), params)
        text, count, last, more, head, horizon = cursor.fetchone()
    if seq > head:
        raise InvalidCursor()
    if after and seq < horizon:
        raise CursorExpired()
    next_seq = last if more else max(head, seq)
    return Page(text=text, count=count, next_seq=next_seq, has_more=more)


def prune(now=None):
    """Drop changes older than the retention that a later change of the same record supersedes,
    and tombstones older than it; move the horizon. Every live record keeps its last change, so
    reading the feed from the beginning still gives the whole register."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.SYNC_CHANGE_RETENTION_DAYS)
    with transaction.atomic(), connection.cursor() as cursor:
        # The highest seq at and below which every change is older than the cutoff (``seq``
        # follows commit order, ``changed_at`` the write: a long transaction may mix them).
        cursor.execute(
            """
            SELECT COALESCE(max(seq), 0) FROM core_change
            WHERE seq IS NOT NULL AND changed_at < %(cutoff)s
              AND seq < COALESCE((SELECT min(seq) FROM core_change
                                  WHERE seq IS NOT NULL AND changed_at >= %(cutoff)s),
                                 9223372036854775807)
            """,
            {"cutoff": cutoff},
        )
        horizon = cursor.fetchone()[0]
        if not horizon:
            return 0
        cursor.execute(
            """
            DELETE FROM core_change c
            WHERE c.seq IS NOT NULL AND c.seq <= %s
              AND (c.action = 'delete' OR EXISTS (
                    SELECT 1 FROM core_change n
                    WHERE n.resource = c.resource AND n.object_id = c.object_id AND n.id > c.id))
            """,
            [horizon],
        )
        removed = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO core_changefeedstate (id, pruned_through, pruned_at) VALUES (1, %s, %s)
            ON CONFLICT (id) DO UPDATE SET
                pruned_through = GREATEST(core_changefeedstate.pruned_through, EXCLUDED.pruned_through),
                pruned_at = EXCLUDED.pruned_at
            """,
            [horizon, now],
        )
    return removed


def sequence_pending():
    """Number this transaction's changes now rather than at commit (tests run inside a transaction
    that never commits; a reader in the same transaction then sees its own writes)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS core_change_sequence IMMEDIATE")
