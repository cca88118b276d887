"""CSV import of heroes: the dry run lists what would happen and every problem by row and changes nothing; the
apply step checks it all again and applies everything or nothing, with history; bad files are readable refusals."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import Response
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.hostile_checks import assert_refused
from tests.markup import parse
from tests.support import (
    Client,
    Clock,
    all_heroes,
    audit_entries,
    database_state,
    fetch_hero,
    form_fields,
    id_of,
    make_hero,
    make_team,
    make_user,
    move_to_trash,
    sign_in,
)
from webapp.models import Role

HEADER = "ID,Name,Secret name,Age,Team,Version"
REPEAT = "That form had already been sent, so it was saved only once."


def csv_file(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


async def check(client: Client, content: bytes, filename: str = "heroes.csv") -> Response:
    return await client.post("/heroes/import", files={"file": (filename, content, "text/csv")})


async def apply(client: Client, checked: Response) -> Response:
    """Send the dry run page's "Apply import" form as a browser does (multipart, hidden fields as served)."""
    fields = form_fields(checked.text, "import-apply")
    return await client.post(
        "/heroes/import/apply", files={name: (None, value) for name, value in fields.items()}, follow_redirects=False
    )


def summary(response: Response) -> str:
    return parse(response.text).by_id("import-summary").text


def problems(response: Response) -> list[tuple[str, str, str]]:
    rows = parse(response.text).find("table", aria_label="Problems").find("tbody").find_all("tr")
    return [tuple(cell.text for cell in row.find_all("td")) for row in rows]  # type: ignore[misc]


def offers_apply(response: Response) -> bool:
    return parse(response.text).has("form", id="import-apply")


async def heroes(db: AsyncSession) -> list[tuple[str, str, int | None, int | None, int]]:
    """Every stored hero's fields. Ends the read: on SQLite the test session begins IMMEDIATE, and an open one
    would keep the app's writers waiting."""
    stored = [(hero.name, hero.secret_name, hero.age, hero.team_id, hero.version) for hero in await all_heroes(db)]
    await db.commit()
    return stored


async def flash_after(client: Client, response: Response) -> str:
    page = await client.get(response.headers["location"])
    return parse(page.text).by_id("toasts").text


# --- the form ---------------------------------------------------------------------------------------------------


async def test_import_page_has_a_multipart_upload_form_with_csrf(client: Client) -> None:
    response = await client.get("/heroes/import")
    assert response.status_code == 200
    page = parse(response.text)
    form = page.by_id("import-form")
    assert (form.attrs["method"], form.attrs["action"], form.attrs["enctype"]) == (
        "post",
        "/heroes/import",
        "multipart/form-data",
    )
    assert page.find("label", **{"for": "import-file"}).text == "CSV file"
    assert form.find("input", id="import-file").attrs["type"] == "file"
    assert form.find("input", name="_csrf").attrs["value"]
    assert [button.text for button in form.find_all("button")] == ["Check file"]


async def test_hero_list_links_to_the_import_for_editors_only(http: Client, db: AsyncSession, clock: Clock) -> None:
    await sign_in(http, db, await make_user(db, username="eddie", role=Role.editor), clock)
    assert parse((await http.get("/heroes")).text).find("a", href="/heroes/import").text == "Import CSV"
    await sign_in(http, db, await make_user(db, username="vic", role=Role.viewer), clock)
    assert not parse((await http.get("/heroes")).text).has("a", href="/heroes/import")


# --- dry run and apply --------------------------------------------------------------------------------------------


async def test_dry_run_lists_what_would_happen_and_changes_nothing(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Z-Force")
    kept = id_of(await make_hero(db, name="Deadpond", secret_name="Dive Wilson", age=48, team=team))
    changed = id_of(await make_hero(db, name="Rusty-Man", secret_name="Tommy Sharp", age=40))
    before, entries = await database_state(db), len(await audit_entries(db))
    response = await check(
        client,
        csv_file(
            HEADER,
            f"{kept},Deadpond,Dive Wilson,48,Z-Force,1",
            f"{changed},Rusty-Man,Tommy Sharp,41,Z-Force,",
            ",Spider-Boy,Pedro Parqueador,,,",
        ),
    )
    assert response.status_code == 200
    assert summary(response) == "1 to create, 1 to update, 1 unchanged. Nothing has been changed yet."
    changes = parse(response.text).find("table", aria_label="Changes").find_all("tr")[1:]
    assert [[cell.text for cell in row.find_all("td")] for row in changes] == [
        ["3", f"Update hero {changed}: Age, Team", "Rusty-Man"],
        ["4", "New hero", "Spider-Boy"],
    ]
    assert offers_apply(response)
    assert await database_state(db) == before
    assert len(await audit_entries(db)) == entries


async def test_apply_creates_and_updates_and_records_each_in_the_history(client: Client, db: AsyncSession) -> None:
    team_id = id_of(await make_team(db, name="Z-Force"))
    hero_id = id_of(await make_hero(db, name="Rusty-Man", secret_name="Tommy Sharp", age=40))
    checked = await check(
        client, csv_file(HEADER, f"{hero_id},Rusty-Man,Tommy Sharp,41,Z-Force,1", ",Spider-Boy,Pedro,15,,")
    )
    response = await apply(client, checked)
    assert (response.status_code, response.headers["location"]) == (303, "/heroes")
    assert await flash_after(client, response) == "Imported: 1 created, 1 updated."
    assert await heroes(db) == [("Rusty-Man", "Tommy Sharp", 41, team_id, 2), ("Spider-Boy", "Pedro", 15, None, 1)]
    history = [
        (entry.action, entry.record_id == hero_id, entry.username, entry.changes)
        for entry in await audit_entries(db)
        if entry.record_type == "hero"
    ]
    assert history == [
        ("update", True, "eddie", {"age": [40, 41], "team_id": [None, team_id]}),
        ("create", False, "eddie", {"name": [None, "Spider-Boy"], "secret_name": [None, "Pedro"], "age": [None, 15]}),
    ]


async def test_export_imported_back_unchanged_is_all_unchanged(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Z-Force")
    for name in ("Deadpond", "=1+1", "-Minus", "@mention", "'Tis", "'=x", "Señor, “quoted”"):
        await make_hero(db, name=name, secret_name=f"+{name}", age=None, team=team)
    await make_hero(db, name="Teamless", secret_name="Nobody", age=30)
    exported = (await client.get("/heroes/export.csv")).content
    response = await check(client, exported)
    assert response.status_code == 200
    assert summary(response) == "0 to create, 0 to update, 8 unchanged. Nothing has been changed yet."
    assert not offers_apply(response)


async def test_formula_looking_names_survive_an_export_edit_import_round_trip(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="=1+1", secret_name="@SUM(A1)", age=20))
    exported = (await client.get("/heroes/export.csv")).text.removeprefix("\ufeff")
    edited = exported.replace(",20,", ",21,").encode()
    assert (await apply(client, await check(client, edited))).status_code == 303
    hero = await fetch_hero(db, hero_id)
    assert hero is not None
    assert (hero.name, hero.secret_name, hero.age) == ("=1+1", "@SUM(A1)", 21)


async def test_columns_left_out_keep_their_stored_values(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Z-Force")
    team_id = id_of(team)
    hero_id = id_of(await make_hero(db, name="Rusty-Man", secret_name="Tommy Sharp", age=40, team=team))
    checked = await check(client, csv_file("id,NAME", f"{hero_id},Rusty Man"))
    assert summary(checked) == "0 to create, 1 to update, 0 unchanged. Nothing has been changed yet."
    assert (await apply(client, checked)).status_code == 303
    assert await heroes(db) == [("Rusty Man", "Tommy Sharp", 40, team_id, 2)]


async def test_semicolon_separated_file_with_byte_order_mark_is_read(client: Client, db: AsyncSession) -> None:
    content = "\ufeffName;Secret name;Age\r\nZoë;Zed;7\r\n".encode()
    assert (await apply(client, await check(client, content))).status_code == 303
    assert await heroes(db) == [("Zoë", "Zed", 7, None, 1)]


async def test_apply_sent_twice_applies_once(client: Client, db: AsyncSession) -> None:
    checked = await check(client, csv_file("Name,Secret name", "Spider-Boy,Pedro"))
    first, second = await apply(client, checked), await apply(client, checked)
    assert (first.status_code, second.status_code) == (303, 303)
    assert second.headers["location"] == first.headers["location"]
    assert await flash_after(client, second) == REPEAT
    assert [name for name, *_ in await heroes(db)] == ["Spider-Boy"]


# --- problems by row ----------------------------------------------------------------------------------------------


async def test_dry_run_lists_each_problem_by_row_and_column_and_offers_no_apply(
    client: Client, db: AsyncSession
) -> None:
    live = id_of(await make_hero(db, name="Deadpond"))
    trashed_hero = await make_hero(db, name="Rusty-Man")
    await move_to_trash(db, trashed_hero)
    trashed = id_of(trashed_hero)
    before = await database_state(db)
    response = await check(
        client,
        csv_file(
            HEADER,
            ",,Nameless,,,",
            ",Old,Timer,ancient,,",
            ",Lost,Soul,,Nobodies,",
            "999,Ghost,Boo,,,",
            f"{live},Deadpond,Dive Wilson,,,",
            f"{live},Deadpond,Again,,,",
            f"{trashed},Rusty-Man,Tommy Sharp,,,",
            "x1,Bad,Id,,,",
            ",Fine,Row,,,,extra",
        ),
    )
    assert_refused(response, 422)
    assert problems(response) == [
        ("2", "Name", "Name is required."),
        ("3", "Age", "Age must be a whole number from 0 to 10,000."),
        ("4", "Team", "No team is named “Nobodies”."),
        ("5", "ID", "No hero has ID 999. Leave ID blank to create a new hero."),
        ("7", "ID", f"ID {live} is also on row 6: a hero can be in the file only once."),
        (
            "8",
            "ID",
            f"Hero {trashed} (Rusty-Man) is in the trash. Restore it first, or leave ID blank to create one.",
        ),
        ("9", "ID", "ID must be a hero’s number, or blank to create a new hero."),
        ("10", "—", "This row has something in a column the header row does not name."),
    ]
    assert summary(response) == "0 to create, 0 to update, 1 unchanged."
    assert not offers_apply(response)
    assert await database_state(db) == before


async def test_file_exported_before_a_change_is_a_conflict_on_that_row(client: Client, db: AsyncSession) -> None:
    hero = await make_hero(db, name="Deadpond", age=30)
    exported = (await client.get("/heroes/export.csv")).content
    await client.post(
        f"/heroes/{hero.id}", data={"name": "Deadpond", "secret_name": "Dive Wilson", "age": "31", "version": "1"}
    )
    response = await check(client, exported.replace(b",30,", b",32,"))
    assert response.status_code == 409
    assert problems(response) == [
        (
            "2",
            "Version",
            "Deadpond was changed since this file was exported. Export again, or leave Version blank to overwrite "
            "the change.",
        )
    ]
    assert not offers_apply(response)


async def test_change_between_dry_run_and_apply_is_a_409_and_nothing_is_applied(
    client: Client, db: AsyncSession
) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond", secret_name="Dive Wilson", age=30))
    checked = await check(
        client, csv_file("ID,Name,Secret name,Age", f"{hero_id},Deadpond,Dive Wilson,31", ",New,Hero,")
    )
    assert checked.status_code == 200
    edit = {"name": "Deadpond", "secret_name": "Dive Wilson", "age": "35", "version": "1"}
    assert (await client.post(f"/heroes/{hero_id}", data=edit, follow_redirects=False)).status_code == 303
    before = await database_state(db)
    response = await apply(client, checked)
    assert_refused(response, 409)
    assert problems(response) == [("2", "—", "Deadpond was changed by someone else after the file was checked.")]
    assert await database_state(db) == before  # not even the new hero of row 3
    # "Check again" shows the file against the hero as it is now, and may then be applied on top of it.
    recheck = parse(response.text).by_id("import-recheck")
    again = await client.post(
        recheck.attrs["action"],
        files={name: (None, value) for name, value in form_fields(response.text, "import-recheck").items()},
    )
    assert again.status_code == 200
    assert summary(again) == "1 to create, 1 to update, 0 unchanged. Nothing has been changed yet."
    assert (await apply(client, again)).status_code == 303
    assert await heroes(db) == [("Deadpond", "Dive Wilson", 31, None, 3), ("New", "Hero", None, None, 1)]


async def test_apply_checks_everything_again_and_refuses_a_forged_form(client: Client, db: AsyncSession) -> None:
    await make_hero(db)
    before = await database_state(db)
    forged = {"content": "Name,Secret name\r\nGood,Row\r\n,Nameless\r\n", "versions": ""}
    response = await client.post("/heroes/import/apply", files={k: (None, v) for k, v in forged.items()})
    assert_refused(response, 422)
    assert problems(response) == [("3", "Name", "Name is required.")]
    assert await database_state(db) == before


async def test_apply_with_tampered_versions_is_refused(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db))
    before = await database_state(db)
    forged = {"content": f"ID,Name\r\n{hero_id},Renamed\r\n", "versions": f"{hero_id}:one"}
    assert_refused(await client.post("/heroes/import/apply", data=forged), 422)
    forged["versions"] = ""  # no version seen for the hero: as if it had changed since
    assert_refused(await client.post("/heroes/import/apply", data=forged), 409)
    assert await database_state(db) == before


# --- bad files -----------------------------------------------------------------------------------------------------

# One file refused while decoding, one refused while reading, one empty (every bad file these tests once uploaded is
# read without a server in tests/unit/test_csv_files.py).
BAD_FILES = {
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01", "not UTF-8 text"),
    "no Name column": (b"ID,Secret name\r\n1,Dive\r\n", "has no Name column"),
    "empty": (b"", "The file is empty."),
}


async def test_bad_file_is_a_readable_422_and_changes_nothing(client: Client, db: AsyncSession) -> None:
    await make_hero(db)
    before = await database_state(db)
    for name, (content, message) in BAD_FILES.items():
        response = await check(client, content)
        page = assert_refused(response, 422)
        assert message in page.by_id("import-file-error").text, name
        assert page.by_id("import-file").attrs["aria-invalid"] == "true", name
    assert await database_state(db) == before


async def test_form_sent_without_choosing_a_file_asks_for_one(client: Client) -> None:
    # A browser sends a file field left empty as a part without a file name.
    response = await client.post("/heroes/import", files={"file": ("", b"", "application/octet-stream")})
    assert "Choose a CSV file to check." in assert_refused(response, 422).by_id("import-file-error").text


async def test_file_over_the_import_limit_is_a_413_page(client: Client, db: AsyncSession) -> None:
    content = csv_file("Name,Secret name", *(f"{'x' * 90},{'y' * 90}" for _ in range(4_400)))
    assert 786_432 < len(content) < 1_000_000
    page = assert_refused(await check(client, content), 413)
    assert "larger than 768 KB" in page.by_id("import-file-error").text
    assert await heroes(db) == []


async def test_body_over_the_request_limit_is_a_413_page(client: Client, db: AsyncSession) -> None:
    assert_refused(await check(client, b"Name\r\n" + b"x" * 1_100_000), 413)
    assert await heroes(db) == []


# --- who may ------------------------------------------------------------------------------------------------------


async def test_import_needs_the_csrf_token(client: Client, db: AsyncSession) -> None:
    checked = await check(client, csv_file("Name,Secret name", "Spider-Boy,Pedro"))
    fields: dict[str, Any] = form_fields(checked.text, "import-apply")
    del client.headers["X-CSRF-Token"]
    files = {name: (None, value) for name, value in fields.items() if name != "_csrf"}
    assert_refused(await client.post("/heroes/import/apply", files=files), 403)
    upload = {"file": ("heroes.csv", b"Name,Secret name\r\nA,B\r\n", "text/csv")}
    assert_refused(await client.post("/heroes/import", files=upload), 403)
    assert await heroes(db) == []
    # The form's own field is enough: that is how a browser without JavaScript sends it.
    assert (
        await client.post(
            "/heroes/import/apply", files=files | {"_csrf": (None, fields["_csrf"])}, follow_redirects=False
        )
    ).status_code == 303


@pytest.mark.parametrize(("method", "path"), [("GET", "/heroes/import"), ("POST", "/heroes/import")])
async def test_viewer_may_not_import(http: Client, db: AsyncSession, clock: Clock, method: str, path: str) -> None:
    await sign_in(http, db, await make_user(db, username="vic", role=Role.viewer), clock)
    files = {"file": ("heroes.csv", b"Name,Secret name\r\nA,B\r\n", "text/csv")} if method == "POST" else None
    assert_refused(await http.request(method, path, files=files), 403)
    assert await heroes(db) == []


async def test_viewer_may_not_apply(http: Client, db: AsyncSession, clock: Clock) -> None:
    await sign_in(http, db, await make_user(db, username="vic", role=Role.viewer), clock)
    response = await http.post("/heroes/import/apply", data={"content": "Name,Secret name\r\nA,B\r\n"})
    assert_refused(response, 403)
    assert await heroes(db) == []
