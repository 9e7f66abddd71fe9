"""Shared test bases: an app supplies only data (see docs/developers.md, "Contract tests").

- ``core.testing.workflows``: the workflow contract (both doors of every move behave alike);
- ``core.testing.filters``: every list endpoint's filterset covers its model's fields.
"""
