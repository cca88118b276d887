"""The Jinja environment the app renders with: the templates folder, plus one template made at load time per
resource for its list rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from types import BuiltinFunctionType, FunctionType, MethodType
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.runtime import Context, Macro
from jinja2.utils import internalcode
from markupsafe import Markup, escape

# markupsafe's own escaping core, taken as markupsafe itself takes it (its C speedups, else pure Python).
try:
    from markupsafe._speedups import _escape_inner
except ImportError:  # pragma: no cover - the wheels have the speedups
    from markupsafe._native import _escape_inner

from webapp.config import Settings

ROWS = "records/_rows.html"
# Where a resource's own cells go in the shared row (see RowsLoader).
CELLS_MARK = "{# cells #}"


class RowsLoader(FileSystemLoader):
    """The templates folder, and "records/_rows.html|<plural>": the shared list row with that resource's cells
    (<plural>/_cells.html) put in at CELLS_MARK. A row is then one piece of template code for every resource, with
    no macro call per row to draw a resource's cells (measured: that call was half of a list's rendering)."""

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        name, _, plural = template.partition("|")
        if not plural:
            return super().get_source(environment, template)
        source, filename, uptodate = super().get_source(environment, name)
        cells, _cells_file, _cells_uptodate = super().get_source(environment, f"{plural}/_cells.html")
        if CELLS_MARK not in source:
            raise ValueError(f"{name} has no place for a resource's cells ({CELLS_MARK})")
        return source.replace(CELLS_MARK, cells), filename, uptodate


def moment(value: datetime, seconds: bool = False) -> Markup:
    """A time as a <time> element in UTC, readable without JavaScript; static/js/times.js shows it in the viewer's
    own time zone (relative when recent) with the exact local time in its title."""
    at = value.astimezone(UTC)
    shown = at.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return Markup('<time datetime="{}" title="{} UTC">{} UTC</time>').format(
        escape(at.isoformat()), at.strftime("%Y-%m-%d %H:%M:%S"), shown
    )


def name_options(choices: Sequence[Any], current: str | None) -> Markup:
    """A select's <option>s for records chosen by name (a list's filter), `current` selected; a `current` that is
    none of them (an unknown name from the address) is kept as an option of its own, so it stays chosen."""
    options, names = _options(choices, "name")
    if not current:
        return options
    if current not in names:
        return options + Markup('<option value="{}" selected>{}</option>').format(current, current)
    return _selected(options, escape(current))


def id_options(choices: Sequence[Any], current: str) -> Markup:
    """A select's <option>s for records chosen by id (a form's reference field), the one whose id is `current`
    (the form's value, as text) selected."""
    options, ids = _options(choices, "id")
    return _selected(options, current) if current in ids else options


def _options(choices: Sequence[Any], value: str) -> tuple[Markup, frozenset[str]]:
    """Every choice as an <option> of its name, valued by its `value` attribute; with the values, as text.
    Built here rather than in a template loop (a hundred options were a tenth of a list page's rendering), and
    once per read of the choices where they are kept (reads.ChoiceRows: a worker offers the same rows to many
    pages)."""
    made: dict[str, Any] | None = getattr(choices, "made", None)
    if made is not None and (found := made.get(value)) is not None:
        return found  # type: ignore[no-any-return]
    values = [str(getattr(choice, value)) for choice in choices]
    names = [escape(choice.name) for choice in choices]
    # Every value and name went through escape(): the joined options are markup.
    options = Markup("".join(f'<option value="{escape(v)}">{n}</option>' for v, n in zip(values, names, strict=True)))  # noqa: S704
    built = (options, frozenset(values))
    if made is not None:
        made[value] = built
    return built


def _selected(options: Markup, value: str) -> Markup:
    """`options` with those valued `value` (already escaped, or digits) selected. str's own replace: Markup's
    would escape the markup it is given."""
    chosen = str.replace(options, f'<option value="{value}">', f'<option value="{value}" selected>')
    return Markup(chosen)  # noqa: S704 - markup with an attribute added


def html_text(value: object) -> str:
    """What `{{ value }}` writes into an autoescaped template: exactly markupsafe.escape(value), as a plain str.
    (The generated code handles an exact str or int itself and calls this for every other value.)

    markupsafe.escape returns Markup, whose constructor checks the string for __html__ again: most of the cost of
    the 800 outputs of a list page. Output goes straight into the page (a macro's or {% set %} block's output is
    made Markup as a whole by Jinja), so the Markup wrapper of each piece bought nothing.
    """
    kind = type(value)
    if kind is str:
        return _escape_inner(value)  # type: ignore[arg-type]  # (a str: `type() is` is what excludes Markup)
    if kind is int:
        return str(value)  # digits and a sign: nothing to escape
    html = getattr(value, "__html__", None)
    if html is not None:
        return html()  # type: ignore[no-any-return]
    return _escape_inner(str(value))


class _TextCodeGenerator(CodeGenerator):
    """Jinja's code generator, with two of its Python calls made only where they are needed. A list page writes
    about 700 values and looks up about 700 attributes, and each was a call of a Python function: a tenth of
    the page's instructions (callgrind, 2026-12-08).

    - Each output of an autoescaped template is escaped as html_text escapes it (the hook Jinja's own
      NativeCodeGenerator overrides), with its two common cases on the spot: a str escaped by markupsafe's core,
      an int written as it is. The rest (Markup, anything with __html__, a bool or an IntEnum, which `type() is`
      does not take for an int) goes through html_text.
    - `x.name` is Python's getattr with a default, and Jinja's lookup of the item of that name, then undefined,
      only when there is no such attribute: what Environment.getattr does, in that order.

    Everything else, `|safe` and Markup included, is Jinja's. The generated code keeps what it computes in
    `_v`, `_k`, `_a` and `_o`, each assigned and read within one expression (a nested lookup ends before the
    outer one assigns), and names Jinja's own code does not use."""

    def _output_child_pre(self, node: Any, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            self.write("(environment.escape_inner(_v) if (_k := type(_v := (")
            if finalize.src is not None:
                self.write(finalize.src)
        else:
            super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node: Any, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            if finalize.src is not None:
                self.write(")")
            self.write("))) is str else str(_v) if _k is int else environment.html_text(_v))")
        else:
            super()._output_child_post(node, frame, finalize)

    @optimizeconst  # as Jinja's own: an attribute of a constant is looked up when the template is compiled
    def visit_Getattr(self, node: Any, frame: Frame) -> None:
        if self.environment.is_async:
            super().visit_Getattr(node, frame)
            return
        self.write("(_a if (_a := getattr((_o := ")
        self.visit(node.node, frame)
        self.write(f"), {node.attr!r}, missing)) is not missing else environment.item_or_undefined(_o, {node.attr!r}))")


def _whole(render: Callable[[Context], Iterator[str]]) -> Callable[[Context], Iterator[str]]:
    def whole(context: Context) -> Iterator[str]:
        yield "".join(render(context))  # a generator still: Jinja closes some of those it is given

    return whole


# The contexts the render in progress has made (its own, its includes', its imports' made `with context`), for it
# to empty when it ends (_WholeTemplate.render).
_MADE: ContextVar[list[Context] | None] = ContextVar("contexts_made", default=None)


class _WholeTemplate(Template):
    """A template that hands its output to the template including or extending it as one piece. Jinja passes every
    piece an included template yields up through each level above it, one generator step per level: a list's
    row pieces went through five (rows, table, the content block, base, the page), a sixth of the page's
    rendering. Joined where each template ends, a piece climbs two levels at most. Blocks stay Jinja's own (super()
    finds a block by its function). Everything that renders a template (render, generate, import, include,
    extends) iterates over what it gives."""

    @classmethod
    def _from_namespace(
        cls, environment: Environment, namespace: MutableMapping[str, Any], globals: MutableMapping[str, Any]
    ) -> Template:
        template = super()._from_namespace(environment, namespace, globals)
        template.root_render_func = _whole(template.root_render_func)
        return template

    def new_context(
        self,
        vars: dict[str, Any] | None = None,
        shared: bool = False,
        locals: Mapping[str, Any] | None = None,
    ) -> Context:
        context = super().new_context(vars, shared, locals)
        made = _MADE.get()
        # Not the context of an import without context (no vars): Jinja keeps that module for every render after.
        if made is not None and vars is not None:
            made.append(context)
        return context

    def render(self, *args: Any, **kwargs: Any) -> str:
        """The page, and then every context its render made emptied of its variables. A macro is a closure over the
        context its template ran in, and that context holds it among its variables: a cycle, which kept the context
        and all it reaches (the page's rows, the request, the database session) until the garbage collector's
        next pass. Every page made one (its breadcrumbs' macros are imported with context): some 160 objects a list
        page, and the collector's passes took 5% of its time (2026-12-07). Emptied, they are freed with the page."""
        made: list[Context] = []
        token = _MADE.set(made)
        try:
            return super().render(*args, **kwargs)
        finally:
            _MADE.reset(token)
            for context in made:
                for value in context.vars.values():
                    # (Not one let go of already: a later context, an include's, may hold a macro of an earlier one.)
                    if type(value) is Macro and value._func is not None and _closes_over(value, context):
                        # A macro that includes a template hands the include every name of its template, its own
                        # among them: a closure over itself, a cycle of its own. (Only this render's macros: one
                        # imported by name from a module Jinja keeps is that module's, and lives on.)
                        value._func = None  # type: ignore[assignment]
                context.vars.clear()


def _closes_over(macro: Macro, context: Context) -> bool:
    """Whether `macro` was made in `context` (its function is a closure over it)."""
    for cell in macro._func.__closure__ or ():
        try:
            if cell.cell_contents is context:
                return True
        except ValueError:  # a cell not filled yet
            continue
    return False


# What a template calls that Jinja calls as it is unless it carries a pass_context mark (or its kin): functions,
# methods, builtins, macros.
_DIRECT = frozenset({FunctionType, MethodType, BuiltinFunctionType, Macro})


class _Context(Context):
    """Jinja's context, calling a plain function or a macro the way Jinja's own `call` ends up calling it, without
    first looking for a pass_context mark on the object's __call__ (which none of these can carry) and then again
    on the object: four attribute lookups a call, and a list page makes sixty calls. Anything else (a marked
    function, a callable object) goes through Jinja's."""

    @internalcode  # as Jinja's own: left out of a template error's traceback
    def call(__self, __obj: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if type(__obj) not in _DIRECT or getattr(__obj, "jinja_pass_arg", None) is not None:
            return super().call(__obj, *args, **kwargs)
        if kwargs:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            # Jinja's own answer, word for word.
            stopped = "value was undefined because a callable raised a StopIteration exception"
            return __self.environment.undefined(stopped)


class _Environment(Environment):
    code_generator_class = _TextCodeGenerator
    context_class = _Context
    template_class = _WholeTemplate
    html_text = staticmethod(html_text)
    escape_inner = staticmethod(_escape_inner)

    def item_or_undefined(self, obj: Any, attribute: str) -> Any:
        """The rest of Jinja's getattr, once the attribute was not found: the item of that name, else undefined."""
        try:
            return obj[attribute]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals as one dict, where Jinja's are a ChainMap over the environment's: every include and
        import makes a context from them, iterating them twice, and a ChainMap iterates by building a dict of its
        maps each time (a twentieth of a list page, 2026-12-07). Read when the template is loaded: the app sets
        every global before its first page (webapp.app), as Jinja asks ("avoid modifying any globals after a
        template is loaded")."""
        return {**self.globals, **(d or {})}


def environment(settings: Settings) -> Environment:
    # StrictUndefined: a misspelt variable fails a test instead of rendering as an empty string. Templates are
    # read once per process (no file check on every include): a changed template needs a restart, like code. Kept
    # in a plain dict (cache_size=-1: every template, about sixty), not Jinja's LRU cache, which takes a lock and
    # reorders its queue on each of a page's dozen includes and imports.
    env = _Environment(
        loader=RowsLoader(settings.templates_dir),
        autoescape=True,
        undefined=StrictUndefined,
        auto_reload=False,
        cache_size=-1,
    )
    env.filters["moment"] = moment
    env.globals |= {"name_options": name_options, "id_options": id_options}
    return env
