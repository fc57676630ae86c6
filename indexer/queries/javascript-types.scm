; What a name's type is, for ranking the members of `x.` (typed receivers): @var has type @type.
; JavaScript has no type annotations: this covers constructor calls, `const c = new Client()`, a class field
; `c = new Client()` and `this.c = new Client()`, and what takes its type from such a value: a getter returning it,
; a name destructured from it, a variable set to a chain through it.

(variable_declarator
  name: (identifier) @var
  value: (new_expression constructor: [(identifier) (member_expression)] @type))

(field_definition
  property: (property_identifier) @var
  value: (new_expression constructor: [(identifier) (member_expression)] @type))

(assignment_expression
  left: (member_expression object: (this) property: (property_identifier) @var)
  right: (new_expression constructor: [(identifier) (member_expression)] @type))

; get cache() { return this.client.cache; }: a getter whose body returns one value has its type (a value's chain, or
; the class it constructs)
(method_definition "get" name: (property_identifier) @var
  body: (statement_block . (return_statement
                              [(member_expression) (call_expression function: [(identifier) (member_expression)])] @value) .))
(method_definition "get" name: (property_identifier) @var
  body: (statement_block . (return_statement
                              (new_expression constructor: [(identifier) (member_expression)] @type)) .))

; const { policies, cache: c } = this.cache: a name destructured from a value (@from) has its property's type (the
; property is @prop where it is renamed, else the name)
(variable_declarator
  name: (object_pattern [(shorthand_property_identifier_pattern) @var
                         (object_assignment_pattern left: (shorthand_property_identifier_pattern) @var)])
  value: [(identifier) (member_expression) (call_expression function: [(identifier) (member_expression)])] @from)
(variable_declarator
  name: (object_pattern (pair_pattern key: (property_identifier) @prop value: (identifier) @var))
  value: [(identifier) (member_expression) (call_expression function: [(identifier) (member_expression)])] @from)

; const x = a.b.f(), const x = a.b: a value whose type the index knows (a field constructed with `new`, a getter's)
(variable_declarator name: (identifier) @var
  value: [(call_expression function: [(identifier) (member_expression)]) (member_expression)] @value)
