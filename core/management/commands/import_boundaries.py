from core import services
from core.management.base import ImportCommand


class Command(ImportCommand):
    help = (
        "Set Hanoi's unit boundaries from a GeoJSON FeatureCollection (property `code`). "
        "Any bad feature refuses the whole file."
    )
    service = services.import_boundaries
