"""An included or extended template hands its output up as one piece
(webapp.templating._WholeTemplate), so a row's pieces do not each climb through every level of the page; and
everything a template can do with another (include, extends, blocks, super(), import, macros, loops, errors) still
gives what Jinja gives."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from jinja2 import Environment, UndefinedError
from jinja2.runtime import Context, Macro

from webapp.config import Settings
from webapp.templating import environment

TEMPLATES = {
    "row.html": "{% for i in items %}<td>{{ i }}</td>{% endfor %}",
    "macros.html": "{% macro cell(v) %}<b>{{ v }}</b>{% endmacro %}",
    "base.html": "<main>{% block content %}base{% endblock %}</main>{% block foot %}<p>{{ title }}</p>{% endblock %}",
    "page.html": (
        '{% extends "base.html" %}{% import "macros.html" as m %}'
        '{% block content %}<h1>{{ title }}</h1><tr>{% include "row.html" %}</tr>{{ m.cell(title) }}{% endblock %}'
        "{% block foot %}[{{ super() }}]{% endblock %}"
    ),
    "broken.html": '{% extends "base.html" %}{% block content %}{% include "row.html" %}{{ missing }}{% endblock %}',
    # Macros every way a page has them: by name from a module Jinja keeps, imported with context, one that
    # includes a template, and one of the page's own (including a template too), which an include keeps.
    "kinds.html": (
        "{% macro shown(v) %}<i>{{ v }} {{ title }}</i>{% endmacro %}"
        '{% macro framed(v) %}<tr>{% include "row.html" %}</tr>{{ v }}{% endmacro %}'
    ),
    "macro_page.html": (
        '{% from "macros.html" import cell %}{% import "kinds.html" as kinds with context %}'
        '{% macro own(v) %}<u>{% include "row.html" %}{{ v }}</u>{% endmacro %}'
        "{{ cell(title) }}{{ kinds.shown(1) }}{{ kinds.framed(2) }}{{ own(3) }}"
        '{% include "keeps.html" %}'
    ),
    # An included template that keeps the page's own macro among its variables.
    "keeps.html": "{% set kept = own %}{{ kept(4) }}",
}


@pytest.fixture
def env(tmp_path: Path) -> Environment:
    for name, source in TEMPLATES.items():
        (tmp_path / name).write_text(source)
    return environment(Settings(templates_dir=tmp_path))


def test_templates_together_render_as_jinja_renders_them(env: Environment) -> None:
    items = ["<x>", 2, 3]
    expected = (
        "<main><h1>a &amp; b</h1><tr><td>&lt;x&gt;</td><td>2</td><td>3</td></tr><b>a &amp; b</b></main>"
        "[<p>a &amp; b</p>]"
    )
    assert env.get_template("page.html").render(title="a & b", items=items) == expected
    assert "".join(env.get_template("page.html").generate(title="a & b", items=items)) == expected
    module = env.get_template("page.html").make_module({"title": "t", "items": []})
    assert str(module) == "<main><h1>t</h1><tr></tr><b>t</b></main>[<p>t</p>]"


def test_an_included_template_comes_up_as_one_piece(env: Environment) -> None:
    template = env.get_template("page.html")
    pieces = list(template.root_render_func(template.new_context({"title": "t", "items": range(500)})))
    # The parent template as one piece; Jinja's own templates gave the 500 cells' pieces one by one.
    assert len(pieces) == 1, f"{len(pieces)} pieces came up to the page"
    assert "".join(pieces).count("<td>") == 500


def test_an_error_in_an_included_or_extended_template_still_raises(env: Environment) -> None:
    with pytest.raises(UndefinedError):
        env.get_template("broken.html").render(items=[1])


def test_macros_work_in_every_render_and_leave_no_cycle(env: Environment) -> None:
    """A render frees what it made (webapp.templating._WholeTemplate.render): the contexts its macros close over,
    and a macro that includes a template (a closure over itself). Macros it did not make, such as one imported by
    name from a module Jinja keeps for every render, keep working render after render."""
    expected = "<b>t</b><i>1 t</i><tr><td>x</td></tr>2<u><td>x</td>3</u><u><td>x</td>4</u>"
    template = env.get_template("macro_page.html")
    assert template.render(title="t", items=["x"]) == expected  # the first render makes the module Jinja keeps
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        assert template.render(title="t", items=["x"]) == expected
        gc.collect()
        left = [type(thing).__qualname__ for thing in gc.garbage if isinstance(thing, Context | Macro)]
    finally:
        gc.garbage.clear()
        gc.set_debug(0)
        gc.enable()
    assert left == []
    assert template.render(title="u", items=[]) == "<b>u</b><i>1 u</i><tr></tr>2<u>3</u><u>4</u>"
