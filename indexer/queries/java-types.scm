; What a name's type is, for ranking the members of `x.` (typed receivers): @var has type @type.
; Covers Java's declarations of a name with its type: fields, local variables (and `var x = new T(...)`, whose type
; is the constructed class), parameters (methods, constructors, lambdas, records), catch parameters with one type,
; enhanced-for variables, try-with-resources and `instanceof` patterns. Types are class names, qualified names or
; generic types (their raw type); primitives, arrays and `var` without `new` give none.

(field_declaration
  type: [(type_identifier) (scoped_type_identifier) (generic_type)] @type
  declarator: (variable_declarator name: (identifier) @var))

((local_variable_declaration
   type: [(type_identifier) (scoped_type_identifier) (generic_type)] @type
   declarator: (variable_declarator name: (identifier) @var))
  (#not-eq? @type "var"))

(local_variable_declaration
  type: (type_identifier) @_var
  declarator: (variable_declarator
    name: (identifier) @var
    value: (object_creation_expression type: [(type_identifier) (scoped_type_identifier) (generic_type)] @type))
  (#eq? @_var "var"))

(formal_parameter
  type: [(type_identifier) (scoped_type_identifier) (generic_type)] @type
  name: (identifier) @var)

(catch_formal_parameter
  (catch_type . [(type_identifier) (scoped_type_identifier)] @type .)
  name: (identifier) @var)

((enhanced_for_statement
   type: [(type_identifier) (scoped_type_identifier) (generic_type)] @type
   name: (identifier) @var)
  (#not-eq? @type "var"))

((resource
   type: [(type_identifier) (scoped_type_identifier) (generic_type)] @type
   name: (identifier) @var)
  (#not-eq? @type "var"))

(instanceof_expression
  right: [(type_identifier) (scoped_type_identifier) (generic_type)] @type
  name: (identifier) @var)
