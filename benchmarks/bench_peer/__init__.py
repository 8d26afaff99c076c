"""The benchmark's peer: Wagtail's own form builder page (``AbstractEmailForm``).

An app of the benchmarks only, installed by ``benchmarks/bench_settings.py``:
the demo and a site's editors never see this page type.
"""
