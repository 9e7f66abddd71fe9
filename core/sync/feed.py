"""Reading the change feed: opaque cursors, scoped pages built by PostgreSQL, pruning.

Why a consumer never misses an event: ``seq`` is given at commit under one lock (core.sync.capture),
so at any moment every committed change has a lower ``seq`` than any change still to commit. A page
is "the changes after the cursor, in seq order" read in one statement (one snapshot), and the
cursor it hands out is the last seq it covered: nothing can later appear at or below it.

When a page is not full, the cursor moves to the highest seq committed (read in the same
statement), so a consumer filtering on a rare type does not re-read the same span each time.

Cursors are signed (``Signer``): a cursor that was never issued is refused (400); one older than
what is kept (``ChangeFeedState.pruned_through``) is refused with 410, and the consumer starts over
from a full download (or from the beginning of the feed, which keeps every live record's last
change).
"""

import base64
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import sync
from core.exceptions import DomainError
from core.scoping import sees_everything

SALT = "core.sync.feed.cursor"
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
        cursor.execute("SELECT pruned_through FROM core_changefeedstate ORDER BY id LIMIT 1")
        row = cursor.fetchone()
    return row[0] if row else 0


def head_seq():
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(max(seq), 0) FROM core_change")
        return cursor.fetchone()[0]


def readable_types(user, requested=None):
    """The resource names ``user`` may read in the feed, narrowed to ``requested``."""
    from core.sync.auth import client_of

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


PAGE_SQL = """
WITH page AS (
    SELECT seq, resource, public_id, action, version, changed_at, data
    FROM core_change
    WHERE seq > %(after)s AND resource = ANY(%(types)s) {scope}
    ORDER BY seq
    LIMIT %(limit)s
)
SELECT
    COALESCE((SELECT json_agg(json_build_object(
        'seq', p.seq, 'type', p.resource, 'id', p.public_id, 'action', p.action,
        'version', p.version, 'changed_at', p.changed_at, 'data', p.data) ORDER BY p.seq)
        FROM page p)::text, '[]'),
    (SELECT count(*) FROM page),
    (SELECT max(seq) FROM page),
    (SELECT COALESCE(max(seq), 0) FROM core_change)
"""


def read(user, after=None, types=None, limit=DEFAULT_LIMIT):
    """One page of the changes ``user`` may see after the cursor ``after`` (None: the beginning)."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    horizon = pruned_through()
    if after:
        seq = decode_cursor(after)
        if seq < horizon:
            raise CursorExpired()
    else:
        seq = 0
    names = readable_types(user, types)
    params = {"after": seq, "types": names, "limit": limit}
    scope = ""
    if not sees_everything(user):
        if user is None or not user.organization_id:
            names, params["types"] = [], []
        scope = "AND (org_id = %(org)s OR resource = ANY(%(open)s))"
        params["org"] = getattr(user, "organization_id", None)
        params["open"] = [n for n in names if sync.get(n).open_to_all]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(PAGE_SQL.format(scope=scope), params)
        text, count, last, head = cursor.fetchone()
    if seq > head:
        raise InvalidCursor()
    full = count >= limit
    next_seq = last if full else max(head, seq)
    return Page(text=text, count=count, next_seq=next_seq, has_more=full)


def prune(now=None):
    """Drop changes older than the retention that a later change of the same record supersedes,
    and tombstones older than it; move the horizon. Every live record keeps its last change, so
    reading the feed from the beginning still gives the whole register."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.SYNC_CHANGE_RETENTION_DAYS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(max(seq), 0) FROM core_change WHERE seq IS NOT NULL AND changed_at < %s",
            [cutoff],
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
