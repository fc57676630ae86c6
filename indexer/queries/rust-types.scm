; What a name's type is, for ranking the members of `x.` (typed receivers): @var has type @type.
; Covers `let x: T`, parameters `x: T` / `x: &T`, `let x = T::new(..)` (an associated function of a CapWords type) and
; `let x = T { .. }`.
(let_declaration pattern: (identifier) @var type: (_) @type)
(parameter pattern: (identifier) @var type: (_) @type)
((let_declaration pattern: (identifier) @var
   value: (call_expression function: (scoped_identifier path: [(identifier) (scoped_identifier)] @type)))
  (#match? @type "(^|::)[A-Z][A-Za-z0-9_]*$"))
(let_declaration pattern: (identifier) @var value: (struct_expression name: (_) @type))
