; What a name's type is, for ranking the members of `x.` (typed receivers): @var has type @type.
; Covers what Go declares or constructs with a type written out: receivers and parameters (`func (s *T) m(a pkg.U)`,
; variadic ones), named results, `var x T`, composite literals (`x := T{}`, `x := &pkg.T{...}`, also in `var x = ...`
; and `x = ...`), `new(T)`, conversions `(*T)(p)`, type assertions `x := y.(*T)` and `x, ok := y.(T)`.
; A generic type is named by its type (`List[K]` -> List).
; Also values whose type the index knows (@value: `x := f()`, `x, err := pkg.F()`, `x := y.z`, `x := y.M().N()`;
; retrieval resolves the chain to the function's result or the field's type), containers (`xs []*T`) and what a
; range over one gives (@elem). Not here: struct fields (a field is no name of its own: `s.w` is resolved through the
; struct's definition).

(parameter_declaration name: (identifier) @var type: [
  (type_identifier) (qualified_type)
  (pointer_type [(type_identifier) (qualified_type)])] @type)
(parameter_declaration name: (identifier) @var type: [
  (generic_type type: _ @type) (pointer_type (generic_type type: _ @type))])
(variadic_parameter_declaration name: (identifier) @var type: [
  (type_identifier) (qualified_type) (pointer_type [(type_identifier) (qualified_type)])] @type)

(var_spec name: (identifier) @var type: [
  (type_identifier) (qualified_type)
  (pointer_type [(type_identifier) (qualified_type)])] @type)
(var_spec name: (identifier) @var type: [
  (generic_type type: _ @type) (pointer_type (generic_type type: _ @type))])

; x := T{...}, x := &T{...}, var x = T{...}, x = &T{...} (the first name and the first value)
(short_var_declaration
  left: (expression_list . (identifier) @var)
  right: (expression_list . [
    (composite_literal type: [(type_identifier) (qualified_type)] @type)
    (composite_literal type: (generic_type type: _ @type))
    (unary_expression operator: "&" operand: (composite_literal type: [(type_identifier) (qualified_type)] @type))
    (unary_expression operator: "&" operand: (composite_literal type: (generic_type type: _ @type)))]))
(assignment_statement
  left: (expression_list . (identifier) @var)
  right: (expression_list . [
    (composite_literal type: [(type_identifier) (qualified_type)] @type)
    (unary_expression operator: "&" operand: (composite_literal type: [(type_identifier) (qualified_type)] @type))]))
(var_spec
  name: (identifier) @var
  value: (expression_list . [
    (composite_literal type: [(type_identifier) (qualified_type)] @type)
    (unary_expression operator: "&" operand: (composite_literal type: [(type_identifier) (qualified_type)] @type))]))

; x := new(T)
((short_var_declaration
  left: (expression_list . (identifier) @var)
  right: (expression_list . (call_expression
    function: (identifier) @_new
    arguments: (argument_list . [(type_identifier) (qualified_type)] @type))))
  (#eq? @_new "new"))

; x := (*T)(p)
(short_var_declaration
  left: (expression_list . (identifier) @var)
  right: (expression_list . (call_expression
    function: (parenthesized_expression [
      (unary_expression operator: "*" operand: [(identifier) (selector_expression)] @type)
      (pointer_type [(type_identifier) (qualified_type)] @type)]))))

; x := y.(*T), x, ok := y.(T)
(short_var_declaration
  left: (expression_list . (identifier) @var)
  right: (expression_list . (type_assertion_expression type: [
    (type_identifier) (qualified_type) (pointer_type [(type_identifier) (qualified_type)])] @type)))

; x := f(...), x, err := pkg.F(...), x := y.z, x := y.M(...).N(...), x := ys[i], x := &ys[i]: a value whose type
; the index knows (a function's result, a field's or variable's declared type), as the chain retrieval resolves name
; by name; also the second of two (`i, n := 0, xs.Len()`).
(short_var_declaration
  left: (expression_list . (identifier) @var)
  right: (expression_list . [
    (call_expression function: [(identifier) (selector_expression) (parenthesized_expression)])
    (selector_expression) (identifier) (index_expression)
    (unary_expression operator: "&" operand: [(index_expression) (selector_expression)])] @value))
(short_var_declaration
  left: (expression_list . (_) . (identifier) @var)
  right: (expression_list . (_) . [
    (call_expression function: [(identifier) (selector_expression) (parenthesized_expression)])
    (selector_expression) (identifier) (index_expression)] @value))
(var_spec
  name: (identifier) @var
  !type
  value: (expression_list . [
    (call_expression function: [(identifier) (selector_expression)])
    (selector_expression) (index_expression)] @value))

; Containers written out (`xs []*T`, `var m map[K]*V`, or a pointer to one, `m *map[K]V`, ranged over as `*m`): the
; name holds elements of that type.
(parameter_declaration name: (identifier) @var
  type: [(slice_type) (array_type) (map_type) (channel_type)
         (pointer_type [(slice_type) (array_type) (map_type)])] @type)
(var_spec name: (identifier) @var type: [(slice_type) (array_type) (map_type) (channel_type)
                                          (pointer_type [(slice_type) (array_type) (map_type)])] @type)

; x := xs[a:b]: the same container as xs
(short_var_declaration
  left: (expression_list . (identifier) @var)
  right: (expression_list . (slice_expression operand: [(identifier) (selector_expression)] @value)))

; x := <-ch: an element of the channel
(short_var_declaration
  left: (expression_list . (identifier) @var)
  right: (expression_list . (unary_expression operator: "<-" operand: [(identifier) (selector_expression)] @elem)))

; for _, x := range xs / for k, v := range m: the second name is an element of what is ranged over
(range_clause
  left: (expression_list . (_) . (identifier) @var .)
  right: (_) @elem)

; switch x := y.(type) { case T: ... }: x is a T in that case (each case's type is one of x's alternatives)
(type_switch_statement
  alias: (expression_list . (identifier) @var)
  (type_case type: [
    (type_identifier) (qualified_type) (pointer_type [(type_identifier) (qualified_type)])] @type))

; A function value (`var f func() (T, error)`, `f := func() *T {...}`, a parameter `f func() T`): calling it gives its
; first result, so the name is typed by that result (`v, err := f()`).
(var_spec name: (identifier) @var type: (function_type result: [
  (type_identifier) (qualified_type) (pointer_type [(type_identifier) (qualified_type)])] @type))
(var_spec name: (identifier) @var type: (function_type result: (parameter_list . (parameter_declaration type: [
  (type_identifier) (qualified_type) (pointer_type [(type_identifier) (qualified_type)])] @type))))
(parameter_declaration name: (identifier) @var type: (function_type result: [
  (type_identifier) (qualified_type) (pointer_type [(type_identifier) (qualified_type)])] @type))
(parameter_declaration name: (identifier) @var type: (function_type result: (parameter_list . (parameter_declaration
  type: [(type_identifier) (qualified_type) (pointer_type [(type_identifier) (qualified_type)])] @type))))
(short_var_declaration
  left: (expression_list . (identifier) @var)
  right: (expression_list . (func_literal result: [
    (type_identifier) (qualified_type) (pointer_type [(type_identifier) (qualified_type)])] @type)))
(short_var_declaration
  left: (expression_list . (identifier) @var)
  right: (expression_list . (func_literal result: (parameter_list . (parameter_declaration type: [
    (type_identifier) (qualified_type) (pointer_type [(type_identifier) (qualified_type)])] @type)))))

; Every name a function declares (@local, its type maybe unknown): a local hides a package-level or imported name of
; the same spelling (`debug := ...`, `tableBits = 16` in a const block, `for _, seq := range ...`, a parameter).
(short_var_declaration left: (expression_list (identifier) @var @local))
(var_spec name: (identifier) @var @local)
(const_spec name: (identifier) @var @local)
(type_spec name: (type_identifier) @var @local)
(parameter_declaration name: (identifier) @var @local)
(variadic_parameter_declaration name: (identifier) @var @local)
(range_clause left: (expression_list (identifier) @var @local))
(type_switch_statement alias: (expression_list (identifier) @var @local))
