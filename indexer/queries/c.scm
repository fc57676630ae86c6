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
; Variables at file or namespace scope (`static const int kLevels = 7;`, `struct server srv;`, `extern int n;`);
; not a type's name, which is where a macro before the type (`API int (*f)(void);`) leaves the parser
(translation_unit
  (declaration type: (_) @type declarator: [
      (identifier) @name
      (array_declarator declarator: (identifier) @name)
      (pointer_declarator declarator: (identifier) @name)
      (init_declarator declarator: [(identifier) @name (array_declarator declarator: (identifier) @name)
                                    (pointer_declarator declarator: (identifier) @name)])]) @definition.variable
    (#not-match? @name "^(int|void|char|short|long|float|double|signed|unsigned|bool|_Bool|const|volatile|inline|[A-Za-z0-9_]+_t)$"))
(preproc_ifdef
  (declaration type: (_) @type declarator: [
      (identifier) @name
      (array_declarator declarator: (identifier) @name)
      (pointer_declarator declarator: (identifier) @name)
      (init_declarator declarator: [(identifier) @name (array_declarator declarator: (identifier) @name)
                                    (pointer_declarator declarator: (identifier) @name)])]) @definition.variable
    (#not-match? @name "^(int|void|char|short|long|float|double|signed|unsigned|bool|_Bool|const|volatile|inline|[A-Za-z0-9_]+_t)$"))
(preproc_if
  (declaration type: (_) @type declarator: [
      (identifier) @name
      (array_declarator declarator: (identifier) @name)
      (pointer_declarator declarator: (identifier) @name)
      (init_declarator declarator: [(identifier) @name (array_declarator declarator: (identifier) @name)
                                    (pointer_declarator declarator: (identifier) @name)])]) @definition.variable
    (#not-match? @name "^(int|void|char|short|long|float|double|signed|unsigned|bool|_Bool|const|volatile|inline|[A-Za-z0-9_]+_t)$"))
(preproc_else
  (declaration type: (_) @type declarator: [
      (identifier) @name
      (array_declarator declarator: (identifier) @name)
      (pointer_declarator declarator: (identifier) @name)
      (init_declarator declarator: [(identifier) @name (array_declarator declarator: (identifier) @name)
                                    (pointer_declarator declarator: (identifier) @name)])]) @definition.variable
    (#not-match? @name "^(int|void|char|short|long|float|double|signed|unsigned|bool|_Bool|const|volatile|inline|[A-Za-z0-9_]+_t)$"))
(preproc_elif
  (declaration type: (_) @type declarator: [
      (identifier) @name
      (array_declarator declarator: (identifier) @name)
      (pointer_declarator declarator: (identifier) @name)
      (init_declarator declarator: [(identifier) @name (array_declarator declarator: (identifier) @name)
                                    (pointer_declarator declarator: (identifier) @name)])]) @definition.variable
    (#not-match? @name "^(int|void|char|short|long|float|double|signed|unsigned|bool|_Bool|const|volatile|inline|[A-Za-z0-9_]+_t)$"))
(preproc_def name: (identifier) @name value: (_)) @definition.constant
; An enum's constants: named bare where the enum is visible (`graph.Graph` shows their enum).
(enumerator name: (identifier) @name) @definition.enumerator

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
