"""What the code before a cursor expects (indexer/expect.py): a bool after `if`, an operand's type after a binary
operator, a switch subject's type after `case`, the function's result after `return`, a field's type in a Go
composite literal; and how a definition's type fits what is expected."""
from __future__ import annotations

import pytest
from ragls.indexer.expect import NUMBER, Expect, expect, fit, parameter_types, type_key


def at(code: str, language: str = "go") -> Expect | None:
    lines = code.split("\n")
    start = next((i + 1 for i in range(len(lines) - 1, -1, -1) if lines[i].lstrip().startswith(("func", "def",
                                                                                               "function"))), 1)
    return expect(lines, start, language)


@pytest.mark.parametrize("code,language", [
    ("\tif ", "go"), ("\tif !", "go"), ("\tif a && ", "go"), ("\tok := x || !", "go"),
    ("    if x and not ", "python"), ("    while ", "python"), ("    if (", "java"), ("    if (!", "typescript"),
])
def test_a_condition_expects_a_bool(code: str, language: str) -> None:
    assert at(code, language) == Expect(type="bool")


def test_a_binary_operator_expects_its_left_operand_s_type() -> None:
    assert at("\tif s.Reuse == ") == Expect(chain=("s", "Reuse"))
    assert at("\tif d.Kind() != ") == Expect(chain=("d", "Kind"))
    assert at("\tif n > ") == Expect(chain=("n",), numeric=True)  # a number, if n's type is unknown
    assert at("\tif len(src)-int(s) > ") == Expect(type="int")  # the last operand's: a conversion
    assert at("\tif len(data) > ") == Expect(type="int")
    assert at("\tif uint32(x) >= ") == Expect(type="uint32")
    assert at("\tx.mode = ") == Expect(chain=("x", "mode"))
    assert at("\tn := ") is None  # a declaration: its type comes from what follows
    assert at("\tp := &") is None  # a composite literal's type: a type, not a value
    assert at("\tList<") is None and at("\tvar x = a<", "java") is None  # a generic's bracket


def test_case_expects_the_switch_subject_s_type() -> None:
    code = "func f(b *blockDec) {\n\tswitch b.Type {\n\tcase blockTypeRaw:\n\t\treturn\n\tcase "
    assert at(code) == Expect(chain=("b", "Type"))
    assert at("func f() {\n\tswitch {\n\tcase ") == Expect(type="bool")
    assert at("func f() {\n\tswitch v := x.(type) {\n\tcase ") is None  # a type switch's cases are types
    java = "  void f() {\n    switch (kind) {\n      case A:\n        break;\n      case "
    assert at(java, "java") == Expect(chain=("kind",))


def test_return_expects_the_function_s_result_at_its_position() -> None:
    code = "func (e *Enc) encode(in []byte) (n int, err error) {\n\tif x {\n\t\treturn 0, "
    assert at(code) == Expect(type="error")
    assert at("func next() *Token {\n\treturn ") == Expect(type="*Token")
    assert at("def f(x) -> bool:\n    return ", "python") == Expect(type="bool")
    assert at("func f() {\n\treturn ") is None


def test_a_go_composite_literal_field_expects_the_field_s_type() -> None:
    code = "func newW() *W {\n\treturn &W{\n\t\tout: nil,\n\t\tliteralEncoding: "
    assert at(code) == Expect(field=(("W",), "literalEncoding"))
    assert at("func f() {\n\tt := pkg.Token{kind: ") == Expect(field=(("pkg", "Token"), "kind"))
    assert at("func f() {\n\tif x {\n\t\tlabel: ") is None  # a brace that opens no literal
    long = "func f() {\n\tfoo(" + ", ".join(["a"] * 150) + "); t := Token{kind: "  # the key far along a long line
    assert at(long) == Expect(field=(("Token",), "kind"))


def test_types_fit_by_name_and_numbers_loosely() -> None:
    assert type_key("*pkg.Kind") == "Kind" and type_key("untyped int") == NUMBER and type_key("bool") == "bool"
    assert fit("Kind", type_key("protoreflect.Kind")) == 1.0
    assert fit("uint32", type_key("untyped int")) == 0.5 and fit(NUMBER, "int64") == 0.5
    assert fit("Kind", "Level") == 0.0 and fit("bool", type_key("untyped int")) == 0.0


def test_a_call_s_argument_expects_its_parameter_s_type() -> None:
    assert at("\tnextHash := hashLen(cv, ") == Expect(chain=("hashLen",), argument=1)
    assert at("\tfoo(\n\t\ta,\n\t\t") == Expect(chain=("foo",), argument=1)  # a call over several lines
    assert at("    return p.parse(x, ", "java") == Expect(chain=("p", "parse"), argument=1)
    assert at("    x = new Element(", "java") == Expect(chain=("Element",), argument=0)  # its constructor's
    assert at("\tn := uint32(") == Expect(type="uint32") and at("\tb := make([]byte, ") == Expect(type="int")
    assert at("func hashLen(u uint64, ") is None and at("    public int foo(int a, ", "java") is None  # declarations


@pytest.mark.parametrize("name,signature,language,types", [
    ("hashLen", "func hashLen(u uint64, length, mls uint8) uint32", "go", ["uint64", "uint8", "uint8"]),
    ("Add", "func (c *Cart) Add(items ...*Item) error", "go", ["*Item"]),
    ("f", "func f(int, *T)", "go", ["int", "*T"]),
    ("foo", "public static int foo(final int a, @Nullable Map<String, Integer> m, String... rest)", "java",
     ["int", "Map<String, Integer>", "String"]),
    ("render", "def render(self, x: int, y=2, *, z: str = 'a') -> None:", "python", ["int", ""]),
    ("f", "function f(a: number, b?: Foo<X, Y> = null): void", "typescript", ["number", "Foo<X, Y>"]),
])
def test_parameter_types_from_a_signature(name: str, signature: str, language: str, types: list[str]) -> None:
    assert parameter_types(name, signature, language) == types
