from celery import shared_task

from sharing import services


@shared_task(name="sharing.tasks.mark_overdue", acks_late=True)
def mark_overdue():
    """Daily: unanswered sharing requests past their response deadline become overdue. Idempotent."""
    return {"overdue": services.mark_overdue().overdue}
