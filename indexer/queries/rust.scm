; Rust tags: definitions, references and imports.
; An impl block is a definition named after its type, so its methods get "Type.method".

; Definitions
(struct_item name: (type_identifier) @name) @definition.struct
(enum_item name: (type_identifier) @name) @definition.enum
(union_item name: (type_identifier) @name) @definition.union
(trait_item name: (type_identifier) @name) @definition.trait
(type_item name: (type_identifier) @name) @definition.type

(impl_item
  type: [
    (type_identifier) @name
    (generic_type type: (type_identifier) @name)
    (generic_type type: (scoped_type_identifier name: (type_identifier) @name))
    (scoped_type_identifier name: (type_identifier) @name)
    (reference_type type: (type_identifier) @name)
  ]) @definition.impl

; A function's result type and a field's type (@type) let `a.b().c` and `self.field.c` reach the members of that type.
[
  (function_item name: (identifier) @name return_type: (_)? @type)
  (function_signature_item name: (identifier) @name return_type: (_)? @type)
] @definition.function

; A struct's named fields, with their types (shown with their struct).
(field_declaration name: (field_identifier) @name type: (_) @type) @definition.field

; Inline modules only; `mod foo;` is an import of foo.rs.
(mod_item name: (identifier) @name body: (declaration_list)) @definition.module

(macro_definition name: (identifier) @name) @definition.macro

[
  (const_item name: (identifier) @name)
  (static_item name: (identifier) @name)
] @definition.constant

; An enum's variants: members of their enum (`Kind::Variant`), each a chunk of its own.
(enum_variant name: (identifier) @name) @definition.variant

; References
(call_expression
  function: [
    (identifier) @name
    (field_expression field: (field_identifier) @name)
    (scoped_identifier name: (identifier) @name)
    (generic_function function: (identifier) @name)
    (generic_function function: (scoped_identifier name: (identifier) @name))
    (generic_function function: (field_expression field: (field_identifier) @name))
  ]) @reference.call

(macro_invocation
  macro: [
    (identifier) @name
    (scoped_identifier name: (identifier) @name)
  ]) @reference.call

(struct_expression
  name: [
    (type_identifier) @name
    (scoped_type_identifier name: (type_identifier) @name)
  ]) @reference.class

(impl_item trait: [
    (type_identifier) @name
    (generic_type type: (type_identifier) @name)
    (scoped_type_identifier name: (type_identifier) @name)
  ]) @reference.implementation

(_ type: (type_identifier) @name) @reference.type
(_ return_type: (type_identifier) @name) @reference.type
(type_arguments (type_identifier) @name) @reference.type
(call_expression function: (scoped_identifier path: (identifier) @name)) @reference.type

; Imports
(use_declaration) @import
(mod_item !body) @import
(extern_crate_declaration) @import
