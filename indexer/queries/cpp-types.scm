; What a name's type is, for ranking the members of `x.` and `x->` (typed receivers): @var has type @type.
; Covers C++'s declarations of a name with its type: local and namespace variables (`Status s = ...;`, `Foo* p;`,
; `const Slice& k`), parameters, class fields, range-for variables, and `auto x = new T(...)` / `auto x = T(...)`.
; `const`, `*` and `&` are not part of the type node; primitive types and `auto` without a constructed class give none.

(declaration
  type: [(type_identifier) (qualified_identifier) (template_type)] @type
  declarator: [(identifier) @var
               (pointer_declarator declarator: (identifier) @var)
               (reference_declarator (identifier) @var)
               (init_declarator declarator: [(identifier) @var
                                             (pointer_declarator declarator: (identifier) @var)
                                             (reference_declarator (identifier) @var)])])

(declaration
  type: (placeholder_type_specifier (auto))
  declarator: (init_declarator
    declarator: [(identifier) @var (pointer_declarator declarator: (identifier) @var)]
    value: [(new_expression type: [(type_identifier) (qualified_identifier) (template_type)] @type)
            (call_expression function: [(identifier) (qualified_identifier)] @type)])
  (#match? @type "(^|::)[A-Z][A-Za-z0-9_]*$"))

(parameter_declaration
  type: [(type_identifier) (qualified_identifier) (template_type)] @type
  declarator: [(identifier) @var
               (pointer_declarator declarator: (identifier) @var)
               (reference_declarator (identifier) @var)])

(optional_parameter_declaration
  type: [(type_identifier) (qualified_identifier) (template_type)] @type
  declarator: [(identifier) @var
               (pointer_declarator declarator: (identifier) @var)
               (reference_declarator (identifier) @var)])

(field_declaration
  type: [(type_identifier) (qualified_identifier) (template_type)] @type
  declarator: [(field_identifier) @var
               (pointer_declarator declarator: (field_identifier) @var)
               (reference_declarator (field_identifier) @var)])

(for_range_loop
  type: [(type_identifier) (qualified_identifier) (template_type)] @type
  declarator: [(identifier) @var
               (pointer_declarator declarator: (identifier) @var)
               (reference_declarator (identifier) @var)])
