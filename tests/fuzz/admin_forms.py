"""Find the admin's forms the way a browser does: crawl the pages, read each POST form."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import HTTPException


@dataclass
class Form:
    """One POST form: where it posts, and each field with the values the page offers."""

    action: str
    fields: dict[str, list[str]] = field(default_factory=dict)


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/admin"):
            self.links.append(a["href"].split("#", 1)[0])
        elif tag == "form" and a.get("method", "get").lower() == "post":
            self._form = Form(a.get("action", ""))
            self.forms.append(self._form)
        elif self._form is None or not a.get("name") and tag != "option":
            return
        elif tag in ("input", "button", "textarea"):
            values = self._form.fields.setdefault(a["name"], [])
            if a.get("value"):
                values.append(a["value"])
        elif tag == "select":
            self._select = a["name"]
            self._form.fields.setdefault(a["name"], [])
        elif tag == "option" and self._select is not None:
            self._form.fields[self._select].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def crawl_forms(client: FlaskClient, start: str = "/admin/", limit: int = 80) -> list[Form]:
    """Return every POST form on the admin pages reachable from ``start`` by links."""
    seen: set[str] = set()
    queue = deque([start])
    forms: list[Form] = []
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen or url.split("?", 1)[0].endswith(".csv"):
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            # A streamed response left unread holds its request context open (a server
            # always reads or closes it): close it before the next request.
            response.close()
            continue
        reader = _FormReader()
        reader.feed(response.get_data(as_text=True))
        forms += reader.forms
        queue.extend(link for link in reader.links if link not in seen)
    return forms


def endpoint_of(app: Flask, url: str) -> str | None:
    """Return the endpoint a POST to ``url`` reaches, or None."""
    try:
        path = url.split("#", 1)[0].split("?", 1)[0]  # a form may post to its section's anchor
        endpoint, _ = app.url_map.bind("localhost").match(path, method="POST")
    except HTTPException:
        return None
    return str(endpoint)
