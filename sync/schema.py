"""OpenAPI (drf-spectacular) description of the API clients' bearer tokens."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "sync.auth.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An API client's token (hik_…), given once by the portal's administrators: "
                "`Authorization: Bearer <token>`. Scopes per resource; see docs/sync.md."
            ),
        }
