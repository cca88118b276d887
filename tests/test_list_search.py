"""Search on the hero and team lists: substrings of names, secret names, team names and headquarters, in any case
(three characters or more go through the trigram index on SQLite, shorter ones scan: both must agree), wildcards,
quotes and full-text operators taken literally, and the index kept in step with edits, the trash and purges."""

from __future__ import annotations

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import Clock, sign_in
from tests.support import Client, form_fields, id_of, make_hero, make_team, make_user, names_found, summary
from webapp.models import Role

# --- heroes: what a search matches ---------------------------------------------------------------------------


@pytest.fixture
async def cast(db: AsyncSession) -> None:
    force = await make_team(db, name="Z-Force", headquarters="Sister Margaret's Bar")
    await make_hero(db, name="Deadpond", secret_name="Dive Wilson", team=force)
    await make_hero(db, name="Spider-Boy", secret_name="Pedro Parqueador")
    await make_hero(db, name="Rusty-Man", secret_name="Tommy Sharp", team=await make_team(db, name="Preventers"))


HERO_SEARCHES = [
    ("adpo", ["Deadpond"]),
    ("DEADPOND", ["Deadpond"]),
    ("dEAdPoNd", ["Deadpond"]),
    ("ve Wil", ["Deadpond"]),
    ("parqueador", ["Spider-Boy"]),
    ("Force", ["Deadpond"]),
    ("PREVENT", ["Rusty-Man"]),
    ("-", ["Deadpond", "Rusty-Man", "Spider-Boy"]),
    ("dp", ["Deadpond"]),
    ("qq", []),
    ("sP", ["Spider-Boy"]),
    ("sH", ["Rusty-Man"]),
    ("z-", ["Deadpond"]),
    ("r-b", ["Spider-Boy"]),
    ("nobody", []),
    ("   ", ["Deadpond", "Rusty-Man", "Spider-Boy"]),
    ("  Deadpond  ", ["Deadpond"]),
]


@pytest.mark.usefixtures("cast")
async def test_hero_search_matches_substrings_of_name_secret_name_and_team(client: Client) -> None:
    for q, expected in HERO_SEARCHES:  # one test over the table: each case is one cheap request on the same data
        assert await names_found(client, q) == expected, q


@pytest.fixture
async def oddly_named(db: AsyncSession) -> None:
    for name in ("100% Pure", "1000 Pure", "A_B", "AxB", "C\\D", "CD", "O'Neil", 'The "Q"', "TheQ"):
        await make_hero(db, name=name, secret_name="Plain")


LITERAL_SEARCHES = [
    ("%", ["100% Pure"]),
    ("0%", ["100% Pure"]),
    ("0% P", ["100% Pure"]),
    ("_", ["A_B"]),
    ("A_", ["A_B"]),
    ("A_B", ["A_B"]),
    ("\\", ["C\\D"]),
    ("C\\D", ["C\\D"]),
    ("\\%", []),
    ("'", ["O'Neil"]),
    ("O'Neil", ["O'Neil"]),
    ('"', ['The "Q"']),
    ('"Q"', ['The "Q"']),
    ('e "Q', ['The "Q"']),
    ("'; DROP TABLE hero; --", []),
    ('" OR 1=1 --', []),
    ("*", []),
    ("Pure*", []),
    ("Pure OR Neil", []),
    ("NEAR(Pure)", []),
    ("name:Pure", []),
]


@pytest.mark.usefixtures("oddly_named")
async def test_hero_search_takes_wildcards_quotes_and_operators_literally(client: Client) -> None:
    for q, expected in LITERAL_SEARCHES:
        assert await names_found(client, q) == expected, q


@pytest.mark.parametrize(
    ("name", "q"),
    [
        pytest.param("Amélie", "mél", id="accent-3-chars"),
        pytest.param("Amélie", "é", id="accent-1-char"),
        pytest.param("Ñandú", "andú", id="accent-4-chars"),
        pytest.param("Zoë", "oë", id="diaeresis-2-chars"),
        pytest.param("Μέδουσα", "Μέδ", id="greek"),
        pytest.param("東京タワー", "京タ", id="cjk-2-chars"),
        pytest.param("東京タワー", "東京タ", id="cjk-3-chars"),
        pytest.param("\U0001f9b8 Captain", "\U0001f9b8", id="emoji-1-char"),
        pytest.param("\U0001f9b8 Captain", "\U0001f9b8 C", id="emoji-3-chars"),
    ],
)
async def test_hero_search_finds_non_ascii_substrings(client: Client, db: AsyncSession, name: str, q: str) -> None:
    await make_hero(db, name=name)
    await make_hero(db, name="Plain", secret_name="Plain")
    assert await names_found(client, q) == [name]


@pytest.mark.parametrize(
    ("name", "q"),
    [
        pytest.param("Élodie", "ÉLODIE", id="upper-3-chars"),
        pytest.param("Élodie", "élodie", id="lower-3-chars"),
        pytest.param("Élodie", "él", id="lower-2-chars"),
        pytest.param("Élan", "é", id="lower-1-char"),
        pytest.param("Ärger", "äR", id="mixed-2-chars"),
    ],
)
async def test_hero_search_ignores_the_case_of_non_ascii_letters(
    client: Client, db: AsyncSession, name: str, q: str
) -> None:
    await make_hero(db, name=name, secret_name="Plain")
    assert await names_found(client, q) == [name]


@pytest.mark.parametrize("q", ["åsgard", "ÅSGARD", "ås"], ids=["lower", "upper", "lower-2-chars"])
async def test_hero_search_by_team_name_ignores_the_case_of_non_ascii_letters(
    client: Client, db: AsyncSession, q: str
) -> None:
    await make_hero(db, name="Thor", secret_name="Plain", team=await make_team(db, name="Åsgard"))
    assert await names_found(client, q) == ["Thor"]


async def test_hero_search_count_says_how_many_match(client: Client, db: AsyncSession) -> None:
    for name in ("Deadpond", "Dead Pool", "Rusty-Man"):
        await make_hero(db, name=name)
    assert await summary(client, {"q": "dead"}) == "2 heroes match"
    assert await summary(client, {"q": "rusty"}) == "1 hero matches"
    assert await summary(client, {"q": "nobody"}) == "No heroes match."
    assert await summary(client, {}) == "3 heroes"


async def test_hero_search_form_holds_what_was_searched(client: Client) -> None:
    response = await client.get("/heroes", params={"q": "<b>\"dead\"</b> & 'pond'"})
    assert form_fields(response.text, "hero-search")["q"] == "<b>\"dead\"</b> & 'pond'"
    assert "<b>" not in response.text


# --- heroes: the index keeps up with edits -------------------------------------------------------------------


async def save_hero(client: Client, hero_id: int, **changes: str) -> None:
    form = form_fields((await client.get(f"/heroes/{hero_id}/edit")).text, "hero-form")
    response = await client.post(f"/heroes/{hero_id}", data=form | changes, follow_redirects=False)
    assert response.status_code == 303, response.text


async def test_renamed_hero_is_found_by_the_new_name_not_the_old(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond", secret_name="Dive Wilson"))
    await save_hero(client, hero_id, name="Bluebeetle")
    assert await names_found(client, "bluebee") == ["Bluebeetle"]
    assert await names_found(client, "Deadpond") == []
    assert await names_found(client, "adp") == []
    assert await names_found(client, "Bl") == ["Bluebeetle"]


async def test_hero_with_a_new_secret_name_is_found_by_it(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond", secret_name="Dive Wilson"))
    await save_hero(client, hero_id, secret_name="Wade Winston")
    assert await names_found(client, "winston") == ["Deadpond"]
    assert await names_found(client, "dive") == []


async def test_hero_created_through_the_form_is_found_at_once(client: Client) -> None:
    response = await client.post("/heroes", data={"name": "Tarantula", "secret_name": "Natalia Lucia"})
    assert response.status_code in {200, 303}
    assert await names_found(client, "rantu") == ["Tarantula"]


async def test_hero_in_the_trash_is_not_found_and_is_again_once_restored(client: Client, db: AsyncSession) -> None:
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    deleted = await client.post(f"/heroes/{hero_id}/delete", data={"version": "1"}, follow_redirects=False)
    assert deleted.status_code == 303
    assert await names_found(client, "deadpond") == []
    assert await names_found(client, "de") == []
    assert await summary(client, {"q": "deadpond"}) == "No heroes match."
    restored = await client.post(f"/heroes/{hero_id}/restore", data={"version": "2"}, follow_redirects=False)
    assert restored.status_code == 303
    assert await names_found(client, "deadpond") == ["Deadpond"]


async def test_search_index_stays_whole_after_a_purge(http: Client, db: AsyncSession, clock: Clock) -> None:
    await sign_in(http, db, await make_user(db, username="ada", role=Role.admin), clock)
    hero_id = id_of(await make_hero(db, name="Deadpond"))
    assert (await http.post(f"/heroes/{hero_id}/delete", data={"version": "1"})).status_code in {200, 303}
    purged = await http.post(f"/heroes/{hero_id}/purge", data={"version": "2"}, follow_redirects=False)
    assert purged.status_code == 303
    await make_hero(db, name="Deadpond the Second")
    await make_hero(db, name="Other")
    assert await names_found(http, "deadpond") == ["Deadpond the Second"]
    assert await names_found(http, "other") == ["Other"]


async def test_heroes_of_a_renamed_team_are_found_by_its_new_name(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Z-Force", headquarters="Bar")
    await make_hero(db, name="Deadpond", team=team)
    form = form_fields((await client.get(f"/teams/{team.id}/edit")).text, "team-form")
    saved = await client.post(f"/teams/{team.id}", data=form | {"name": "X-Men"}, follow_redirects=False)
    assert saved.status_code == 303
    assert await names_found(client, "x-men") == ["Deadpond"]
    assert await names_found(client, "force") == []


async def test_heroes_are_not_found_by_the_name_of_a_team_in_the_trash(client: Client, db: AsyncSession) -> None:
    team = await make_team(db, name="Z-Force", headquarters="Bar")
    await make_hero(db, name="Deadpond", team=team)
    deleted = await client.post(f"/teams/{team.id}/delete", data={"version": "1"}, follow_redirects=False)
    assert deleted.status_code == 303
    assert await names_found(client, "deadpond") == ["Deadpond"]
    assert await names_found(client, "force") == []
    assert await names_found(client, "z-") == []


# --- teams: search and "has heroes" --------------------------------------------------------------------------


@pytest.fixture
async def teams(db: AsyncSession) -> None:
    for name, headquarters in (
        ("Preventers", "Sharp Tower"),
        ("Z-Force", "Sister Margaret's Bar"),
        ("Avengers", "Tower 100%"),
        ("Under_dogs", "Cellar"),
    ):
        await make_team(db, name=name, headquarters=headquarters)


TEAM_SEARCHES = [
    ("vent", ["Preventers"]),
    ("FORCE", ["Z-Force"]),
    ("tower", ["Avengers", "Preventers"]),
    ("margaret's", ["Z-Force"]),
    ("er", ["Avengers", "Preventers", "Under_dogs", "Z-Force"]),
    ("%", ["Avengers"]),
    ("_", ["Under_dogs"]),
    ("\\", []),
    ("nowhere", []),
]


@pytest.mark.usefixtures("teams")
async def test_team_search_matches_substrings_of_name_and_headquarters(client: Client) -> None:
    for q, expected in TEAM_SEARCHES:
        assert await names_found(client, q, "/teams", "team-rows") == expected, q


@pytest.mark.parametrize(
    "q",
    ["élysée", "ÉLYSÉE", "åsgard", "ÅS"],
    ids=["headquarters-lower", "headquarters-upper", "name-lower", "name-upper"],
)
async def test_team_search_ignores_the_case_of_non_ascii_letters(client: Client, db: AsyncSession, q: str) -> None:
    await make_team(db, name="Åsgard", headquarters="Élysée")
    assert await names_found(client, q, "/teams", "team-rows") == ["Åsgard"]


async def test_team_search_count_says_how_many_match(client: Client, db: AsyncSession) -> None:
    await make_team(db, name="Preventers", headquarters="Sharp Tower")
    await make_team(db, name="Avengers", headquarters="Tower")
    assert await summary(client, {"q": "tower"}, "/teams", "team-summary") == "2 teams match"
    assert await summary(client, {"q": "sharp"}, "/teams", "team-summary") == "1 team matches"
    assert await summary(client, {"q": "zzz"}, "/teams", "team-summary") == "No teams match."
