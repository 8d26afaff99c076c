# The task queue in your own database, after
#   pip install "wagtail-leadgen[queue-db]"
# Add these lines at the end of mysite/settings/base.py.

INSTALLED_APPS += ["django_tasks", "django_tasks_db"]

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
