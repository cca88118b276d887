"""While the app serves, the garbage collector's full passes walk what requests made, not what the process holds
for its whole life (webapp.app._long_lived_frozen): a full pass over a started worker's 140,000 objects paused every
request in progress for about 100 ms. Once the app stops, nothing stays frozen, so a process running one app after
another still gets their garbage collected."""

from __future__ import annotations

import gc

from litestar import Litestar
from litestar.testing import AsyncTestClient


async def test_a_serving_app_keeps_its_long_lived_objects_out_of_full_collections(app: Litestar) -> None:
    gc.unfreeze()  # whatever an earlier test left: this test's counts start from the app's own start
    async with AsyncTestClient(app=app) as http:
        frozen = gc.get_freeze_count()
        for path in ("/login", "/healthz", "/login"):
            assert (await http.get(path)).status_code == 200
        walked = len(gc.get_objects())  # what a full pass walks now
        assert frozen > 50_000, f"only {frozen:,} objects were left out of the collector's passes"
        assert walked < frozen / 5, f"a full pass walks {walked:,} objects, {frozen:,} frozen"
    assert gc.get_freeze_count() == 0, "the stopped app's objects stay frozen, out of reach of the collector"


async def test_garbage_made_while_serving_is_still_collected(app: Litestar) -> None:
    class Node:
        def __init__(self) -> None:
            self.peer: Node | None = None

    async with AsyncTestClient(app=app) as http:
        assert (await http.get("/login")).status_code == 200
        first, second = Node(), Node()
        first.peer, second.peer = second, first  # a cycle: only the collector frees it
        ids = {id(first), id(second)}
        del first, second
        gc.collect()
        assert not ids & {id(item) for item in gc.get_objects() if isinstance(item, Node)}


async def test_a_serving_app_collects_its_youngest_objects_less_often(app: Litestar) -> None:
    """Requests in progress keep their objects alive across the collector's passes over its youngest generation:
    at Python's 700 allocations a pass, under load they moved into older generations and made a full pass every
    600 or so list pages. While the app serves, a pass comes after 10,000; Python's own setting is back once the
    app stops."""
    before = gc.get_threshold()
    async with AsyncTestClient(app=app) as http:
        assert (await http.get("/login")).status_code == 200
        assert gc.get_threshold() == (10_000, *before[1:])
    assert gc.get_threshold() == before
