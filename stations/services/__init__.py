"""Every write of the stations app, by topic: the station register and its rules (register), the
public-site catalogue (sites), the permit workflow (permits), the CSV/XLSX import (importing) and
the sync API's bulk upsert (bulk).

Each service takes plain arguments and the acting user, checks permission and state, writes inside
one transaction and returns the object. Views, API, admin actions, commands and tasks call these
through this package (``from stations import services``; ``services.create_station``); a test
that replaces a helper patches the module that looks it up (``stations.services.bulk`` …).
"""

from core.permissions import is_city_official
from stations import selectors
from stations.services.bulk import (
    BULK_CREATED,
    BULK_ERROR,
    BULK_NOT_APPLIED,
    BULK_UNCHANGED,
    BULK_UPDATED,
    bulk_upsert_stations,
)
from stations.services.importing import IMPORT_COLUMNS, REQUIRED_COLUMNS, import_stations
from stations.services.permits import (
    APPLICATION_FIELDS,
    DECIDED_STATUSES,
    OPEN_STATUSES,
    DeadlineRun,
    accept,
    approve,
    colocation_candidates,
    days_left,
    days_used,
    grant,
    notify_change,
    post_message,
    process_deadlines,
    raise_sharing_request,
    reject,
    resubmit,
    return_for_supplement,
    run_clock,
    save_draft,
    shareable_structures,
    submit,
    upload_document,
    withdraw,
)
from stations.services.register import (
    CODE_TAKEN,
    EXTERNAL_ID_TAKEN,
    STATION_FIELDS,
    acts_for_operator,
    can_apply,
    can_create_stations,
    can_edit_station,
    commissioning_error,
    create_station,
    delete_station,
    update_station,
    validate_stations,
)
from stations.services.sites import (
    PUBLIC_SITE_FIELDS,
    delete_public_site,
    refresh_site_occupancy,
    save_public_site,
)

__all__ = [
    "APPLICATION_FIELDS",
    "BULK_CREATED",
    "BULK_ERROR",
    "BULK_NOT_APPLIED",
    "BULK_UNCHANGED",
    "BULK_UPDATED",
    "CODE_TAKEN",
    "DECIDED_STATUSES",
    "EXTERNAL_ID_TAKEN",
    "IMPORT_COLUMNS",
    "OPEN_STATUSES",
    "PUBLIC_SITE_FIELDS",
    "REQUIRED_COLUMNS",
    "STATION_FIELDS",
    "DeadlineRun",
    "accept",
    "acts_for_operator",
    "approve",
    "bulk_upsert_stations",
    "can_apply",
    "can_create_stations",
    "can_edit_station",
    "colocation_candidates",
    "commissioning_error",
    "create_station",
    "days_left",
    "days_used",
    "delete_public_site",
    "delete_station",
    "grant",
    "import_stations",
    "is_city_official",
    "notify_change",
    "post_message",
    "process_deadlines",
    "raise_sharing_request",
    "refresh_site_occupancy",
    "reject",
    "resubmit",
    "return_for_supplement",
    "run_clock",
    "save_draft",
    "save_public_site",
    "selectors",
    "shareable_structures",
    "submit",
    "update_station",
    "upload_document",
    "validate_stations",
    "withdraw",
]
