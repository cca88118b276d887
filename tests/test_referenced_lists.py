"""A record's page links to the full list of the records pointing at it, filtered by its name ("All 250 heroes of
X-Men"), for every pair of the registry where the pointing list has a filter named after the target."""

from __future__ import annotations

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.markup import parse
from tests.support import Client, id_of, rows, subject
from webapp.registry import BY_NAME, RESOURCES
from webapp.resource import Resource

PAIRS = [(target, referencing) for target in RESOURCES for referencing in target.referenced_by]


def test_teams_pages_link_to_their_heroes() -> None:
    assert (BY_NAME["team"], BY_NAME["hero"]) in PAIRS
    assert BY_NAME["hero"].filter_by(BY_NAME["team"]) is not None


@pytest.mark.parametrize(("target", "referencing"), PAIRS, ids=lambda resource: resource.plural)
async def test_a_records_page_links_to_all_records_pointing_at_it(
    client: Client, db: AsyncSession, target: Resource, referencing: Resource
) -> None:
    record = await subject(target).make(db, "X-Men")
    pointer = referencing.pointers(target)[0].name
    members = [await subject(referencing).make(db, f"Member {n}", **{pointer: id_of(record)}) for n in range(3)]
    await subject(referencing).make(db, "Outsider")

    page = parse((await client.get(subject(target).url(id_of(record)))).text)
    link = next(a for a in page.find_all("a") if a.text.startswith("All "))

    assert link.text == f"All 3 {referencing.plural} of X-Men"
    listed = await client.get(link.attrs["href"])
    assert listed.status_code == 200
    assert rows(listed.text, f"{referencing.name}-rows") == [id_of(member) for member in members]


@pytest.mark.parametrize(("target", "referencing"), PAIRS, ids=lambda resource: resource.plural)
async def test_a_record_nothing_points_at_has_no_such_link(
    client: Client, db: AsyncSession, target: Resource, referencing: Resource
) -> None:
    record = await subject(target).make(db, "Empty")
    page = parse((await client.get(subject(target).url(id_of(record)))).text)
    assert f"No {referencing.plural} in this {target.name} yet." in page.text
    assert not [a for a in page.find_all("a") if a.text.startswith("All ")]
