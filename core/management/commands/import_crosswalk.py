from core import services
from core.management.base import ImportCommand


class Command(ImportCommand):
    help = (
        "Load the official mapping of Hanoi's pre-2025 communes to today's units (CSV: new_code, "
        "old_code, old_name, note, old_district, old_province). Any bad row refuses the whole file."
    )
    service = services.import_crosswalk
