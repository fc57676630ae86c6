; C tags: definitions, references and imports.
; A typedef of a struct/union/enum body is captured once, under its typedef name.
; Prototypes are not definitions here (headers are parsed as C++, whose query keeps them).

; Definitions
(function_definition
  declarator: [
    (function_declarator declarator: (identifier) @name)
    (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))
    (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name)))
  ]) @definition.function

; Tagged bodies outside a typedef: top level, inside header guards and #if blocks, `struct s {..} v;`, nested.
(translation_unit
  [(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
   (union_specifier name: (type_identifier) @name body: (_)) @definition.union
   (enum_specifier name: (type_identifier) @name body: (_)) @definition.enum])
(preproc_ifdef
  [(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
   (union_specifier name: (type_identifier) @name body: (_)) @definition.union
   (enum_specifier name: (type_identifier) @name body: (_)) @definition.enum])
(preproc_if
  [(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
   (union_specifier name: (type_identifier) @name body: (_)) @definition.union
   (enum_specifier name: (type_identifier) @name body: (_)) @definition.enum])
(preproc_else
  [(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
   (union_specifier name: (type_identifier) @name body: (_)) @definition.union
   (enum_specifier name: (type_identifier) @name body: (_)) @definition.enum])
(preproc_elif
  [(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
   (union_specifier name: (type_identifier) @name body: (_)) @definition.union
   (enum_specifier name: (type_identifier) @name body: (_)) @definition.enum])
(declaration
  type: [(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
   (union_specifier name: (type_identifier) @name body: (_)) @definition.union
   (enum_specifier name: (type_identifier) @name body: (_)) @definition.enum])
(field_declaration
  type: [(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
   (union_specifier name: (type_identifier) @name body: (_)) @definition.union
   (enum_specifier name: (type_identifier) @name body: (_)) @definition.enum])

(type_definition type: (struct_specifier body: (_)) declarator: (type_identifier) @name) @definition.struct
(type_definition type: (union_specifier body: (_)) declarator: (type_identifier) @name) @definition.union
(type_definition type: (enum_specifier body: (_)) declarator: (type_identifier) @name) @definition.enum
(type_definition
  type: (_ !body)
  declarator: [
    (type_identifier) @name
    (pointer_declarator declarator: (type_identifier) @name)
    (function_declarator declarator: (parenthesized_declarator (pointer_declarator declarator: (type_identifier) @name)))
  ]) @definition.type

(preproc_function_def name: (identifier) @name) @definition.macro
(preproc_def name: (identifier) @name value: (_)) @definition.constant

; References
(call_expression
  function: [
    (identifier) @name
    (field_expression field: (field_identifier) @name)
  ]) @reference.call

(_ type: (type_identifier) @name) @reference.type
(_ type: [(struct_specifier name: (type_identifier) @name !body)
          (union_specifier name: (type_identifier) @name !body)
          (enum_specifier name: (type_identifier) @name !body)]) @reference.type

; Imports: quoted includes only.
(preproc_include path: (string_literal)) @import
