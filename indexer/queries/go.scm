; Go tags: definitions, references and imports.
; @owner names the type a method belongs to (its receiver's), @type a definition's declared type (a variable's, an
; alias's target, a constant's) or a function's first result type, for following `x.f().g` and for ranking what fits
; where a value of a known type is expected (a constant without a declared type takes its value's: lang/go.py).
; A defined container type (`type Fields []*Field`) has @type too, for what indexing or ranging over one gives.
; A lone `type T ...` is captured as its whole declaration so its doc comment attaches;
; in a grouped `type ( ... )` each spec is captured on its own.

; Definitions.
(function_declaration name: (identifier) @name
  result: [
    (parameter_list . (parameter_declaration type: (_) @type))
    [(type_identifier) (qualified_type) (pointer_type) (generic_type) (slice_type) (array_type) (map_type)
     (channel_type) (function_type) (interface_type) (struct_type)] @type]?) @definition.function

; A method belongs to its receiver's type (@owner), declared apart from it: its qualified name is "Type.Method".
(method_declaration
  receiver: (parameter_list (parameter_declaration type: [
    (type_identifier) @owner
    (pointer_type (type_identifier) @owner)
    (generic_type type: (type_identifier) @owner)
    (pointer_type (generic_type type: (type_identifier) @owner))]))
  name: (field_identifier) @name
  result: [
    (parameter_list . (parameter_declaration type: (_) @type))
    [(type_identifier) (qualified_type) (pointer_type) (generic_type) (slice_type) (array_type) (map_type)
     (channel_type) (function_type) (interface_type) (struct_type)] @type]?) @definition.method
(method_declaration name: (field_identifier) @name) @definition.method  ; a receiver written otherwise

((type_declaration . (type_spec name: (type_identifier) @name type: (struct_type)) .) @definition.struct
  (#not-match? @definition.struct "^type\\s*\\("))
((type_declaration . (type_spec name: (type_identifier) @name type: (interface_type)) .) @definition.interface
  (#not-match? @definition.interface "^type\\s*\\("))
((type_declaration . [
    (type_spec name: (type_identifier) @name type: [(type_identifier) (qualified_type) (generic_type) (pointer_type) (function_type) (parenthesized_type)])
    (type_spec name: (type_identifier) @name type: [(slice_type) (array_type) (map_type) (channel_type)] @type)
    (type_alias name: (type_identifier) @name type: (_) @type)
  ] .) @definition.type
  (#not-match? @definition.type "^type\\s*\\("))

(type_declaration "(" (type_spec name: (type_identifier) @name type: (struct_type)) @definition.struct)
(type_declaration "(" (type_spec name: (type_identifier) @name type: (interface_type)) @definition.interface)
(type_declaration "(" [
    (type_spec name: (type_identifier) @name type: [(type_identifier) (qualified_type) (generic_type) (pointer_type) (function_type) (parenthesized_type)])
    (type_spec name: (type_identifier) @name type: [(slice_type) (array_type) (map_type) (channel_type)] @type)
    (type_alias name: (type_identifier) @name type: (_) @type)
  ] @definition.type)

; Interface methods nest under their interface.
(method_elem name: (field_identifier) @name
  result: [
    (parameter_list . (parameter_declaration type: (_) @type))
    [(type_identifier) (qualified_type) (pointer_type) (generic_type) (slice_type) (array_type) (map_type)
     (channel_type) (function_type) (interface_type) (struct_type)] @type]?) @definition.method

; A struct's fields with their types, and the types it embeds (kind embed: their fields and methods are promoted, as
; a base class's are); an interface's embedded interfaces likewise.
(field_declaration name: (field_identifier) @name type: (_) @type) @definition.field
(field_declaration !name type: [
    (type_identifier) @name
    (qualified_type name: (type_identifier) @name)
    (generic_type type: [(type_identifier) @name (qualified_type name: (type_identifier) @name)])] @type) @definition.embed
(interface_type (type_elem . [
    (type_identifier) @name
    (qualified_type name: (type_identifier) @name)
    (generic_type type: [(type_identifier) @name (qualified_type name: (type_identifier) @name)])] @type .) @definition.embed)

; Package-level constants and variables (the blank identifier `_` declares nothing).
(source_file
  ((const_declaration . (const_spec name: (identifier) @name type: (_)? @type) .) @definition.constant
    (#not-match? @definition.constant "^const\\s*\\(") (#not-eq? @name "_")))
(source_file ((const_declaration "(" (const_spec name: (identifier) @name type: (_)? @type) @definition.constant)
  (#not-eq? @name "_")))
(source_file
  ((var_declaration . (var_spec name: (identifier) @name type: (_)? @type) .) @definition.constant
    (#not-match? @definition.constant "^var\\s*\\(") (#not-eq? @name "_")))
(source_file
  ((var_declaration (var_spec_list (var_spec name: (identifier) @name type: (_)? @type) @definition.constant))
    (#not-eq? @name "_")))

; References
(call_expression
  function: [
    (identifier) @name
    (parenthesized_expression (identifier) @name)
    (selector_expression field: (field_identifier) @name)
    (parenthesized_expression (selector_expression field: (field_identifier) @name))
  ]) @reference.call

(_ type: (type_identifier) @name) @reference.type
(_ result: (type_identifier) @name) @reference.type
(pointer_type (type_identifier) @name) @reference.type
(slice_type element: (type_identifier) @name) @reference.type
(array_type element: (type_identifier) @name) @reference.type
(map_type [key: (type_identifier) value: (type_identifier)] @name) @reference.type
(qualified_type name: (type_identifier) @name) @reference.type
(type_arguments (type_elem (type_identifier) @name)) @reference.type
; a package-level name used as a value (constants, variables, functions passed around): what a file uses
(expression_list (identifier) @name @reference.value)
(binary_expression [left: (identifier) @name right: (identifier) @name] @reference.value)
(unary_expression operand: (identifier) @name @reference.value)
(argument_list (identifier) @name @reference.value)
(keyed_element (literal_element (identifier) @name @reference.value) .)
(literal_value (literal_element (identifier) @name @reference.value))
(index_expression index: (identifier) @name @reference.value)
(array_type length: (identifier) @name @reference.value)
(slice_expression [start: (identifier) end: (identifier) capacity: (identifier)] @name @reference.value)
(if_statement condition: (identifier) @name @reference.value)
(selector_expression operand: (identifier) @name @reference.value)

; Imports
(import_declaration) @import
