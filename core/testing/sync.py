"""The sync contract: every registered sync resource (sync.resources()) behaves alike for a machine
client over the real HTTP API: upserts are idempotent, stale writes are refused, the change feed
shows each write once, bulk batches report their bad records, another operator is kept out, and
what is sent is what is read back.

An app declares, in ``<app>/tests/test_sync_contract.py``, one adapter per resource, data only::

    class TestStationSyncContract(SyncContract):
        resource_name = "stations"
        source = "VIETTEL"                       # the writer's source key
        invalid_field = "structure_type"         # the field ``invalid`` breaks

        def body(self, n): ...                   # a valid create body (GeoJSON Feature), record n
        def change(self, body): ...              # the same body with a change applied
        def invalid(self, body): ...             # the body with ``invalid_field`` wrong
        def writer(self): ...                    # the HTTP client of the records' owner
        def other(self): ...                     # the HTTP client of another operator

``self.fixture(name)`` gives any pytest fixture (``token_client``, ``as_role`` …); ``prepare()``
may create what the bodies refer to. The default writes go through the sync routes of
sync.api.mixin (``PUT <prefix>/by-source/<source>/<external_id>/`` with If-Match, ``POST
<prefix>/bulk/``); an adapter of a resource without them overrides ``create`` / ``update``.

The checks, each a test of the base (the key in brackets is what ``xfail`` names):

- [token] the writer is an API client with a bearer token (not a person signed in);
- [upsert] a PUT by source creates (201, ``Sync-Result: created``, one new row, one change
  event); the same PUT again answers 200 ``unchanged`` with the same body, no new row and no second
  event;
- [stale] an update with an If-Match that was current once answers 200; another with that (now
  stale) ETag answers 412 ``precondition_failed`` and writes nothing (row, detail, feed);
- [feed] the feed (types=<resource>) holds exactly one event per write, in order, with the record's
  id, type, action and version; a cursor at the end gives nothing, and after one more write exactly
  that write;
- [bulk_partial] a partial batch of one valid and one invalid record: 200, the valid one created and
  stored, the invalid one ``error`` with errors on ``invalid_field`` and not stored;
- [bulk_atomic] an atomic batch of the same: 400 ``batch_rejected``, the valid one ``not_applied``,
  the invalid one ``error`` on ``invalid_field``, nothing stored;
- [other_read] another operator's client gets 403/404 for the record's detail (and by source);
- [other_change] another operator's client is refused (403/404) an update by source, a PATCH, a
  DELETE (when the resource deletes) and a bulk record of the key; the record stays as it was;
- [other_feed] another operator's client does not see the record's events in the feed;
- [round_trip] the detail after a create, and after an update, gives back every property and the
  geometry of the body sent (numbers by value, geometries within 1e-6 degrees), and the key.

A known difference is marked, not hidden: ``xfail = {"check": "reason"}`` (strict: the check must
fail, by an assertion). Every registered resource must have an adapter (one or more, e.g. one per
kind of writer) in the ``tests/test_sync_contract.py`` of its model's app, or be listed there as
``SYNC_CONTRACT_EXEMPT = {"name": "reason"}`` (core/tests/test_sync_contracts.py).

Test support: sync is imported inside functions only (core's code does not import sync).
"""

import importlib
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
from django.utils import translation

from core.testing.workflows import project_apps

CONTRACT_MODULE = "tests.test_sync_contract"
API = "/api/v1/"
CHANGES = "/api/v1/changes/"
CHANGES_HEAD = "/api/v1/changes/head/"
REFUSED = (403, 404)
CHECKS = (
    "token",
    "upsert",
    "stale",
    "feed",
    "bulk_partial",
    "bulk_atomic",
    "other_read",
    "other_change",
    "other_feed",
    "round_trip",
)
KEY_FIELDS = ("source", "external_id")
GEOMETRY_TOLERANCE = 1e-6


# --- Comparing what was sent with what is read back ------------------------------------------------


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def same_value(sent, got):
    """Whether the value read back is the one sent: numbers by value (30, 30.0 and "30.00" alike
    when one side is a JSON number), anything else exactly."""
    if isinstance(sent, int | float | Decimal) and not isinstance(sent, bool):
        number = _number(got)
        return number is not None and number == _number(sent)
    return sent == got


def _flat(coordinates):
    if isinstance(coordinates, int | float):
        return [coordinates]
    out = []
    for item in coordinates:
        out += _flat(item)
    return out


def same_geometry(sent, got):
    if sent is None or got is None:
        return sent is got
    if sent.get("type") != got.get("type"):
        return False
    a, b = _flat(sent.get("coordinates", [])), _flat(got.get("coordinates", []))
    return len(a) == len(b) and all(
        abs(x - y) <= GEOMETRY_TOLERANCE for x, y in zip(a, b, strict=True)
    )


def differences(body, detail, key=None):
    """What the detail (a GeoJSON Feature) does not give back of the body sent, as
    [(name, sent, got)]; with ``key`` = (source, external_id), the key as well."""
    found = []
    got = detail.get("properties") or {}
    for name, value in (body.get("properties") or {}).items():
        if name in KEY_FIELDS:
            continue
        if name not in got:
            found.append((name, value, "<missing>"))
        elif not same_value(value, got[name]):
            found.append((name, value, got[name]))
    if "geometry" in body and not same_geometry(body["geometry"], detail.get("geometry")):
        found.append(("geometry", body["geometry"], detail.get("geometry")))
    if key is not None:
        for name, value in zip(KEY_FIELDS, key, strict=True):
            if got.get(name) != value:
                found.append((name, value, got.get(name, "<missing>")))
    return found


# --- The contract ---------------------------------------------------------------------------------


class SyncContract:
    """Base of a sync resource's adapter; see the module's docstring. Name the subclass ``Test…``."""

    resource_name: str | None = None
    source: str | None = None
    invalid_field: str | None = None
    xfail: dict[str, str] = {}

    # --- what the app supplies ------------------------------------------------------------------

    def body(self, n: int) -> dict[str, Any]:
        raise NotImplementedError

    def change(self, body: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def invalid(self, body: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def writer(self):
        raise NotImplementedError

    def other(self):
        raise NotImplementedError

    def prepare(self):
        """Create what the bodies refer to (called once per test, before anything else)."""

    # --- the writes (the sync routes by default) ------------------------------------------------

    @property
    def resource(self):
        import sync

        return sync.get(self.resource_name)

    @property
    def model(self):
        return self.resource.model

    @property
    def prefix(self):
        return f"{API}{self.resource_name}/"

    def key(self, n):
        return (self.source, f"CONTRACT-{self.resource_name}-{n}")

    def by_source_url(self, key):
        source, external_id = key
        return f"{self.prefix}by-source/{source}/{external_id}/"

    def detail_url(self, record_id):
        return f"{self.prefix}{record_id}/"

    def upsert(self, client, key, body, etag=None):
        headers = {"HTTP_IF_MATCH": etag} if etag else {}
        return client.put(self.by_source_url(key), body, format="json", **headers)

    def create(self, client, key, body):
        """Create the record of ``key`` from ``body``; the answer (201 with the Feature)."""
        return self.upsert(client, key, body)

    def update(self, client, key, record_id, body, etag=None):
        """Change the record to ``body`` (guarded by ``etag`` when given); the answer."""
        return self.upsert(client, key, body, etag=etag)

    def bulk(self, client, records, mode):
        return client.post(f"{self.prefix}bulk/", {"mode": mode, "records": records}, format="json")

    def keyed(self, key, body):
        source, external_id = key
        return {**body, "source": source, "external_id": external_id}

    # --- helpers --------------------------------------------------------------------------------

    def fixture(self, name):
        return self._request.getfixturevalue(name)

    def make(self, n=1):
        """A new record through ``create``: (key, body, its id, its ETag)."""
        key, body = self.key(n), self.body(n)
        response = self.create(self._writer, key, body)
        assert response.status_code == 201, response.content
        return key, body, response.json()["id"], response["ETag"]

    def detail(self, record_id, client=None):
        response = (client or self._writer).get(self.detail_url(record_id))
        assert response.status_code == 200, response.content
        return response

    def rows(self):
        return self.model._base_manager.count()

    def stamp(self, record_id):
        return self.model._base_manager.filter(public_id=record_id).values_list(
            "updated_at", flat=True
        )[0]

    def head(self, client=None):
        response = (client or self._writer).get(CHANGES_HEAD)
        assert response.status_code == 200, response.content
        return response.json()["cursor"]

    def events(self, after, client=None):
        """The events of this resource the client gets after ``after``, following ``next`` to
        the end: (events, the last cursor)."""
        client = client or self._writer
        found = []
        while True:
            response = client.get(CHANGES, {"after": after, "types": self.resource_name})
            assert response.status_code == 200, response.content[:500]
            page = response.json()
            found += page["results"]
            after = page["next"]
            if not page["has_more"]:
                return found, after

    def stored(self, key):
        source, external_id = key
        return self.model._base_manager.filter(source=source, external_id=external_id).exists()

    @pytest.fixture(autouse=True)
    def _contract_setup(self, request, db, feed_now):
        self._request = request
        name = request.node.originalname.removeprefix("test_")
        reason = self.xfail.get(name)
        if reason:
            # Strict, and only a failed check counts: an error (a broken adapter) is not the
            # difference the reason names.
            mark = pytest.mark.xfail(reason=reason, strict=True, raises=AssertionError)
            request.node.add_marker(mark)
        with translation.override("en"):
            self.prepare()
            self._writer = self.writer()
            yield

    # --- the checks -----------------------------------------------------------------------------

    def test_token(self):
        client = self._writer
        assert getattr(client, "api_client", None) is not None, "the writer is not a token client"
        auth = {**client.defaults, **client._credentials}.get("HTTP_AUTHORIZATION", "")
        assert auth.startswith("Bearer "), auth
        assert client.handler._force_user is None, "the writer is signed in as a person"
        response = client.get(self.prefix)
        assert response.status_code == 200, response.content

    def test_upsert(self):
        start = self.head()
        key, body = self.key(1), self.body(1)
        before = self.rows()
        created = self.upsert(self._writer, key, body)
        assert created.status_code == 201, created.content
        assert created["Sync-Result"] == "created"
        assert self.rows() == before + 1
        record_id = created.json()["id"]
        assert [e["id"] for e in self.events(start)[0]] == [record_id]

        again = self.upsert(self._writer, key, body)
        assert again.status_code == 200, again.content
        assert again["Sync-Result"] == "unchanged"
        assert again.json() == created.json() and again["ETag"] == created["ETag"]
        assert self.rows() == before + 1
        assert [e["id"] for e in self.events(start)[0]] == [record_id]

    def test_stale(self):
        key, body, record_id, first_tag = self.make()
        changed = self.change(body)
        fresh = self.update(self._writer, key, record_id, changed, etag=first_tag)
        assert fresh.status_code == 200, fresh.content
        assert fresh["ETag"] != first_tag
        start = self.head()
        stamp = self.stamp(record_id)
        shown = self.detail(record_id).json()

        stale = self.update(self._writer, key, record_id, self.change(changed), etag=first_tag)
        assert stale.status_code == 412, stale.content
        assert stale.json()["code"] == "precondition_failed"
        assert stale["ETag"] == fresh["ETag"]
        assert self.stamp(record_id) == stamp
        assert self.detail(record_id).json() == shown
        assert self.events(start)[0] == []

    def test_feed(self):
        start = self.head()
        key, body, record_id, tag = self.make()
        changed = self.change(body)
        response = self.update(self._writer, key, record_id, changed, etag=tag)
        assert response.status_code == 200, response.content
        found, cursor = self.events(start)
        assert [(e["id"], e["type"], e["action"], e["version"]) for e in found] == [
            (record_id, self.resource_name, "create", 1),
            (record_id, self.resource_name, "update", 2),
        ]
        assert found[0]["seq"] < found[1]["seq"]
        assert found[1]["data"]["id"] == record_id

        nothing, _cursor = self.events(cursor)
        assert nothing == []
        response = self.update(self._writer, key, record_id, body, etag=response["ETag"])
        assert response.status_code == 200, response.content
        later = self.events(cursor)[0]
        assert [(e["id"], e["action"], e["version"]) for e in later] == [(record_id, "update", 3)]

    def _batch(self, mode):
        valid_key, invalid_key = self.key(1), self.key(2)
        records = [
            self.keyed(valid_key, self.body(1)),
            self.keyed(invalid_key, self.invalid(self.body(2))),
        ]
        return valid_key, invalid_key, self.bulk(self._writer, records, mode)

    def test_bulk_partial(self):
        before = self.rows()
        valid_key, invalid_key, response = self._batch("partial")
        assert response.status_code == 200, response.content
        data = response.json()
        assert data["applied"] is True
        assert [r["status"] for r in data["results"]] == ["created", "error"]
        assert self.invalid_field in data["results"][1]["errors"], data["results"][1]
        assert data["results"][1]["id"] is None
        assert self.stored(valid_key) and not self.stored(invalid_key)
        assert self.rows() == before + 1
        assert self.detail(data["results"][0]["id"]).status_code == 200

    def test_bulk_atomic(self):
        before = self.rows()
        valid_key, invalid_key, response = self._batch("atomic")
        assert response.status_code == 400, response.content
        data = response.json()
        assert data["code"] == "batch_rejected" and data["applied"] is False
        assert [r["status"] for r in data["results"]] == ["not_applied", "error"]
        assert self.invalid_field in data["results"][1]["errors"], data["results"][1]
        assert not self.stored(valid_key) and not self.stored(invalid_key)
        assert self.rows() == before

    def test_other_read(self):
        key, _body, record_id, _tag = self.make()
        other = self.other()
        response = other.get(self.detail_url(record_id))
        assert response.status_code in REFUSED, (response.status_code, response.content)
        if self.resource.writable:
            response = other.get(self.by_source_url(key))
            assert response.status_code in REFUSED, (response.status_code, response.content)

    def test_other_change(self):
        key, body, record_id, tag = self.make()
        other = self.other()
        stamp, shown = self.stamp(record_id), self.detail(record_id).json()
        changed = self.change(body)
        answers = {
            "update": self.update(other, key, record_id, changed, etag=tag),
            "patch": other.patch(
                self.detail_url(record_id), changed, format="json", HTTP_IF_MATCH=tag
            ),
        }
        if self.resource.delete is not None:
            answers["delete"] = other.delete(self.detail_url(record_id), HTTP_IF_MATCH=tag)
        for name, response in answers.items():
            assert response.status_code in REFUSED, (name, response.status_code, response.content)
        if self.resource.writable:
            response = self.bulk(other, [self.keyed(key, changed)], "partial")
            if response.status_code == 200:
                assert response.json()["results"][0]["status"] == "error", response.content
            else:
                assert response.status_code in REFUSED, response.content
        assert self.stamp(record_id) == stamp
        assert self.detail(record_id).json() == shown

    def test_other_feed(self):
        other = self.other()
        start = self.head(other)
        key, body, record_id, tag = self.make()
        response = self.update(self._writer, key, record_id, self.change(body), etag=tag)
        assert response.status_code == 200, response.content
        assert len(self.events(start)[0]) == 2  # the writer sees both events
        seen = [e for e in self.events(start, client=other)[0] if e["id"] == record_id]
        assert seen == [], seen

    def test_round_trip(self):
        key, body, record_id, tag = self.make()
        sync_key = key if self.resource.writable else None
        detail = self.detail(record_id).json()
        assert differences(body, detail, sync_key) == []
        changed = self.change(body)
        assert differences(changed, detail), "the change changes nothing"
        response = self.update(self._writer, key, record_id, changed, etag=tag)
        assert response.status_code == 200, response.content
        assert differences(changed, self.detail(record_id).json(), sync_key) == []


# --- Every sync resource has a contract ------------------------------------------------------------


def _import(name):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            return None
        raise


def project_sync_contracts():
    """(resource name -> [(adapter class, its app label), …], resource name -> (exemption reason,
    app label)) from every app's ``tests/test_sync_contract.py`` (a resource may have several
    adapters, e.g. one per kind of writer)."""
    adapters, exempt = {}, {}
    for config in project_apps():
        module = _import(f"{config.name}.{CONTRACT_MODULE}")
        if module is None:
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, SyncContract)
                and value.resource_name is not None
                and value.__module__ == module.__name__
            ):
                adapters.setdefault(value.resource_name, []).append((value, config.label))
        for name, reason in getattr(module, "SYNC_CONTRACT_EXEMPT", {}).items():
            exempt[name] = (reason, config.label)
    return adapters, exempt


def missing_sync_contracts():
    """What keeps the registered sync resources from all having a contract: a resource with
    neither an adapter nor an exemption in its model's app, an adapter or exemption in another
    app's module, an exemption without a reason or of a resource with an adapter or not
    registered, an xfail naming no check or without a reason."""
    import sync

    registered = sync.resources()
    adapters, exempt = project_sync_contracts()
    problems = []
    path = CONTRACT_MODULE.replace(".", "/")
    for name, resource in registered.items():
        app = resource.model._meta.app_label
        if name not in adapters and name not in exempt:
            problems.append(f"{name}: no adapter in {app}/{path}.py")
        declared = [label for _adapter, label in adapters.get(name, [])]
        declared += [exempt[name][1]] if name in exempt else []
        for label in sorted(set(declared) - {app}):
            problems.append(f"{name}: declared in {label}/{path}.py, not {app}'s")
    for name, (reason, _app) in sorted(exempt.items()):
        if not str(reason).strip():
            problems.append(f"{name}: exempt without a reason")
        if name in adapters:
            problems.append(f"{name}: exempt and has an adapter")
        if name not in registered:
            problems.append(f"{name}: exempt, but no such resource")
    for name, found in sorted(adapters.items()):
        if name not in registered:
            problems.append(f"{name}: an adapter, but no such resource")
        for adapter, _app in found:
            for check, reason in adapter.xfail.items():
                if check not in CHECKS:
                    problems.append(f"{adapter.__name__}: xfail names no check: {check!r}")
                if not str(reason).strip():
                    problems.append(f"{adapter.__name__}: xfail {check!r} without a reason")
    return problems
