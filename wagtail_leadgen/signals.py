"""Signals for site code: sent after the capture transaction has committed."""

from django.dispatch import Signal

# Sent with ``submission`` once a lead's submission is safely stored.
lead_captured = Signal()
