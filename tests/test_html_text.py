"""Each `{{ … }}` of a template is escaped exactly as markupsafe.escape would (webapp.templating.html_text, which
skips only the Markup wrapper of each piece): hostile text stays text wherever a template writes it."""

from __future__ import annotations

import enum

import pytest
from jinja2 import UndefinedError
from markupsafe import Markup, escape

from webapp.config import Settings
from webapp.templating import environment, html_text

HOSTILE = "<script>alert('x & \"y\"')</script>"


class Shade(enum.IntEnum):
    DARK = 1


class Html:
    def __html__(self) -> str:
        return "<em>kept</em>"


@pytest.mark.parametrize(
    "value",
    [HOSTILE, "", "plain", 42, -7, True, None, 2.5, Markup("<b>safe</b>"), Html(), Shade.DARK, [HOSTILE]],
    ids=["hostile", "empty", "plain", "int", "negative", "bool", "none", "float", "markup", "html", "int-enum", "list"],
)
def test_html_text_is_markupsafe_escape(value: object) -> None:
    assert html_text(value) == str(escape(value))


def _render(source: str, **values: object) -> str:
    return environment(Settings()).from_string(source).render(**values)


def test_outputs_are_escaped_everywhere_a_template_writes_them() -> None:
    escaped = str(escape(HOSTILE))
    assert _render("{{ x }}|{{ x ~ '!' }}|{{ n }}", x=HOSTILE, n=3) == f"{escaped}|{escaped}!|3"
    # A macro's and a {% set %} block's output is Markup as a whole: written once, not escaped twice.
    source = "{% macro m(v) %}<i>{{ v }}</i>{% endmacro %}{% set b %}<b>{{ x }}</b>{% endset %}{{ m(x) }}{{ b }}"
    assert _render(source, x=HOSTILE) == f"<i>{escaped}</i><b>{escaped}</b>"
    assert _render("{% filter upper %}<a>{{ x }}</a>{% endfilter %}", x="<q>") == "<A>&LT;Q&GT;</A>"
    assert _render("{{ x|safe }}{{ m }}", x="<hr>", m=Markup("<br>")) == "<hr><br>"


def test_a_misspelt_variable_still_fails() -> None:
    with pytest.raises(UndefinedError):
        _render("{{ missing }}")


@pytest.mark.parametrize(
    "value",
    [HOSTILE, "", 42, -7, True, None, 2.5, Markup("<b>safe</b>"), Html(), Shade.DARK, [HOSTILE]],
    ids=["hostile", "empty", "int", "negative", "bool", "none", "float", "markup", "html", "int-enum", "list"],
)
def test_a_template_writes_each_value_as_escape_would(value: object) -> None:
    # The compiled template tests a value's type itself (str and int on the spot, the rest through html_text):
    # a bool or an IntEnum is not an int there, and a Markup is not a str.
    assert _render("{{ x }}", x=value) == str(escape(value))


class Record:
    name = "<Ann>"
    nothing = None

    @property
    def broken(self) -> str:
        raise AttributeError("broken")


def test_attributes_are_looked_up_as_jinja_looks_them_up() -> None:
    # An attribute first, then the item of that name (a dict's `.key`), then undefined: which fails loudly.
    assert _render("{{ r.name }}|{{ r.nothing }}", r=Record()) == "&lt;Ann&gt;|None"
    assert (
        _render("{{ d.name }}|{{ d['name'] }}|{{ d.items is defined }}", d={"name": "<b>"}) == "&lt;b&gt;|" * 2 + "True"
    )
    assert _render("{{ d.broken }}", d={"broken": "item"}) == "item"
    assert _render("{{ ns.a.b }}", ns={"a": {"b": 5}}) == "5"
    for source, values in (
        ("{{ r.missing }}", {"r": Record()}),
        ("{{ r.broken }}", {"r": Record()}),
        ("{{ d.x }}", {"d": {}}),
    ):
        with pytest.raises(UndefinedError):
            _render(source, **values)
    assert _render("{{ (r.missing is defined) ~ '|' ~ (d.x is defined) }}", r=Record(), d={}) == "False|False"
