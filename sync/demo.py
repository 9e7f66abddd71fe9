"""Demo API clients (loaded by load_demo_data after core's demo users), each with a fresh token."""

from core.models import Organization

# API clients: name (= its service account's username), organisation, scopes.
DEMO_CLIENTS = [
    ("cucvt-sync", "CUC_VT", {"*": "read", "webhooks": "write"}),
    (
        "viettel-oss",
        "VIETTEL",
        {"stations": "write", "assets": "write", "public-sites": "read", "webhooks": "write"},
    ),
]


def load(stdout=None):
    """The demo API clients, each with a fresh token (the old ones are revoked)."""
    tokens = _clients()
    if stdout:
        for name, raw in tokens.items():
            stdout.write(f"sync: API client {name}: token {raw} (shown once; a new one each load)")
    return {"token": tokens["cucvt-sync"], "tokens": tokens}


def _clients():
    """{name: raw token} of the demo API clients."""
    from sync import services
    from sync.models import ApiClient

    tokens = {}
    for name, org_code, scopes in DEMO_CLIENTS:
        client = ApiClient.objects.filter(name=name).first()
        if client is None:
            _client, raw = services.create_client(
                None,
                name=name,
                username=name,
                organization=Organization.objects.get(code=org_code),
                scopes=scopes,
            )
        else:
            raw = services.issue_token(None, client, revoke_others=True)
        tokens[name] = raw
    return tokens


def describe():
    """Lines `make run` prints after the demo log-ins."""
    return [f"  API client {n} · {org} (its token is printed above)" for n, org, _ in DEMO_CLIENTS]
