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
