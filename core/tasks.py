from celery import shared_task

from core import health


@shared_task(name="core.tasks.heartbeat", acks_late=True, ignore_result=False)
def heartbeat():
    """Scheduled by beat every minute: proves a worker takes tasks; /healthz shows its age."""
    db_ok, _ = health.check_database()
    return {"recorded_at": health.record_heartbeat(), "database": db_ok}
