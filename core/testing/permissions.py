"""The shared permission-matrix runner: every role × every operation, on another organisation's
objects and the caller's own. An app supplies only data::

    class TestSpamPermissions(PermissionMatrix):
        # operation -> what each kind of role gets: a number of records for a list, else a status
        matrix = {"cases": (2, 2, 0, 2), "case": (200, 200, 404, 200), ...}
        kinds = {"city_official": 0, "operator_viettel": 1, "operator_mobifone": 2, ...}
        lists = {"cases"}            # answered with how many records the role sees
        reads = {"case"}             # never change anything, even when they succeed

        def world(self): ...                          # Viettel's records -> a dict
        def call(self, client, operation, world): ...  # -> the response
        def state(self, world): ...                   # what a refusal or a read leaves as it is

The runner asks each operation as each portal role (core's ROLE_USERS), a user without a role and
an anonymous visitor: the world's records are one operator's (Viettel's), so the operator's own
staff and another operator's staff and API client are the own/other organisation's columns. It
checks the status (or the count of a list), that a read or a refusal changed nothing (``state``
before and after), and that an allowed write changed something (``changed``). Every portal role
must have a column: a role added to the portal fails every matrix until someone decides.

Routes the URL-wide matrix (core/tests/test_permission_matrix.py) leaves to an app say
``covered_by`` that app's module, which must define a PermissionMatrix.
"""

from collections.abc import Mapping, Sequence

import pytest
from django.utils import translation

from conftest import ROLE_USERS

ROLES = (*ROLE_USERS, "anonymous")


def seen(response):
    """How many records a list answered (its status when it refused)."""
    if response.status_code != 200:
        return response.status_code
    body = response.json()
    return len(body["results"] if isinstance(body, dict) else body)


# The usual columns: 0 officials (city, national, administrators); 1 the staff of the operator
# whose records the world holds (Viettel); 2 another operator (MobiFone's staff, VNPT's API
# client); 3 an agency's API client (the Cục).
STANDARD_KINDS = {
    "city_official": 0,
    "national_official": 0,
    "administrator": 0,
    "operator_viettel": 1,
    "operator_mobifone": 2,
    "operator_api_client": 2,
    "agency_api_client": 3,
}


class PermissionMatrix:
    matrix: Mapping[str, Sequence[int]] = {}
    kinds: Mapping[str, int] = STANDARD_KINDS
    lists: frozenset | set = frozenset()
    reads: frozenset | set = frozenset()
    anonymous = 401
    no_role = 403

    # --- what the app supplies ------------------------------------------------------------------

    def world(self):
        raise NotImplementedError

    def call(self, client, operation, world):
        raise NotImplementedError

    def state(self, world):
        """What a read or a refusal must leave as it is (None: not checked)."""
        return None

    def changed(self, operation, before, after):
        """Whether an allowed write did what it should (default: the state moved)."""
        return before != after

    # --- the runner -----------------------------------------------------------------------------

    def fixture(self, name):
        return self._request.getfixturevalue(name)

    def expected(self, role, operation):
        if role == "anonymous":
            return self.anonymous
        if role == "no_role":
            return self.no_role
        return self.matrix[operation][self.kinds[role]]

    def pytest_generate_tests(self, metafunc):
        if not self.matrix:
            return
        if "operation" in metafunc.fixturenames:
            metafunc.parametrize("operation", list(self.matrix))
        if "role" in metafunc.fixturenames:
            metafunc.parametrize("role", ROLES)

    @pytest.fixture(autouse=True)
    def _matrix_setup(self, request, db):
        self._request = request
        with translation.override("en"):
            yield

    def test_every_role_has_a_column(self):
        missing = [r for r in ROLE_USERS if r != "no_role" and r not in self.kinds]
        assert not missing, f"roles without a column in the matrix: {missing}"
        width = 1 + max(self.kinds.values())
        short = [op for op, row in self.matrix.items() if len(row) != width]
        assert not short, f"operations whose row is not {width} long: {short}"
        assert set(self.lists) | set(self.reads) <= set(self.matrix)

    def test_permission_matrix(self, role, operation):
        world = self.world()
        client = self.fixture("as_role")(role)
        expected = self.expected(role, operation)
        before = self.state(world)
        response = self.call(client, operation, world)
        if operation in self.lists:
            assert seen(response) == expected, response.content[:300]
        else:
            assert response.status_code == expected, response.content[:300]
        after = self.state(world)
        if operation in self.lists or operation in self.reads or response.status_code >= 300:
            assert after == before, "a read or a refusal changed something"
        else:
            assert self.changed(operation, before, after), "an allowed write changed nothing"
