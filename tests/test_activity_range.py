"""Activity's date range (From and To, whole UTC days, both included; a bad date is a 400 saying what is wrong)
and its CSV export of exactly the filtered entries, newest first, which is itself recorded."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from httpx import Response
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import Client, Clock, audit_entries, make_user, named_link, sign_in
from webapp.models import AuditEntry, Role, User


async def entries_on(db: AsyncSession, user: User, *moments: datetime) -> list[int]:
    """One hero change at each moment, oldest first; their ids."""
    rows = [
        AuditEntry(
            at=at,
            user_id=user.id,
            username=user.username,
            action="update",
            record_type="hero",
            record_id=n + 1,
            label=f"Hero {n}",
            changes={"age": [n, n + 1]},
        )
        for n, at in enumerate(moments)
    ]
    db.add_all(rows)
    await db.commit()
    return [row.id for row in rows if row.id is not None]


def shown(response: Response) -> list[int]:
    assert response.status_code == 200, response.text
    items = parse(response.text).by_id("activity").find_all("li", **{"class": "history-entry"})
    return [int(item.attrs["id"].removeprefix("entry-")) for item in items]


def day(text: str, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.fromisoformat(text).replace(hour=hour, minute=minute, tzinfo=UTC)


@pytest.fixture
async def three_days(db: AsyncSession, editor: User) -> list[int]:
    return await entries_on(
        db, editor, day("2026-11-30", 23, 59), day("2026-12-01", 0, 0), day("2026-12-02", 23, 59), day("2026-12-03")
    )


async def test_from_and_to_include_whole_days(client: Client, three_days: list[int]) -> None:
    response = await client.get("/activity", params={"from": "2026-12-01", "to": "2026-12-02"})
    assert shown(response) == [three_days[2], three_days[1]]
    form = parse(response.text)
    assert form.find("input", id="activity-from").attrs["value"] == "2026-12-01"
    assert form.find("input", id="activity-to").attrs["value"] == "2026-12-02"


async def test_from_alone_and_to_alone(client: Client, three_days: list[int]) -> None:
    assert shown(await client.get("/activity", params={"from": "2026-12-02"})) == three_days[:1:-1]
    assert shown(await client.get("/activity", params={"to": "2026-11-30"})) == [three_days[0]]


async def test_the_range_combines_with_the_other_filters(
    client: Client, db: AsyncSession, three_days: list[int]
) -> None:
    olga = await make_user(db, username="olga")
    [hers] = await entries_on(db, olga, day("2026-12-01", 12))
    assert shown(
        await client.get("/activity", params={"from": "2026-12-01", "to": "2026-12-01", "user": str(olga.id)})
    ) == [hers]
    assert shown(await client.get("/activity", params={"from": "2026-12-01", "to": "2026-12-01", "type": "team"})) == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "yesterday"}, "“From” must be a date written like 2026-12-31."),
        ({"to": "2026-02-30"}, "“To” must be a date written like 2026-12-31."),
        ({"from": "20261201"}, "“From” must be a date written like 2026-12-31."),
        ({"to": "2026-12-01T00:00"}, "“To” must be a date written like 2026-12-31."),
        ({"from": "2026-12-03", "to": "2026-12-01"}, "“From” is after “To”"),
    ],
)
async def test_a_bad_range_is_refused_400_saying_what_is_wrong(
    client: Client, params: dict[str, str], message: str
) -> None:
    for path in ("/activity", "/activity/export.csv"):
        response = await client.get(path, params=params)
        assert response.status_code == 400, path
        assert message in response.text
        assert "text/html" in response.headers["content-type"]


async def test_the_last_day_there_is_is_a_valid_end(client: Client, three_days: list[int]) -> None:
    assert shown(await client.get("/activity", params={"to": "9999-12-31"})) == three_days[::-1]
    assert shown(await client.get("/activity", params={"from": "0001-01-01"})) == three_days[::-1]


def table(response: Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff"), newline="")))


async def test_the_export_is_the_filtered_activity_newest_first(client: Client, three_days: list[int]) -> None:
    page = await client.get("/activity", params={"from": "2026-12-01", "to": "2026-12-02"})
    found = named_link(page.text, "Export CSV")
    assert found is not None
    link = found.attrs["href"]
    assert link == "/activity/export.csv?from=2026-12-01&to=2026-12-02"
    response = await client.get(link)
    assert response.headers["content-disposition"] == 'attachment; filename="activity.csv"'
    header, *rows = table(response)
    assert header == ["ID", "Time (UTC)", "User", "Action", "Record type", "Record ID", "Record", "Changes", "Note"]
    assert [int(row[0]) for row in rows] == [three_days[2], three_days[1]]
    assert rows[0][1:8] == ["2026-12-02T23:59:00+00:00", "eddie", "update", "hero", "3", "Hero 2", '{"age": [2, 3]}']


async def test_the_export_is_recorded(client: Client, db: AsyncSession, editor: User, three_days: list[int]) -> None:
    await db.refresh(editor)
    editor_id = editor.id
    await db.commit()  # the read's transaction holds SQLite's write lock until it ends
    response = await client.get("/activity/export.csv", params={"type": "hero", "from": "2026-12-01"})
    assert len(table(response)) == 1 + 3
    entry = (await audit_entries(db))[-1]
    assert (entry.action, entry.record_type, entry.user_id) == ("export", "account", editor_id)
    assert entry.note == "Activity export of type=hero&from=2026-12-01"


async def test_export_cells_that_look_like_formulas_are_neutralised(
    client: Client, db: AsyncSession, editor: User
) -> None:
    await db.refresh(editor)
    db.add(
        AuditEntry(
            at=day("2026-12-01"),
            user_id=editor.id,
            username=editor.username,
            action="create",
            record_type="hero",
            record_id=1,
            label="=HYPERLINK(1)",
        )
    )
    await db.commit()
    [_header, row] = table(await client.get("/activity/export.csv", params={"type": "hero"}))
    assert row[6] == "'=HYPERLINK(1)"


async def test_viewers_export_but_not_sign_in_events(http: Client, db: AsyncSession, clock: Clock) -> None:
    viewer = await make_user(db, username="vera", role=Role.viewer)
    await sign_in(http, db, viewer, clock)
    assert (await http.get("/activity/export.csv")).status_code == 200
    assert (await http.get("/activity/export.csv", params={"type": "account"})).status_code == 403


async def test_an_admins_export_holds_sign_in_events(http: Client, db: AsyncSession, clock: Clock) -> None:
    admin = await make_user(db, username="ada", role=Role.admin)
    await sign_in(http, db, admin, clock)
    await http.get("/activity/export.csv")  # recorded as an account event
    # The second export's record is written before its file is read: it lists itself too.
    _header, *rows = table(await http.get("/activity/export.csv", params={"type": "account"}))
    assert [(row[2], row[3]) for row in rows] == [("ada", "export"), ("ada", "export")]
    assert (clock() - timedelta(minutes=1)).isoformat() < rows[0][1]
