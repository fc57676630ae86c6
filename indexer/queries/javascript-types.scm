; What a name's type is, for ranking the members of `x.` (typed receivers): @var has type @type.
; JavaScript has no type annotations: this covers constructor calls, `const c = new Client()`, a class field
; `c = new Client()` and `this.c = new Client()`.

(variable_declarator
  name: (identifier) @var
  value: (new_expression constructor: [(identifier) (member_expression)] @type))

(field_definition
  property: (property_identifier) @var
  value: (new_expression constructor: [(identifier) (member_expression)] @type))

(assignment_expression
  left: (member_expression object: (this) property: (property_identifier) @var)
  right: (new_expression constructor: [(identifier) (member_expression)] @type))
