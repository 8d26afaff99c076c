"""Signals for site code: sent after the capture transaction has committed."""

from django.dispatch import Signal

# Sent with ``submission`` once a lead's submission is safely stored. Receivers
# run robustly: one that fails is logged and never turns the visitor's
# successful submission into an error page.
lead_captured = Signal()
