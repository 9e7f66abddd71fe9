from celery import shared_task

from stations import services


@shared_task(name="stations.tasks.process_deadlines", acks_late=True)
def process_deadlines():
    """Daily: overdue applications flagged and notified; tacit approvals granted. Idempotent."""
    result = services.process_deadlines()
    return {"overdue": result.overdue, "deemed_approved": result.deemed_approved}
