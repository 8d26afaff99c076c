"""A frontend-cache backend that records the URLs Wagtail asks it to purge."""

from wagtail.contrib.frontend_cache.backends import BaseBackend

purged: list[str] = []


class RecordingBackend(BaseBackend):
    def purge(self, url) -> None:
        purged.append(url)
