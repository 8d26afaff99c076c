"""Fill in a page's form as a visitor's browser would, from its HTML alone.

``vs_wagtail_forms.py`` posts to two different pages (ours and Wagtail's form
builder page) and must keep working while the pages change, so nothing here
knows a field name: every hidden input is sent back with its value (CSRF
token, signed form token, whatever the page carries), a field hidden from
people (a honeypot) is left empty, each box is ticked, and the visible fields
get plausible values by type (the email address is a placeholder that each
request replaces). If the form names a URL for its token
(``data-leadgen-token-url``), it is fetched and its ``token`` used, as the
page's script would.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin

BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
EMAIL_PLACEHOLDER = "\x00EMAIL\x00"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link"}
VOID |= {"meta", "source", "track", "wbr"}
SKIPPED_TYPES = {"submit", "button", "image", "reset", "file"}


@dataclass
class FormInput:
    name: str
    type: str
    value: str
    id: str
    required: bool
    concealed: bool  # inside a hidden container: a trap for bots
    label: str = ""


@dataclass
class HtmlForm:
    attrs: dict[str, str]
    inputs: list[FormInput] = field(default_factory=list)

    def visible(self) -> list[FormInput]:
        """The inputs a person fills in (not hidden, not a trap, not a button)."""
        return [
            item
            for item in self.inputs
            if item.type not in SKIPPED_TYPES | {"hidden"} and not item.concealed
        ]


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self.labels: dict[str, str] = {}
        self._stack: list[tuple[str, bool]] = []
        self._in_form = False
        self._label: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        found = {name: value or "" for name, value in attrs}
        concealed = bool(self._stack and self._stack[-1][1])
        concealed = concealed or "hidden" in found
        concealed = concealed or found.get("aria-hidden") == "true"
        if tag == "form":
            self.forms.append(HtmlForm(found))
            self._in_form = True
        elif tag in ("input", "select", "textarea") and self._in_form:
            self.forms[-1].inputs.append(
                FormInput(
                    name=found.get("name", ""),
                    type=found.get("type", "text" if tag == "input" else tag).lower(),
                    value=found.get("value", ""),
                    id=found.get("id", ""),
                    required="required" in found,
                    concealed=concealed,
                )
            )
        elif tag == "label":
            self._label = (found.get("for", ""), [])
        if tag not in VOID:
            self._stack.append((tag, concealed))

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        if tag == "label" and self._label is not None:
            target, text = self._label
            self.labels[target] = " ".join("".join(text).split())
            self._label = None
        if any(name == tag for name, _ in self._stack):
            while self._stack and self._stack.pop()[0] != tag:
                pass

    def handle_data(self, data):
        if self._label is not None:
            self._label[1].append(data)


def find_post_form(html: str) -> HtmlForm:
    """The page's first form posted with method="post", its labels attached."""
    parser = _FormParser()
    parser.feed(html)
    for form in parser.forms:
        if form.attrs.get("method", "get").lower() == "post":
            for item in form.inputs:
                label = parser.labels.get(item.id, "")
                item.required = item.required or label.endswith("*")
                item.label = label.rstrip("* ").strip()
            return form
    raise ValueError("the page has no <form method=post>")


def visitor_value(item: FormInput) -> str:
    """What a visitor types into a visible field."""
    name = item.name.lower()
    if item.type == "email" or name == "email":
        return EMAIL_PLACEHOLDER
    if item.type in ("checkbox", "radio"):
        return item.value or "on"
    if item.type == "tel" or "phone" in name:
        return "+33 1 23 45 67 89"
    if "company" in name:
        return "Bench SARL"
    if "name" in name:
        return "Camille"
    return "bench"


def form_fields(form: HtmlForm) -> list[tuple[str, str]]:
    """The (name, value) pairs a browser would post, the email a placeholder."""
    fields: list[tuple[str, str]] = []
    radios: set[str] = set()
    for item in form.inputs:
        if not item.name or item.type in SKIPPED_TYPES:
            continue
        if item.type == "hidden":
            fields.append((item.name, item.value))
        elif item.concealed:
            fields.append((item.name, ""))
        elif item.type == "radio":
            if item.name not in radios:
                radios.add(item.name)
                fields.append((item.name, visitor_value(item)))
        else:
            fields.append((item.name, visitor_value(item)))
    return fields


# A fetcher: (method, path, body or None) -> (status, headers, body bytes),
# keeping the cookies it is given, as a browser does.
Fetch = Callable[[str, str, bytes | None], tuple[int, list[tuple[str, str]], bytes]]


# The form's time-trap token (wagtail_leadgen.forms.TOKEN_FIELD).
TOKEN_FIELD = "leadgen_token"  # noqa: S105 - a field name, not a secret


@dataclass
class PreparedPost:
    """One visitor's filled-in form, ready to be posted with any address."""

    action: str
    prefix: str  # the urlencoded body up to the email address
    suffix: str  # and after it

    def body(self, email: str) -> str:
        return self.prefix + urlencode({"": email})[1:] + self.suffix


def prepare_post(fetch: Fetch, path: str) -> PreparedPost:
    """GET ``path`` and fill its form in (fetching its token if it asks to)."""
    status, _headers, html = fetch("GET", path, None)
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}")
    form = find_post_form(html.decode())
    fields = form_fields(form)
    token_url = form.attrs.get("data-leadgen-token-url")
    if token_url:
        # As the form's script does: swap the page token (the same in every
        # copy of a shared page) for this visitor's own, fetched with it.
        page_token = dict(fields).get(TOKEN_FIELD, "")
        url = urljoin(path, token_url) + "?" + urlencode({"t": page_token})
        status, _headers, answer = fetch("GET", url, None)
        if status != 200:
            raise RuntimeError(f"GET {url} answered {status}")
        fields = [(name, value) for name, value in fields if name != TOKEN_FIELD]
        fields.append((TOKEN_FIELD, json.loads(answer)["token"]))
    if not any(value == EMAIL_PLACEHOLDER for _name, value in fields):
        raise RuntimeError(f"the form of {path} has no email field")
    prefix, suffix = urlencode(fields).split(urlencode({"": EMAIL_PLACEHOLDER})[1:])
    return PreparedPost(urljoin(path, form.attrs.get("action") or path), prefix, suffix)


class Session:
    """A visitor over HTTP on 127.0.0.1: one connection per request, cookies
    kept, a browser's User-Agent (the view counter skips bots)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def fetch(self, method: str, path: str, body: bytes | None = None):
        headers = {"User-Agent": BROWSER, "Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";")[0]
        return response.status, response.getheaders(), data
