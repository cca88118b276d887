"""CSV in a real browser: "Export CSV" downloads what the list shows after a search, and an import goes through
Chromium's own multipart upload, dry run and apply (the checked file travelling back in the apply form)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.support import add_hero, add_team, expect_no_axe_violations
from tests.support import all_heroes


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def test_export_after_a_search_downloads_exactly_the_heroes_found(page: Page, server: LiveServer) -> None:
    team = add_team(server, name="Preventers")
    add_hero(server, name="Rusty-Man", secret_name="Tommy Sharp", age=48, team_id=team)
    add_hero(server, name="Spider-Boy", secret_name="Pedro Parqueador", age=16)
    add_hero(server, name="Deadpond", secret_name="Dive Wilson", age=30, team_id=team)
    add_hero(server, name="Batman", secret_name="Bruce Wayne", age=40)
    page.goto("/heroes")
    page.get_by_label("Search", exact=True).fill("man")
    export = page.get_by_role("link", name="Export CSV", exact=True)
    # Typing searches as you go: the list, and its export link, follow the search without a reload.
    expect(export).to_have_attribute("href", "/heroes/export.csv?q=man")
    with page.expect_download() as download_info:
        export.click()
    download = download_info.value
    assert download.suggested_filename == "heroes.csv"
    rows = _rows(Path(download.path()))
    assert rows[0] == ["ID", "Name", "Secret name", "Age", "Team", "Version"]
    assert [row[1:5] for row in rows[1:]] == [
        ["Batman", "Bruce Wayne", "40", ""],
        ["Rusty-Man", "Tommy Sharp", "48", "Preventers"],
    ]
    expect(page).to_have_url(f"{server.url}/heroes?q=man")  # the download left the page where it was


def test_import_through_the_browser_checks_then_applies_the_file(
    nojs_page: Page, server: LiveServer, tmp_path: Path
) -> None:
    add_team(server, name="Z-Force")
    hero_id = add_hero(server, name="Rusty-Man", secret_name="Tommy Sharp", age=48)
    upload = tmp_path / "heroes.csv"
    # Quotes, a comma and a formula-looking name, with Windows line ends and Excel's byte order mark.
    upload.write_text(
        "\ufeffID,Name,Secret name,Age,Team\r\n"
        f"{hero_id},Rusty-Man,Tommy Sharp,49,Z-Force\r\n"
        ',"Zoë ""Z"", Jr.",\'=1+1,,\r\n',
        encoding="utf-8",
    )
    page = nojs_page
    page.goto("/heroes")
    page.get_by_role("link", name="Import CSV", exact=True).click()
    page.get_by_label("CSV file", exact=True).set_input_files(upload)
    page.get_by_role("button", name="Check file", exact=True).click()
    expect(page.locator("#import-summary")).to_contain_text("1 to create, 1 to update, 0 unchanged.")
    assert [(hero.name, hero.age) for hero in server.run(all_heroes)] == [("Rusty-Man", 48)]

    page.get_by_role("button", name="Apply import", exact=True).click()
    expect(page).to_have_url(f"{server.url}/heroes")
    expect(page.get_by_role("status")).to_have_text("Imported: 1 created, 1 updated.")
    stored = [(hero.name, hero.secret_name, hero.age) for hero in server.run(all_heroes)]
    assert stored == [("Rusty-Man", "Tommy Sharp", 49), ('Zoë "Z", Jr.', "=1+1", None)]


def test_import_page_and_a_dry_run_with_problems_pass_axe(page: Page, server: LiveServer, tmp_path: Path) -> None:
    upload = tmp_path / "heroes.csv"
    upload.write_text("Name,Secret name,Age\r\nDeadpond,Dive Wilson,old\r\n,Nameless,\r\n", encoding="utf-8")
    page.goto("/heroes/import")
    expect_no_axe_violations(page)
    page.get_by_label("CSV file", exact=True).set_input_files(upload)
    page.get_by_role("button", name="Check file", exact=True).click()
    expect(page.get_by_role("table", name="Problems").get_by_role("row")).to_have_count(3)
    expect_no_axe_violations(page)
