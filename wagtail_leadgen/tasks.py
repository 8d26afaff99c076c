"""Background work on django-tasks; arguments are primary keys only.

Task backends keep their arguments (and results) in their own tables, so no
personal data may ever be passed to or returned from a task.
"""

from __future__ import annotations

from django_tasks import task

from .models.delivery import DeliveryStatus
from .services import delivery as delivery_service


@task()
def deliver_lead(delivery_id: int) -> str:
    """Attempt one delivery; schedule the next attempt where the queue can defer."""
    delivery = delivery_service.claim(delivery_id)
    if delivery is None:  # not due, already taken, done, or its destination is paused
        return "skipped"
    delivery = delivery_service.attempt(delivery)
    if delivery.status == DeliveryStatus.PENDING:
        delivery_service.enqueue_deliveries(
            [delivery.pk], run_after=delivery.next_attempt_at
        )
    return delivery.status
