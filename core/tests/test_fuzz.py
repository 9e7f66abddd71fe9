"""Schemathesis against the live test server's own OpenAPI schema, every operation, as an
operator's API client and as the national agency's client.

Fails on any 5xx, on a response that does not match its documented schema, and on a content type
the schema does not declare. Every operation runs its whole budget whatever the others do, and one
failure summary at the end lists each distinct finding (client, operation, generation mode, check,
how often, a curl line that reproduces it), so one run shows the whole list.

The budget is ``FUZZ_MAX_EXAMPLES`` cases per operation and client (default 10, deterministic):
half of them valid by the schema (positive), half invalid (negative). ``make test`` runs the
default, ``make fuzz`` 100. ``FUZZ_OPERATIONS=<regex>`` fuzzes only the operations whose label
("POST /api/v1/stations/") matches, to work on a few at a time.
"""

import os
import re
import time
import uuid
from dataclasses import dataclass, field
from http import cookiejar

import hypothesis
import pytest
import requests
import schemathesis
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db(transaction=True)]

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "10"))
BUDGET = {
    GenerationMode.POSITIVE: MAX_EXAMPLES - MAX_EXAMPLES // 2,
    GenerationMode.NEGATIVE: MAX_EXAMPLES // 2,
}
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
ONLY = re.compile(os.environ.get("FUZZ_OPERATIONS", ""))

# Who fuzzes: (organisation, scopes). The operator's client writes its own registers; the national
# agency reads everything and writes what it may.
FUZZERS = {
    "operator_client": ("VIETTEL", {"*": "write"}),
    "national_client": ("CUC_VT", {"*": "write"}),
}


@dataclass
class Finding:
    """One distinct failure: a client, an operation, a check, and the first case that showed it."""

    where: str
    check: str
    detail: str
    reproduction: str
    times: int = 1

    def __str__(self):
        return (
            f"{self.where} {self.check} (x{self.times})\n"
            f"{_indent(self.detail)}\n  Reproduce with:\n{_indent(self.reproduction, 4)}"
        )


@dataclass
class Tally:
    cases: int = 0
    server_errors: int = 0
    violations: int = 0
    waited: float = 0.0  # seconds spent waiting for the server's answers
    findings: dict = field(default_factory=dict)

    def record(self, where, check, detail, reproduction):
        key = (where, check)
        if key in self.findings:
            self.findings[key].times += 1
        else:
            self.findings[key] = Finding(where, check, detail, reproduction)


def _indent(text, by=2, limit=700):
    text = text if len(text) <= limit else text[:limit] + " …"
    return "\n".join(" " * by + line for line in text.splitlines())


class _OneThreadServer(LiveServerThread):
    """The live server answering in one thread, which keeps its database connection (CONN_MAX_AGE)
    from request to request: the threaded server opens a new one for every request (~20 ms on
    PostGIS). The cases are sent one after another anyway."""

    server_class = WSGIServer

    def _create_server(self, connections_override=None):
        return self.server_class(
            (self.host, self.port), QuietWSGIRequestHandler, allow_reuse_address=False
        )


@pytest.fixture
def fuzz_server(reference_data, transactional_db, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    thread = _OneThreadServer("localhost", StaticFilesHandler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://localhost:{thread.port}"
    thread.terminate()  # closes the thread's database connection too


def _token(api_token, who):
    org_code, scopes = FUZZERS[who]
    token = api_token(org_code, scopes, name=f"fuzz-{who}-{uuid.uuid4().hex[:8]}")
    return {"Authorization": f"Bearer {token}"}


class _NoCookies(cookiejar.DefaultCookiePolicy):
    """Each case stands alone (as its curl line does): no cookie the server sets is sent back."""

    def set_ok(self, cookie, request):
        return False


def _fuzz(operation, mode, clients, tallies):
    """Run ``operation`` with its budget of generated cases of ``mode``, each case sent as every
    client (the same cases, so the clients' answers compare), recording every failure in the
    client's tally; never raises, so the next operation runs whatever this one found."""

    @hypothesis.settings(
        max_examples=BUDGET[mode],
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        for who, (session, auth) in clients.items():
            _send(case, session, auth, tallies[who], f"{who}: {operation.label} [{mode.value}]")

    if not BUDGET[mode]:
        return
    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        # Nothing in this operation can be made invalid (no parameters, no body): no negative case.
        if mode is not GenerationMode.NEGATIVE:
            for tally in tallies.values():
                tally.record(operation.label, "generation", "no valid case can be generated", "")
    except Exception as error:  # noqa: BLE001 — collected and reported with the rest
        for tally in tallies.values():
            tally.record(f"{operation.label} [{mode.value}]", "generation", repr(error), "")


def _send(case, session, auth, tally, where):
    tally.cases += 1
    sent = time.monotonic()
    try:
        response = case.call(session=session, headers=auth, timeout=60)
    except requests.RequestException as error:
        tally.server_errors += 1
        tally.record(where, "no response", repr(error), case.as_curl_command(headers=auth))
        return
    finally:
        tally.waited += time.monotonic() - sent
    if response.status_code >= 500:
        tally.server_errors += 1
    try:
        case.validate_response(response, checks=CHECKS, headers=auth)
    except (FailureGroup, Failure) as error:
        failures = error.exceptions if isinstance(error, FailureGroup) else (error,)
        body = response.text[:300].replace("\n", " ")
        for failure in failures:
            if response.status_code < 500:
                tally.violations += 1
            tally.record(
                where,
                f"{failure.code} {failure.title}",
                f"{failure.message}\n[{response.status_code}] {body}",
                case.as_curl_command(headers=auth),
            )


def test_every_operation(fuzz_server, api_token, request):
    clients = {}
    for who in FUZZERS:
        session = requests.Session()
        session.cookies.set_policy(_NoCookies())
        clients[who] = (session, _token(api_token, who))
    tallies = {who: Tally() for who in FUZZERS}
    schema = schemathesis.openapi.from_url(
        f"{fuzz_server}/api/schema/?format=json", headers=next(iter(clients.values()))[1]
    )
    # The clients' tokens are sent with each call; no generated Authorization header.
    schema.config.update(base_url=fuzz_server, headers={"Accept-Language": "en"})
    schema.config.generation.update(
        deterministic=True, database="none", with_security_parameters=False
    )
    started = time.monotonic()
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not ONLY.search(operation.label):
            continue
        operations += 1
        for mode in BUDGET:
            _fuzz(operation, mode, clients, tallies)
    elapsed = time.monotonic() - started
    lines = [
        f"fuzz: {operations} operations, up to {MAX_EXAMPLES} cases each, sent as each of "
        f"{len(FUZZERS)} clients, {elapsed:.0f} s"
    ]
    problems = []
    if not ONLY.pattern and operations <= 50:
        problems.append(f"the schema lists only {operations} operations")
    for who, tally in tallies.items():
        lines.append(
            f"fuzz {who}: {tally.cases} cases, {tally.server_errors} 5xx, "
            f"{tally.violations} schema violations, {len(tally.findings)} distinct findings "
            f"({tally.waited:.0f} s waiting for the server)"
        )
        problems.extend(str(finding) for finding in tally.findings.values())
    summary = "\n".join(lines)
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\n{summary}")
    assert not problems, f"{summary}\n{len(problems)} findings:\n\n" + "\n\n".join(problems)
