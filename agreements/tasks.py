from celery import shared_task

from agreements import services


@shared_task(name="agreements.tasks.send_reminders", acks_late=True)
def send_reminders():
    """Daily: reminders before due dates, overdue tasks, expired agreements, renewal prompts.
    Idempotent (each reminder once)."""
    run = services.send_reminders()
    return {
        "reminded": run.reminded,
        "overdue": run.overdue,
        "expired": run.expired,
        "renewal_prompts": run.renewal_prompts,
    }
