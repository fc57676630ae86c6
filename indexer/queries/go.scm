; Go tags: definitions, references and imports.
; A lone `type T ...` is captured as its whole declaration so its doc comment attaches;
; in a grouped `type ( ... )` each spec is captured on its own.

; Definitions
(function_declaration name: (identifier) @name) @definition.function

; Methods are not nested in their receiver's type: the qualified name is the method name.
(method_declaration name: (field_identifier) @name) @definition.method

((type_declaration . (type_spec name: (type_identifier) @name type: (struct_type)) .) @definition.struct
  (#not-match? @definition.struct "^type\\s*\\("))
((type_declaration . (type_spec name: (type_identifier) @name type: (interface_type)) .) @definition.interface
  (#not-match? @definition.interface "^type\\s*\\("))
((type_declaration . [
    (type_spec name: (type_identifier) @name type: [(type_identifier) (qualified_type) (generic_type) (pointer_type) (slice_type) (array_type) (map_type) (channel_type) (function_type) (parenthesized_type)])
    (type_alias name: (type_identifier) @name)
  ] .) @definition.type
  (#not-match? @definition.type "^type\\s*\\("))

(type_declaration "(" (type_spec name: (type_identifier) @name type: (struct_type)) @definition.struct)
(type_declaration "(" (type_spec name: (type_identifier) @name type: (interface_type)) @definition.interface)
(type_declaration "(" [
    (type_spec name: (type_identifier) @name type: [(type_identifier) (qualified_type) (generic_type) (pointer_type) (slice_type) (array_type) (map_type) (channel_type) (function_type) (parenthesized_type)])
    (type_alias name: (type_identifier) @name)
  ] @definition.type)

; Interface methods nest under their interface.
(method_elem name: (field_identifier) @name) @definition.method

; Package-level constants and variables.
(source_file
  ((const_declaration . (const_spec name: (identifier) @name) .) @definition.constant
    (#not-match? @definition.constant "^const\\s*\\(")))
(source_file (const_declaration "(" (const_spec name: (identifier) @name) @definition.constant))
(source_file
  ((var_declaration . (var_spec name: (identifier) @name) .) @definition.constant
    (#not-match? @definition.constant "^var\\s*\\(")))
(source_file (var_declaration (var_spec_list (var_spec name: (identifier) @name) @definition.constant)))

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

; Imports
(import_declaration) @import
