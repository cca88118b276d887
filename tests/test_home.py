"""The home page at `/` (each resource's count and list, recent changes of the user and of everyone, each linking to
its record), the way there for someone signed out, and the site icon. The counts and lists come from the registry,
so each resource's part runs on every resource."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import Element, parse
from tests.support import TEAMS, Client, Clock, Subject, each_resource, id_of, make_user, sign_in
from webapp.models import Role
from webapp.registry import RESOURCES


def recent(page: Element, heading: str) -> list[Element]:
    """The entries of the home page's list of changes under `heading`."""
    section = next(s for s in page.find_all("section") if s.find("h2").text == heading)
    return section.find_all("li")


async def create(client: Client, each: Subject, name: str) -> int:
    page = await client.get(f"{each.path}/new")
    data = {field.attrs["name"]: field.attrs.get("value", "") for field in parse(page.text).find_all("input")}
    response = await client.post(each.path, data=data | each.valid(name), follow_redirects=False)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def test_home_is_a_page_for_a_signed_in_user(client: Client) -> None:
    response = await client.get("/", follow_redirects=False)
    assert response.status_code == 200
    page = parse(response.text)
    assert page.find("h1").text == "Home"
    # The lists are one click away: a link named after each list, in the page's own content.
    main = page.by_id("main")
    assert {a.text: a.attrs["href"] for a in main.find_all("a", **{"class": "home-list"})} == {
        "Heroes": "/heroes",
        "Teams": "/teams",
    }
    assert not main.has("nav", aria_label="Breadcrumb")  # home is the top of every trail


async def test_home_signed_out_leads_to_sign_in(http: Client) -> None:
    response = await http.get("/", follow_redirects=False)
    assert response.status_code in {302, 303, 307}
    assert response.headers["location"].startswith("/login")


@each_resource
async def test_home_counts_each_resource_from_the_live_records(
    client: Client, db: AsyncSession, subject: Subject
) -> None:
    records = await subject.make_many(db, 3)
    await client.post(subject.url(id_of(records[0]), "/delete"), data={"version": "1"})  # in the trash: not counted
    card = parse((await client.get("/")).text).by_id(f"home-{subject.resource.plural}")
    assert card.find("a", **{"class": "home-list"}).attrs["href"] == subject.path
    assert card.find("span", **{"class": "home-count"}).text == f"2 {subject.resource.plural}"


async def test_home_shows_a_count_for_every_resource_of_the_registry(client: Client) -> None:
    page = parse((await client.get("/")).text)
    assert [card.attrs["id"] for card in page.find_all("li", **{"class": "card"})] == [
        f"home-{resource.plural}" for resource in RESOURCES
    ]


@each_resource
async def test_home_recent_changes_link_to_the_record(client: Client, subject: Subject) -> None:
    record_id = await create(client, subject, "Fresh One")
    page = parse((await client.get("/")).text)
    for heading in ("Your recent changes", "Everyone’s recent changes"):
        entry = recent(page, heading)[0]
        assert entry.text.startswith(f"eddie created {subject.name} Fresh One")
        assert entry.find("a").attrs["href"] == subject.url(record_id)


@each_resource
async def test_home_change_to_a_record_in_the_trash_links_to_its_history(client: Client, subject: Subject) -> None:
    record_id = await create(client, subject, "Gone Soon")
    await client.post(subject.url(record_id, "/delete"), data={"version": "1"})
    entries = recent(parse((await client.get("/")).text), "Your recent changes")
    assert entries[0].text.startswith(f"eddie moved {subject.name} Gone Soon to the trash")
    assert [entry.find("a").attrs["href"] for entry in entries] == [subject.url(record_id, "/history")] * 2


async def test_home_separates_your_changes_from_everyone_elses(client: Client, db: AsyncSession, clock: Clock) -> None:
    await create(client, TEAMS, "By Eddie")
    await sign_in(client, db, await make_user(db, username="rita", role=Role.editor), clock)
    await create(client, TEAMS, "By Rita")

    page = parse((await client.get("/")).text)

    assert [entry.find("a").text for entry in recent(page, "Your recent changes")] == ["By Rita"]
    assert [entry.find("a").text for entry in recent(page, "Everyone’s recent changes")] == ["By Rita", "By Eddie"]


async def test_home_without_changes_says_so(client: Client) -> None:
    page = parse((await client.get("/")).text)
    assert "You have not changed anything yet." in page.by_id("main").text
    assert "Nothing has changed yet." in page.by_id("main").text


# --- the site icon --------------------------------------------------------------------------------------------------


async def test_favicon_is_a_public_image(http: Client) -> None:
    response = await http.get("/favicon.ico", follow_redirects=False)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/")
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    assert "public" in response.headers["cache-control"]  # the same for everyone: browsers need not ask each time


async def test_pages_name_a_site_icon_that_answers_with_an_image(http: Client) -> None:
    icon = parse((await http.get("/login")).text).find("link", rel="icon")
    response = await http.get(icon.attrs["href"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
