"""JavaScript and TypeScript (and JSX/TSX): ES imports, require(), re-exports, resolved as TypeScript does (relative
specifiers, tsconfig paths, package.json exports); the bases a class or interface declares."""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

import tree_sitter as ts

from ..model import ImportRef
from .js_project import project
from .nodes import first_line, text, unquote
from .paths import PathIndex, first
from .spec import SMALL_KINDS, LanguageSpec
from .types import extends_bases

JS_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".d.ts", ".mts", ".cts")
_JS_TS_TWINS = {".js": (".ts", ".tsx", ".d.ts"), ".jsx": (".tsx",), ".mjs": (".mts",), ".cjs": (".cts",)}
_DECLARED = re.compile(r"\b(?:class|interface)\s+[A-Za-z_$][\w$]*\s*")


def js_imports(node: ts.Node) -> list[ImportRef]:
    """ES imports, `import x = require()`, re-exports with a source, and `x = require('m')` (a variable_declarator)."""
    if node.type == "variable_declarator":
        return _js_require(node)
    source = unquote(node.child_by_field_name("source"))
    if node.type == "export_statement":
        return _js_reexports(node, source)
    out: list[ImportRef] = []
    for child in node.named_children:
        if child.type == "import_clause":
            out.extend(_js_import_clause(child, source, first_line(node)))
        elif child.type == "import_require_clause":
            alias = next((text(c) for c in child.named_children if c.type == "identifier"), None)
            out.append(ImportRef(unquote(child.child_by_field_name("source")), None, alias, first_line(node)))
    if not out and source:  # `import './side-effect'`
        out.append(ImportRef(source, None, None, first_line(node)))
    return out


def _js_import_clause(clause: ts.Node, source: str, line: int) -> list[ImportRef]:
    out: list[ImportRef] = []
    for child in clause.named_children:
        if child.type == "identifier":
            out.append(ImportRef(source, "default", text(child), line))
        elif child.type == "namespace_import":
            alias = next((text(c) for c in child.named_children if c.type == "identifier"), None)
            out.append(ImportRef(source, None, alias, line))
        elif child.type == "named_imports":
            out.extend(_js_specifiers(child, "import_specifier", source, line))
    return out


def _js_specifiers(parent: ts.Node, kind: str, source: str, line: int) -> list[ImportRef]:
    """`{a, b as c}` of an import or export clause."""
    out: list[ImportRef] = []
    for spec in parent.named_children:
        if spec.type == kind:
            name = unquote(spec.child_by_field_name("name"))
            alias = spec.child_by_field_name("alias")
            out.append(ImportRef(source, name, unquote(alias) if alias is not None else None, line))
    return out


def _js_reexports(node: ts.Node, source: str) -> list[ImportRef]:
    """`export {a as b} from 'm'`, `export * from 'm'`, `export * as ns from 'm'`."""
    line = first_line(node)
    for child in node.named_children:
        if child.type == "export_clause":
            return _js_specifiers(child, "export_specifier", source, line)
        if child.type == "namespace_export":
            alias = next((text(c) for c in child.named_children if c.type in ("identifier", "string")), None)
            return [ImportRef(source, None, alias, line)]
    return [ImportRef(source, "*", None, line)]


def _js_require(declarator: ts.Node) -> list[ImportRef]:
    """`x = require('m')` and `{a, b: c} = require('m')`."""
    value = declarator.child_by_field_name("value")
    if value is None or value.type != "call_expression" or text(value.child_by_field_name("function")) != "require":
        return []
    args = value.child_by_field_name("arguments")
    strings = [c for c in args.named_children if c.type == "string"] if args is not None else []
    if not strings:
        return []
    source, line, target = unquote(strings[0]), first_line(declarator), declarator.child_by_field_name("name")
    if target is not None and target.type == "object_pattern":
        out: list[ImportRef] = []
        for prop in target.named_children:
            if prop.type == "shorthand_property_identifier_pattern":
                out.append(ImportRef(source, text(prop), None, line))
            elif prop.type == "pair_pattern":
                key, val = text(prop.child_by_field_name("key")), text(prop.child_by_field_name("value"))
                out.append(ImportRef(source, key, val if val != key else None, line))
        return out
    alias = text(target) if target is not None and target.type == "identifier" else None
    return [ImportRef(source, None, alias, line)]


def _js_candidates(base: str) -> Iterable[str]:
    yield base
    stem, ext = posixpath.splitext(base)
    yield from (stem + twin for twin in _JS_TS_TWINS.get(ext, ()))  # `./x.js` written for `x.ts` (ESM TypeScript)
    yield from (base + ext for ext in JS_EXTENSIONS)
    yield from (posixpath.join(base, "index" + ext) for ext in JS_EXTENSIONS)


def resolve_js(importer: str, ref: ImportRef, paths: PathIndex) -> list[str]:
    """The file an import names, as TypeScript's resolver finds it in the repository: a relative specifier (exact,
    with an extension, `.js` written for `.ts`, or a directory's index file); a bare one through the importer's
    tsconfig/jsconfig (`paths`, then `baseUrl`), then through a package.json of the repository (its `name` and
    `exports`: a package importing itself, or a monorepo's workspace)."""
    spec = ref.module
    if spec in (".", "..") or spec.startswith(("./", "../")):
        return _file(posixpath.join(posixpath.dirname(importer), spec), paths)
    proj = project(paths)
    config = proj.compiler_paths(importer)
    for base in config.candidates(spec) if config is not None else ():
        if found := _file(base, paths):
            return found
    for target in proj.package_targets(spec, config.custom_conditions if config is not None else ()):
        if found := _file(target, paths):
            return found
    return []


def _file(base: str, paths: PathIndex) -> list[str]:
    """The indexed file a module path (repository-relative, without extension rules applied) names, as a list."""
    base = posixpath.normpath(base) if base else "."
    if base == ".." or base.startswith("../"):
        return []
    key = ("js", base)  # a directory's files import the same few modules: each found once
    if (found := paths.found.get(key)) is None:
        found = paths.found[key] = first(_js_candidates("" if base == "." else base), paths)
    return list(found)


def js_bases(signature: str) -> list[list[str]]:
    """`class X<T extends A> extends B<T> implements C, ns.D {` and `interface X extends A, B {` -> B, C, ns.D (the
    type parameters' constraints are not bases)."""
    m = _DECLARED.search(signature)
    if m is None:
        return []
    rest = signature[m.end():]
    if rest.startswith("<"):  # skip the type parameter list, brackets balanced
        depth = 0
        for i, ch in enumerate(rest):
            depth += ch == "<"
            depth -= ch == ">" and (i == 0 or rest[i - 1] != "=")  # `=>` in a constraint is not a bracket
            if depth == 0:
                rest = rest[i + 1:]
                break
    return extends_bases(rest)


_RETURNED_CHAINS = frozenset({"member_expression", "call_expression", "identifier", "this"})
_FUNCTIONS = frozenset({"method_definition", "function_declaration", "arrow_function", "function_expression",
                        "function"})  # `function` is JavaScript's function expression


def js_value_type(node: ts.Node) -> str:
    """The type of a class field declared without one that is given a `new` object (`private requests = new
    RequestManager()`, JavaScript's `this.requests = new RequestManager()` in a constructor), and the result type of
    a function, a method or a getter declared without one: what its `return`s (or an arrow's expression) give, when
    they all give one (`get cache() { return this.client.cache; }`, `function makeMerger() { return new
    DeepMerger(); }`, `const make = () => new Store()`): the chain of the value returned (read in the class's scope:
    `this.client.cache`), the class it constructs or the type it is asserted to be (`x as Store`); a local it returns
    by the value the function gives it (`const qs = new Set(); ...; return qs`, `if (!ref.current) ref.current = new
    Ref(); return ref.current`); an arrow function's declared result type (`const f = (): Store => ...`, which the
    tags query does not capture); "" otherwise. A value that is one of two (`opts.cache ?? new Cache()`, `a || b`,
    `ready ? a : b`) has the type of the class one constructs, else the fallback's, else the other's."""
    fn: ts.Node | None = node
    if node.type in ("lexical_declaration", "variable_declaration"):
        declarator = next((c for c in node.named_children if c.type == "variable_declarator"), None)
        fn = declarator.child_by_field_name("value") if declarator is not None else None
    elif node.type in ("public_field_definition", "field_definition", "assignment_expression"):
        fn = node.child_by_field_name("right" if node.type == "assignment_expression" else "value")
        if fn is not None and fn.type in ("new_expression", "binary_expression"):  # `requests = new Manager()`,
            return _Body(node, {}).type_of(fn)                                    # `= opts.m ?? new Manager()`
    if fn is None or fn.type not in _FUNCTIONS:
        return ""
    if (declared := fn.child_by_field_name("return_type")) is not None:
        return text(declared).lstrip(":").strip() if fn is not node else ""  # a declaration's own: the tags query's
    body = fn.child_by_field_name("body")
    if body is None:
        return ""
    if body.type != "statement_block":  # `() => value`
        return _Body(fn, {}).type_of(body)
    own = _own(body)
    returned = [r.named_children[0] if r.named_child_count else None for r in own.get("return_statement", ())]
    if not returned or None in returned:
        return ""
    scope = _Body(fn, own)
    found = {scope.type_of(value) for value in returned if value is not None}
    return found.pop() if len(found) == 1 else ""


_NESTED = _FUNCTIONS | {"class_declaration", "class", "function_signature"}  # scopes of their own
_WRAPPERS = frozenset({"parenthesized_expression", "non_null_expression", "satisfies_expression"})
_NAMED_TYPES = frozenset({"type_identifier", "generic_type", "nested_type_identifier"})
_OWN = frozenset({"return_statement", "variable_declarator", "assignment_expression"})
_BOUND = frozenset({"identifier", "shorthand_property_identifier_pattern"})  # names a parameter or pattern binds
_VALUE_DEPTH = 3  # locals followed from one to the next (`const a = b; const b = new X()`)
_GIVEN_MAX = 8  # values given one name that are read (more: a name reassigned in a loop, and the reading bounded)


def _own(node: ts.Node) -> dict[str, list[ts.Node]]:
    """The returns, declarators and assignments within `node`, not within the functions or classes it holds (one
    walk: a body's every node is visited once)."""
    out: dict[str, list[ts.Node]] = {}
    stack = [node]
    while stack:
        n = stack.pop()
        for c in n.named_children:
            if c.type in _OWN:
                out.setdefault(c.type, []).append(c)
            if c.type not in _NESTED:
                stack.append(c)
    return out


def _bound(node: ts.Node) -> set[str]:
    """The names a parameter list or a declared name (a pattern too) binds (a default value's names too: rare)."""
    if node.type in _BOUND:
        return {text(node)}
    out: set[str] = set()
    stack = [node]
    while stack:
        for c in stack.pop().named_children:
            if c.type in _BOUND:
                out.add(text(c))
            elif c.type not in _NESTED and not c.type.startswith("type"):
                stack.append(c)
    return out


class _Body:
    """A function's own names (parameters, declarations) and the values its body gives them, to type what it
    returns."""

    def __init__(self, fn: ts.Node, own: dict[str, list[ts.Node]]) -> None:
        params = fn.child_by_field_name("parameters") or fn.child_by_field_name("parameter")
        self.locals = _bound(params) if params is not None else set()
        self.given: dict[str, list[ts.Node]] = {}  # a name or chain -> the values given to it
        for d in own.get("variable_declarator", ()):
            name, value = d.child_by_field_name("name"), d.child_by_field_name("value")
            if name is not None:
                self.locals |= _bound(name)
                if value is not None:
                    self.given.setdefault(text(name), []).append(value)
        for a in own.get("assignment_expression", ()):
            left, right = a.child_by_field_name("left"), a.child_by_field_name("right")
            if left is not None and right is not None:
                self.given.setdefault(text(left), []).append(right)

    def type_of(self, value: ts.Node, depth: int = 0) -> str:
        while value.type in _WRAPPERS and value.named_child_count:
            value = value.named_children[0]
        if value.type in ("binary_expression", "ternary_expression"):  # one of two (js_value_type)
            if depth >= _VALUE_DEPTH or (value.type == "binary_expression" and (op := value.child_by_field_name(
                    "operator")) is not None and op.type not in ("??", "||")):
                return ""
            named = ("right", "left") if value.type == "binary_expression" else ("alternative", "consequence")
            sides = [n for side in named if (n := value.child_by_field_name(side)) is not None]
            sides.sort(key=lambda n: n.type != "new_expression")  # a class constructed: a type known, not a chain
            return next((t for n in sides if (t := self.type_of(n, depth + 1))), "")
        if value.type == "as_expression" and value.named_child_count == 2:
            asserted = value.named_children[1]
            return text(asserted) if asserted.type in _NAMED_TYPES else ""
        if value.type == "new_expression" and (made := value.child_by_field_name("constructor")) is not None:
            generic = value.child_by_field_name("type_arguments")  # `new Set<Query>()`: its elements are Queries
            return text(made) + text(generic) if made.type in _RETURNED_CHAINS else ""
        if value.type == "call_expression":  # the chain of what is called, then `()`: its result
            called = value.child_by_field_name("function")
            return text(called) + "()" if called is not None and called.type in _RETURNED_CHAINS \
                and not self._local(called) else ""
        if value.type not in _RETURNED_CHAINS and value.type != "subscript_expression":
            return ""
        if not self._local(value):
            return text(value) if value.type in _RETURNED_CHAINS else ""
        given = self.given.get(text(value), ())
        if depth < _VALUE_DEPTH and len(given) <= _GIVEN_MAX:  # a local, or a chain of one: by the values given it
            found = {t for v in given if (t := self.type_of(v, depth + 1))}
            if len(found) == 1:
                return found.pop()
        return ""

    def _local(self, chain: ts.Node) -> bool:
        """Whether a chain starts at one of the function's own names (not one of its file's)."""
        head = chain
        while head.type in ("member_expression", "subscript_expression", "call_expression") and head.named_child_count:
            head = head.named_children[0]
        return head.type == "identifier" and text(head) in self.locals


# type aliases, interfaces and enums are definitions of their own; fields (their types) are symbols only
_TS_TYPES = ("typescript-types.scm", "js-values.scm")  # TypeScript's annotations, and what it shares with JavaScript
_TS_NOT_CHUNKED = frozenset({"constant", "field"})

SPECS = (
    LanguageSpec("javascript", (".js", ".mjs", ".cjs", ".jsx"), "tree_sitter_javascript",
                 queries=("javascript.scm", "jsx.scm"), read_imports=js_imports, resolve=resolve_js,
                 types_query=("javascript-types.scm", "js-values.scm"), bases=js_bases, value_type=js_value_type,
                 not_chunked=SMALL_KINDS | {"field"}, method_fields=True),
    LanguageSpec("typescript", (".ts", ".mts", ".cts"), "tree_sitter_typescript", "language_typescript",
                 read_imports=js_imports, resolve=resolve_js, types_query=_TS_TYPES, bases=js_bases,
                 not_chunked=_TS_NOT_CHUNKED, value_type=js_value_type),
    LanguageSpec("tsx", (".tsx",), "tree_sitter_typescript", "language_tsx", queries=("typescript.scm", "jsx.scm"),
                 read_imports=js_imports, resolve=resolve_js, types_query=_TS_TYPES, bases=js_bases,
                 not_chunked=_TS_NOT_CHUNKED, value_type=js_value_type),
)
