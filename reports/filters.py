"""The reports app's API lists filter with the FilterSets in reports.api.views; this module lists
the fields they leave unfiltered, and why (core/tests/test_filter_coverage.py)."""

FILTER_EXEMPT = {
    "DefinitionFilter.code": "the definitions are few, listed whole",
    "DefinitionFilter.name": "the definitions are few, listed whole",
    "DefinitionFilter.cutoff_day": "a setting shown on the record",
    "DefinitionFilter.deadline_days": "a setting shown on the record",
    "DefinitionFilter.heading": "a setting shown on the record",
    "RunFilter.period_label": "the label of period_key, which period filters",
    "RunFilter.period_start": "the start of period_key, which period filters",
    "RunFilter.cutoff": "shown on the record",
    "RunFilter.deadline": "shown on the record",
    "RunFilter.progress": "internal: the build's progress",
    "RunFilter.requested_by": "shown on the record",
    "RunFilter.approved_by": "shown on the record",
    "RunFilter.approved_at": "shown on the record",
    "RunFilter.submitted_at": "shown on the record",
    "RunFilter.attempts": "internal: the build's retries",
    "RunFilter.started_at": "internal: the build's timing",
    "RunFilter.finished_at": "internal: the build's timing",
}
