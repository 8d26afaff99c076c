"""What the JSON API keeps between requests: answered idempotency keys."""

from __future__ import annotations

import swapper
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    """One ``Idempotency-Key`` a client sent with a form submission.

    The row is written (unique ``key_hash``) *before* the submission runs, so
    a concurrent duplicate finds it and is refused instead of capturing a
    second lead; the answer is stored once the submission succeeds. Only
    hashes of the key and of the body are kept, and the stored answer carries
    no personal data (ids and URLs only). Rows older than
    ``API["IDEMPOTENCY_KEY_MAX_AGE"]`` are deleted by the retention purge.
    """

    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    page = models.ForeignKey(
        swapper.get_model_name("wagtailcore", "Page"),
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("page"),
    )
    body_hash = models.CharField(_("body hash"), max_length=64)
    response_status = models.PositiveSmallIntegerField(
        _("response status"), null=True, blank=True
    )
    response_body = models.JSONField(_("response body"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")

    def __str__(self) -> str:
        return self.key_hash[:12]
