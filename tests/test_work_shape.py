"""The shape of a list request's work, which a regression would change whatever the machine's speed: a fixed,
small number of SQL statements whatever the list's size (no query per row), and each template loaded at most
once per page (no import or include per row)."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from httpx import Response
from jinja2.runtime import Context, Macro
from litestar import Litestar, Request
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import HEROES, HTMX, Client, Subject, each_resource, link
from tests.test_records_delete import delete_from_the_row
from tests.test_records_edit import save
from webapp.data import keyset, writes
from webapp.db import WRITE_OPTION

# The session lookup, then an unfiltered list's page, which carries its count (the kept live count) in its rows;
# a search counts its matches (up to the cap) before its page.
STATEMENTS = {"": 2, "?q=Item": 3, "?size=50": 2}


def _expected(subject: Subject, base: int) -> int:
    """Besides, for each field pointing at another resource, its filter's select: one statement reads that
    resource's names, one past the select limit, which also says whether a select is offered
    (webapp.controllers.pages.pickers)."""
    return base + len(subject.resource.references)


@contextmanager
def listening(engines: Iterable[AsyncEngine], name: str, record: Callable[..., None]) -> Iterator[None]:
    """`record` hears the engines' `name` event meanwhile."""
    syncs = [engine.sync_engine for engine in engines]
    for engine in syncs:
        event.listen(engine, name, record)
    try:
        yield
    finally:
        for engine in syncs:
            event.remove(engine, name, record)


@contextmanager
def statements(app: Litestar) -> Iterator[list[str]]:
    """The SQL statements the app's engines run meanwhile (SQLite's writer has an engine of its own)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    with listening(app.state.engines, "before_cursor_execute", record):
        yield seen


@contextmanager
def write_transactions(app: Litestar) -> Iterator[list[Any]]:
    """The write transactions begun meanwhile: a writer session's connections carry WRITE_OPTION (webapp.db)."""
    begun: list[Any] = []

    def record(connection: Any) -> None:
        if connection.get_execution_options().get(WRITE_OPTION, False):
            begun.append(connection)

    with listening(app.state.engines, "begin", record):
        yield begun


async def _statements_for(client: Client, app: Litestar, url: str) -> list[str]:
    await client.get(url)  # warm: connections made, nothing left to set up
    with statements(app) as seen:
        response = await client.get(url)
    assert response.status_code == 200
    return seen


@each_resource
@pytest.mark.parametrize("query", list(STATEMENTS))
async def test_a_list_runs_the_same_few_statements_at_any_size(
    client: Client, app: Litestar, db: AsyncSession, subject: Subject, query: str
) -> None:
    await subject.make_many(db, 3)
    few = await _statements_for(client, app, subject.path + query)
    await subject.make_many(db, 70, prefix="More")
    many = await _statements_for(client, app, subject.path + query)
    expected = _expected(subject, STATEMENTS[query])
    if query.startswith("?q=") and subject.name == "hero" and db.get_bind().dialect.name == "sqlite":
        expected += 1  # a hero search on SQLite looks up the teams its text names once (search.teams_named)
    assert len(few) == len(many) == expected, many


@each_resource
async def test_the_table_fragment_runs_the_page_statements_but_the_filters(
    client: Client, app: Litestar, db: AsyncSession, subject: Subject
) -> None:
    """The fragment swaps the table only: the filter form, and the statements of its selects, stay out."""
    await subject.make_many(db, 60)
    page = await _statements_for(client, app, subject.path + "?size=50")
    with statements(app) as fragment:
        assert (await client.get(subject.path + "?size=50", headers=HTMX)).status_code == 200
    assert len(page) == _expected(subject, 2)
    assert len(fragment) == 2
    assert set(fragment) <= set(page)


@pytest.fixture
def template_loads(app: Litestar, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Each template name the app's Jinja environment is asked for (pages, includes and imports alike)."""
    environment = app.template_engine.engine  # type: ignore[union-attr]
    loads: Counter[str] = Counter()
    original = environment.get_template

    def counted(name: Any, *args: Any, **kwargs: Any) -> Any:
        loads[str(name)] += 1
        return original(name, *args, **kwargs)

    monkeypatch.setattr(environment, "get_template", counted)
    return loads


@each_resource
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
async def test_a_list_render_loads_each_template_once_at_any_size(
    client: Client, db: AsyncSession, subject: Subject, template_loads: Counter[str], headers: dict[str, str]
) -> None:
    await subject.make_many(db, 3)
    await client.get(subject.path, headers=headers)  # warm: a module Jinja keeps is loaded on first use only
    template_loads.clear()
    await client.get(subject.path, headers=headers)
    few = dict(template_loads)
    template_loads.clear()
    await subject.make_many(db, 70, prefix="More")
    await client.get(subject.path + "?size=100", headers=headers)
    assert dict(template_loads) == few
    assert set(few.values()) == {1}, few


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[keyset.Part]:
    """The seek statements the lists build from now on (keyset.seek_statement), none kept from earlier tests."""
    parts: list[keyset.Part] = []
    original = keyset.seek_statement

    def counted(statement: Any, sort: keyset.SortKey, part: keyset.Part) -> Any:
        parts.append(part)
        return original(statement, sort, part)

    monkeypatch.setattr(keyset, "seek_statement", counted)
    monkeypatch.setattr(keyset, "SHAPES", keyset.Shapes())  # none built by earlier tests in this process
    return parts


@each_resource
async def test_a_list_builds_its_statements_once_per_shape(
    client: Client, db: AsyncSession, subject: Subject, built: list[keyset.Part]
) -> None:
    """Pages after the first of each shape run statements built before (their values are bound parameters,
    keyset.SHAPES): building a statement and its cache key was a tenth of a list page."""
    await subject.make_many(db, 80)
    query = "?size=25&sort=-name"
    second = link((await client.get(subject.path + query)).text, "next")
    assert second is not None
    third = link((await client.get(second)).text, "next")
    assert third is not None
    assert built  # the first page and the first page past a cursor built theirs
    built.clear()
    assert link((await client.get(third)).text, "prev") is not None
    assert link((await client.get(second)).text, "prev") is not None
    assert built == []


@each_resource
async def test_saves_build_their_update_once(
    client: Client, db: AsyncSession, subject: Subject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save's conditional UPDATE is built once per resource and set of fields, its values bound as parameters
    (webapp.data.writes._update_statement): each save after the first runs the statement built before."""
    built: list[Any] = []
    original = writes.update

    def counted(model: Any) -> Any:
        built.append(model)
        return original(model)

    monkeypatch.setattr(writes, "update", counted)
    writes._update_statement.cache_clear()  # none built by earlier tests in this process
    record = await subject.make(db)
    for turn in range(3):
        saved = await save(client, subject, record.id, {"name": f"Renamed {turn}"}, htmx=True)
        assert saved.status_code == 200
    assert len(built) == 1
    stored = await subject.stored(db, record.id)
    assert (stored.name, stored.version) == ("Renamed 2", 4)  # every save applied, on the version it was given


@each_resource
@pytest.mark.parametrize(("change", "count"), [("create", 3), ("save", 2), ("delete", 1)])
async def test_an_inline_change_is_one_write_transaction(
    client: Client, app: Litestar, db: AsyncSession, subject: Subject, change: str, count: int
) -> None:
    """The row and the list's count an htmx answer shows are read in the change's own transaction, before its
    commit: a transaction begun after it would take (on SQLite) a second turn in the queue for the write lock."""
    record = await subject.make(db, "Before")
    await subject.make(db, "Other")
    with write_transactions(app) as begun:
        if change == "create":
            answer = await client.post(subject.path, data=subject.valid("Created One"), headers=HTMX)
        elif change == "save":
            answer = await save(client, subject, record.id, {"name": "Renamed"}, htmx=True)
        else:
            answer = await delete_from_the_row(client, subject, record.id)
    assert answer.status_code == 200
    assert len(begun) == 1
    assert parse(answer.text).by_id(subject.summary_id).text == subject.resource.count(count)
    # Committed, not only shown: another connection finds the change.
    live = {record.name for record in await subject.all(db) if record.deleted_at is None}
    assert (
        live
        == {"create": {"Before", "Other", "Created One"}, "save": {"Renamed", "Other"}, "delete": {"Other"}}[change]
    )


async def test_hero_searches_build_their_statements_once_per_shape(
    client: Client, db: AsyncSession, built: list[keyset.Part]
) -> None:
    """A search's words are bound values too (search.Searched): another search of the same kind (ASCII text of
    three letters or more) runs the statements the first one built, and finds its own heroes."""
    await HEROES.make_many(db, 3, prefix="Spider")
    await HEROES.make_many(db, 2, prefix="Bat")
    first = await client.get("/heroes", params={"q": "spider"})
    assert built
    assert "3 heroes match" in first.text
    built.clear()
    second = await client.get("/heroes", params={"q": "bat"})
    assert built == []
    assert "2 heroes match" in second.text
    assert "Bat 01" in second.text
    assert "Spider 01" not in second.text


@contextmanager
def left_for_the_collector() -> Iterator[list[object]]:
    """What the code inside leaves that only the garbage collector can free (objects in reference cycles)."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    left: list[object] = []
    try:
        yield left
        gc.collect()
        left += gc.garbage
    finally:
        gc.garbage.clear()
        gc.set_debug(0)
        gc.enable()


# Objects of a request's own that a cycle left behind would keep: every one of them reaches the page's data.
REQUESTS_OWN = (Context, Macro, Request, AsyncSession, keyset.Window)


@each_resource
@pytest.mark.parametrize(
    "page", ["list", "list fragment", "detail", "edit form", "edit row", "save", "trash"], ids=lambda page: page
)
async def test_a_page_leaves_nothing_for_the_garbage_collector(
    client: Client, db: AsyncSession, subject: Subject, page: str
) -> None:
    """A request's objects (its template contexts and macros, the request, its database session, the rows it
    shows) are freed when it is answered, not kept in a reference cycle until the collector's next pass: the
    passes cost a list page 5% of its time, and made it wait while they ran. (The test client's own cycles are
    not counted.)"""
    record_id = (await subject.make(db, "Ant")).id
    requests: dict[str, Callable[[], Awaitable[Response]]] = {
        "list": lambda: client.get(subject.path),
        "list fragment": lambda: client.get(subject.path, headers=HTMX),
        "detail": lambda: client.get(subject.url(record_id)),
        "edit form": lambda: client.get(subject.url(record_id, "/edit")),
        "edit row": lambda: client.get(subject.url(record_id, "/edit"), headers=HTMX),
        "save": lambda: save(client, subject, record_id, {"name": f"Ant {next(names)}"}, htmx=True),
        "trash": lambda: client.get("/trash"),
    }
    names = iter(range(2))
    assert (await requests[page]()).status_code == 200  # warm: what Jinja and SQLAlchemy keep is made on first use
    with left_for_the_collector() as left:
        assert (await requests[page]()).status_code == 200
    assert [type(thing).__qualname__ for thing in left if isinstance(thing, REQUESTS_OWN)] == []
