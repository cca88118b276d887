"""Assertions the hostile-input tests share: readable refusals, text shown escaped, nothing made live."""

from __future__ import annotations

from typing import Any

from httpx import Response
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.hostile import collapsed, escaped
from tests.markup import Element, parse

# Elements a payload could have made live if it were not escaped; the app's own markup has none of them.
LIVE_TAGS = frozenset({"img", "svg", "iframe", "object", "embed", "math", "style", "base"})
# The app's own hx-trigger attributes, as (tag, action or hx-get): the Activity filters and the list searches
# reload on change, team fields fetch suggestions as you type. A payload's would be on an element of its own.
APP_TRIGGERS = frozenset({("form", "/activity"), ("form", "/heroes"), ("form", "/teams"), ("input", "/teams/options")})


def assert_refused(response: Response, status: int) -> Element:
    """A refusal a person can read: the status, HTML (not JSON), and a heading, an alert or a field error."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("text/html")
    document = parse(response.text)
    readable = [
        element
        for element in document.descendants()
        if element.tag == "h1" or element.attrs.get("role") == "alert" or element.attrs.get("class") == "field-error"
    ]
    assert [element.text for element in readable if element.text], "the refusal says nothing readable"
    assert_inert(response.text)
    return document


def assert_inert(html: str) -> None:
    """Nothing in the markup that a payload could have made live: event handlers, htmx triggers or hx-on,
    inline scripts, images and other embedding elements, javascript: links, a second #toasts region."""
    document = parse(html)
    for element in document.descendants():
        handlers = [name for name in element.attrs if name.startswith(("on", "hx-on", "data-hx-on"))]
        assert handlers == [], f"<{element.tag}> has event handlers {handlers}"
        if "hx-trigger" in element.attrs:
            source = element.attrs.get("action") or element.attrs.get("hx-get")
            assert (element.tag, source) in APP_TRIGGERS, f"<{element.tag}> has hx-trigger"
        assert element.tag not in LIVE_TAGS or _own_qr_code(element), f"a <{element.tag}> element"
        assert element.tag != "script" or element.attrs.get("src"), "an inline <script>"
        assert element.tag != "meta" or "http-equiv" not in element.attrs, "a <meta http-equiv>"
        assert not element.attrs.get("href", "").strip().lower().startswith("javascript:"), "a javascript: link"
    assert len(document.find_all(id="toasts")) <= 1, "a second #toasts region"


def _own_qr_code(element: Element) -> bool:
    """The second-factor set-up page's QR code: the app's own <svg>, in its <figure class="qr">."""
    parent = element.parent
    return element.tag == "svg" and parent is not None and (parent.tag, parent.attrs.get("class")) == ("figure", "qr")


def assert_escaped(html: str, text: str) -> None:
    """`text` is in the markup escaped, never raw (when escaping changes it), and nothing was made live."""
    assert escaped(text) in html, f"{text!r} is not in the markup escaped"
    if escaped(text) != text:
        assert text not in html, f"{text!r} appears unescaped"
    assert_inert(html)


def assert_shown(html: str, text: str) -> None:
    """`text` appears as text on the page (not only in an attribute), escaped, with nothing made live."""
    assert_escaped(html, text)
    assert collapsed(text) in parse(html).text


def cell_texts(html: str, row_id: str) -> list[str]:
    """The texts of the cells of the row with this id."""
    return [cell.text for cell in parse(html).by_id(row_id).find_all("td")]


def attribute(html: str, element_id: str, name: str) -> str:
    """An attribute of the element with this id, entities decoded (what a browser would read)."""
    return parse(html).by_id(element_id).attrs[name]


def row_action_labels(html: str, row_id: str) -> dict[str, str]:
    """The row's Edit/Delete links: aria-label -> hx-confirm (empty for Edit)."""
    return {
        link.attrs["aria-label"]: link.attrs.get("hx-confirm", "")
        for link in parse(html).by_id(row_id).find_all("a")
        if "aria-label" in link.attrs
    }


async def snapshot(db: AsyncSession, model: type[SQLModel]) -> list[dict[str, Any]]:
    """Every row of a table, column by column, read afresh. Ends the read transaction: on SQLite the test
    session begins IMMEDIATE, and an open one would keep the app's writers waiting."""
    db.expire_all()
    key = col(model.id)  # type: ignore[attr-defined]
    rows = (await db.exec(select(model).order_by(key))).all()
    state = [row.model_dump() for row in rows]
    await db.commit()
    return state
