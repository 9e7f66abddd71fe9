from celery import shared_task

from spam_reports import services


@shared_task(name="spam_reports.tasks.flag_overdue", acks_late=True)
def flag_overdue():
    """Every 5 minutes: assignments past their deadline (and inspections past theirs) are flagged
    once and their operator told. Idempotent."""
    run = services.flag_overdue()
    return {"flagged": run.flagged, "inspections": run.inspections}
