from celery import shared_task

from cables import services


@shared_task(name="cables.tasks.close_expired_notices", acks_late=True)
def close_expired_notices():
    """Daily: civil-works notices past their registration deadline close. Idempotent."""
    return {"closed": services.close_expired_notices().closed}
