from django.apps import AppConfig


class BenchPeerConfig(AppConfig):
    name = "bench_peer"
    label = "bench_peer"
    verbose_name = "Benchmark peer (Wagtail form page)"
    default_auto_field = "django.db.models.BigAutoField"
