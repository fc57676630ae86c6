; Java tags: definitions, references and imports.

; Definitions
(class_declaration name: (identifier) @name) @definition.class
(record_declaration name: (identifier) @name) @definition.class
(interface_declaration name: (identifier) @name) @definition.interface
(annotation_type_declaration name: (identifier) @name) @definition.interface
(enum_declaration name: (identifier) @name) @definition.enum

; A method's result type and a field's type (@type) let `a.b().c` and `a.field.c` reach the members of that type.
(method_declaration type: (_) @type name: (identifier) @name) @definition.method
[
  (constructor_declaration name: (identifier) @name)
  (compact_constructor_declaration name: (identifier) @name)
] @definition.method

; Fields: a `static final` field, an interface's field and an enum constant are constants (javac's compile-time
; constants and what a static import names); other fields are fields. A declaration with several declarators is
; one definition, named by its first.
(field_declaration [(modifiers "static" "final") (modifiers "final" "static")] type: (_) @type
  declarator: (variable_declarator name: (identifier) @name)) @definition.constant
(constant_declaration type: (_) @type declarator: (variable_declarator name: (identifier) @name)) @definition.constant
(enum_constant name: (identifier) @name) @definition.constant
(field_declaration type: (_) @type declarator: (variable_declarator name: (identifier) @name)) @definition.field

; References
(method_invocation name: (identifier) @name) @reference.call

(object_creation_expression
  type: [
    (type_identifier) @name
    (scoped_type_identifier (type_identifier) @name .)
  ]) @reference.class

(superclass (type_identifier) @name) @reference.class
(superclass (generic_type (type_identifier) @name)) @reference.class
(super_interfaces (type_list (type_identifier) @name)) @reference.implementation
(super_interfaces (type_list (generic_type (type_identifier) @name))) @reference.implementation

[
  (formal_parameter type: (type_identifier) @name)
  (spread_parameter (type_identifier) @name)
  (local_variable_declaration type: (type_identifier) @name)
  (field_declaration type: (type_identifier) @name)
  (method_declaration type: (type_identifier) @name)
  (cast_expression type: (type_identifier) @name)
  (instanceof_expression right: (type_identifier) @name)
  (catch_type (type_identifier) @name)
  (array_type element: (type_identifier) @name)
  (type_bound (type_identifier) @name)
] @reference.type
(generic_type (type_identifier) @name) @reference.type
(type_arguments (type_identifier) @name) @reference.type
(method_reference . (identifier) @name) @reference.type

; Imports
(import_declaration) @import
