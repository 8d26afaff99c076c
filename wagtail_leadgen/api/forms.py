"""API endpoints: forms (filled in by the issue-12 branches)."""

from ninja import Router

router = Router(tags=["forms"])
