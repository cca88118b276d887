"""What the "Everyday use" browser tests share: htmx answers held back to see the busy state,
and questions about the focus and about what covers what."""

from __future__ import annotations

import time

from playwright.sync_api import Page, Route

HELD_WAIT = 10.0  # seconds for a request htmx has sent to reach the route, on a loaded machine


class HeldAnswers:
    """Holds back the answers to the page's htmx requests (as a slow network would) until `release`, so a test
    sees the page while a request runs. Other requests (pages, static files) go through."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.held: list[Route] = []
        page.route("**/*", self._hold)

    def _hold(self, route: Route) -> None:
        if route.request.headers.get("hx-request") == "true":
            self.held.append(route)
        else:
            route.continue_()

    def release(self) -> None:
        """Let the held answers go. htmx marks the page busy as it sends, a moment before the request reaches the
        route: wait (handling Playwright's events) until one is held, so none slips past the release."""
        deadline = time.monotonic() + HELD_WAIT
        while not self.held:
            assert time.monotonic() < deadline, "no htmx request reached the route"
            self.page.wait_for_timeout(20)
        while self.held:
            self.held.pop(0).continue_()


def focused(page: Page) -> str:
    """The focused element as `tag#id.class "text"` (its aria-label, else its text), to assert on and to read in
    a failure; "body" when the focus is lost."""
    return str(
        page.evaluate(
            """() => {
                const el = document.activeElement;
                if (!el || el === document.body) return "body";
                const name = el.getAttribute("aria-label") || el.textContent.trim().slice(0, 40);
                return `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} "${name}"`;
            }"""
        )
    )


def controls_covered_by(page: Page, selector: str) -> list[str]:
    """The visible links, buttons and fields outside `selector` whose boxes the element `selector` overlaps."""
    return list(
        page.evaluate(
            """(selector) => {
                const cover = document.querySelector(selector).getBoundingClientRect();
                if (!cover.width || !cover.height) return [];
                const hits = [];
                for (const el of document.querySelectorAll("a[href], button, input, select, textarea")) {
                    if (el.closest(selector)) continue;
                    const box = el.getBoundingClientRect();
                    if (!box.width || !box.height) continue;
                    const overlaps = box.left < cover.right && cover.left < box.right
                        && box.top < cover.bottom && cover.top < box.bottom;
                    if (overlaps) hits.push(el.outerHTML.slice(0, 80));
                }
                return hits;
            }""",
            selector,
        )
    )
