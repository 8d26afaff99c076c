"""Content-driven lead generation for Wagtail, with EU/French data-protection rules.

Nothing is imported here on purpose: importing models from a package's
``__init__`` breaks Django's app loading.
"""

__version__ = "0.1.0.dev0"
