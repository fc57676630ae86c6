; C++ tags (also used for .h headers): definitions, references and imports.
; Functions in class bodies become "Class.method" by nesting; an out-of-line `A::f` definition
; is a method named by its last component ("f"). Top-level prototypes are definitions too
; (a header's API), but not declarations inside function bodies.

; Definitions
(function_definition
  declarator: [
    (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)
    (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (reference_declarator (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)))
  ]) @definition.function

(function_definition
  declarator: [
    (function_declarator declarator: (qualified_identifier
      name: [
        (identifier) @name (destructor_name) @name (operator_name) @name
        (qualified_identifier name: [(identifier) (destructor_name) (operator_name)] @name)
        (qualified_identifier name: (qualified_identifier name: [(identifier) (destructor_name) (operator_name)] @name))
      ]))
    (pointer_declarator declarator: (function_declarator declarator: (qualified_identifier
      name: [
        (identifier) @name (destructor_name) @name (operator_name) @name
        (qualified_identifier name: [(identifier) (destructor_name) (operator_name)] @name)
        (qualified_identifier name: (qualified_identifier name: [(identifier) (destructor_name) (operator_name)] @name))
      ])))
    (reference_declarator (function_declarator declarator: (qualified_identifier
      name: [
        (identifier) @name (destructor_name) @name (operator_name) @name
        (qualified_identifier name: [(identifier) (destructor_name) (operator_name)] @name)
        (qualified_identifier name: (qualified_identifier name: [(identifier) (destructor_name) (operator_name)] @name))
      ])))
    (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: (qualified_identifier
      name: [
        (identifier) @name (destructor_name) @name (operator_name) @name
        (qualified_identifier name: [(identifier) (destructor_name) (operator_name)] @name)
        (qualified_identifier name: (qualified_identifier name: [(identifier) (destructor_name) (operator_name)] @name))
      ]))))
  ]) @definition.method

; Method declarations in class bodies (constructors and destructors are `declaration`s, below).
(field_declaration
  declarator: [
    (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)
    (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (reference_declarator (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)))
  ]) @definition.function

; Prototypes outside function bodies: namespace level, templates, and constructors/destructors in class bodies.
(translation_unit
  (declaration declarator: [
    (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)
    (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (reference_declarator (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)))
  ]) @definition.function)
(preproc_ifdef
  (declaration declarator: [
    (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)
    (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (reference_declarator (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)))
  ]) @definition.function)
(preproc_if
  (declaration declarator: [
    (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)
    (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (reference_declarator (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)))
  ]) @definition.function)
(preproc_else
  (declaration declarator: [
    (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)
    (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (reference_declarator (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)))
  ]) @definition.function)
(preproc_elif
  (declaration declarator: [
    (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)
    (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (reference_declarator (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)))
  ]) @definition.function)
(declaration_list
  (declaration declarator: [
    (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)
    (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (reference_declarator (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)))
  ]) @definition.function)
(linkage_specification
  (declaration declarator: [
    (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)
    (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (reference_declarator (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)))
  ]) @definition.function)
(field_declaration_list
  (declaration declarator: [
    (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)
    (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (reference_declarator (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)))
  ]) @definition.function)
(template_declaration
  (declaration declarator: [
    (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)
    (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (reference_declarator (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
    (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)))
  ]) @definition.function)

; Conversion operators.
(function_definition declarator: (operator_cast) @name) @definition.function
(function_definition declarator: (qualified_identifier name: (operator_cast) @name)) @definition.method

; Class, struct, union and enum bodies outside a typedef.
(translation_unit
  [(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
   (class_specifier name: (type_identifier) @name body: (_)) @definition.class
   (union_specifier name: (type_identifier) @name body: (_)) @definition.union
   (enum_specifier name: (type_identifier) @name body: (_)) @definition.enum])
(preproc_ifdef
  [(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
   (class_specifier name: (type_identifier) @name body: (_)) @definition.class
   (union_specifier name: (type_identifier) @name body: (_)) @definition.union
   (enum_specifier name: (type_identifier) @name body: (_)) @definition.enum])
(preproc_if
  [(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
   (class_specifier name: (type_identifier) @name body: (_)) @definition.class
   (union_specifier name: (type_identifier) @name body: (_)) @definition.union
   (enum_specifier name: (type_identifier) @name body: (_)) @definition.enum])
(preproc_else
  [(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
   (class_specifier name: (type_identifier) @name body: (_)) @definition.class
   (union_specifier name: (type_identifier) @name body: (_)) @definition.union
   (enum_specifier name: (type_identifier) @name body: (_)) @definition.enum])
(preproc_elif
  [(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
   (class_specifier name: (type_identifier) @name body: (_)) @definition.class
   (union_specifier name: (type_identifier) @name body: (_)) @definition.union
   (enum_specifier name: (type_identifier) @name body: (_)) @definition.enum])
(declaration_list
  [(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
   (class_specifier name: (type_identifier) @name body: (_)) @definition.class
   (union_specifier name: (type_identifier) @name body: (_)) @definition.union
   (enum_specifier name: (type_identifier) @name body: (_)) @definition.enum])
(template_declaration
  [(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
   (class_specifier name: (type_identifier) @name body: (_)) @definition.class
   (union_specifier name: (type_identifier) @name body: (_)) @definition.union
   (enum_specifier name: (type_identifier) @name body: (_)) @definition.enum])
(declaration
  type: [(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
   (class_specifier name: (type_identifier) @name body: (_)) @definition.class
   (union_specifier name: (type_identifier) @name body: (_)) @definition.union
   (enum_specifier name: (type_identifier) @name body: (_)) @definition.enum])
(field_declaration
  type: [(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
   (class_specifier name: (type_identifier) @name body: (_)) @definition.class
   (union_specifier name: (type_identifier) @name body: (_)) @definition.union
   (enum_specifier name: (type_identifier) @name body: (_)) @definition.enum])

(type_definition type: [(struct_specifier body: (_)) (class_specifier body: (_))] declarator: (type_identifier) @name) @definition.struct
(type_definition type: (union_specifier body: (_)) declarator: (type_identifier) @name) @definition.union
(type_definition type: (enum_specifier body: (_)) declarator: (type_identifier) @name) @definition.enum
(type_definition
  type: (_ !body)
  declarator: [
    (type_identifier) @name
    (pointer_declarator declarator: (type_identifier) @name)
    (function_declarator declarator: (parenthesized_declarator (pointer_declarator declarator: (type_identifier) @name)))
  ]) @definition.type
(alias_declaration name: (type_identifier) @name) @definition.type

(namespace_definition name: [(namespace_identifier) (nested_namespace_specifier)] @name) @definition.namespace

(preproc_function_def name: (identifier) @name) @definition.macro
; Variables in namespaces and `extern "C"` blocks (at file scope: c-family.scm)
(declaration_list
  (declaration type: (_) @type declarator: [
      (identifier) @name
      (array_declarator declarator: (identifier) @name)
      (pointer_declarator declarator: (identifier) @name)
      (init_declarator declarator: [(identifier) @name (array_declarator declarator: (identifier) @name)
                                    (pointer_declarator declarator: (identifier) @name)])]) @definition.variable
    (#not-match? @name "^(int|void|char|short|long|float|double|signed|unsigned|bool|_Bool|const|volatile|inline|[A-Za-z0-9_]+_t)$"))
(linkage_specification
  (declaration type: (_) @type declarator: [
      (identifier) @name
      (array_declarator declarator: (identifier) @name)
      (pointer_declarator declarator: (identifier) @name)
      (init_declarator declarator: [(identifier) @name (array_declarator declarator: (identifier) @name)
                                    (pointer_declarator declarator: (identifier) @name)])]) @definition.variable
    (#not-match? @name "^(int|void|char|short|long|float|double|signed|unsigned|bool|_Bool|const|volatile|inline|[A-Za-z0-9_]+_t)$"))
; A class's or struct's data members with their declared type (`port::Mutex mutex_;`): members of it, not chunks
(field_declaration
  type: (_) @type
  declarator: [(field_identifier) @name
               (pointer_declarator declarator: (field_identifier) @name)
               (reference_declarator (field_identifier) @name)
               (array_declarator declarator: (field_identifier) @name)]) @definition.field
(preproc_def name: (identifier) @name value: (_)) @definition.constant

; References
(call_expression
  function: [
    (identifier) @name
    (field_expression field: (field_identifier) @name)
    (qualified_identifier name: (identifier) @name)
    (template_function name: (identifier) @name)
    (field_expression field: (template_method name: (field_identifier) @name))
  ]) @reference.call

(new_expression type: [(type_identifier) @name (qualified_identifier name: (type_identifier) @name)]) @reference.class

(base_class_clause
  [(type_identifier) @name
   (qualified_identifier name: (type_identifier) @name)
   (template_type name: (type_identifier) @name)]) @reference.class

(_ type: (type_identifier) @name) @reference.type
(_ type: (qualified_identifier name: (type_identifier) @name)) @reference.type
(_ type: (template_type name: (type_identifier) @name)) @reference.type

; Imports: quoted includes only.
(preproc_include path: (string_literal)) @import
