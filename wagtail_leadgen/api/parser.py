"""Strict JSON bodies: ``application/json`` only, no duplicate keys.

A duplicated key is ambiguous (parsers disagree on which value wins), so it is
refused rather than guessed; so is any other content type (415).
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from ninja.parser import Parser

from .problems import ApiProblem


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ApiProblem(
                400, "duplicate-key", f"The JSON body repeats the key {key!r}."
            )
        result[key] = value
    return result


class StrictJSONParser(Parser):
    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        content_type = request.content_type or ""
        if content_type != "application/json":
            raise ApiProblem(
                415, "unsupported-media-type", "Send the body as application/json."
            )
        try:
            data = json.loads(request.body, object_pairs_hook=_refuse_duplicates)
        except (ValueError, UnicodeDecodeError) as error:
            raise ApiProblem(
                400, "malformed-json", "The body is not valid JSON."
            ) from error
        if not isinstance(data, dict):
            raise ApiProblem(400, "malformed-json", "The body must be a JSON object.")
        return data
