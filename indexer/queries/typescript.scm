; TypeScript and TSX tags (both grammars): definitions, references and imports.

; Definitions
[
  (class_declaration name: (type_identifier) @name)
  (abstract_class_declaration name: (type_identifier) @name)
] @definition.class

(interface_declaration name: (type_identifier) @name) @definition.interface

; a type alias's value (@type): an alias of one type (`type Client = WsClient`, `type C = ReturnType<typeof make>`)
; has that type's members (graph.type_of); an object type's or a union's none of its own
(type_alias_declaration name: (type_identifier) @name value: (_) @type) @definition.type

(enum_declaration name: (identifier) @name) @definition.enum

; a function's or method's declared result type (@type) is what a call of it gives: `x = a.f()`, `a.f().g`
[
  (function_declaration name: (identifier) @name return_type: (type_annotation (_) @type)?)
  (generator_function_declaration name: (identifier) @name)
  (function_signature name: (identifier) @name return_type: (type_annotation (_) @type)?)
] @definition.function

[
  (method_definition name: [(property_identifier) (private_property_identifier)] @name
    return_type: (type_annotation (_) @type)?)
  (method_signature name: (property_identifier) @name return_type: (type_annotation (_) @type)?)
  (abstract_method_signature name: (property_identifier) @name return_type: (type_annotation (_) @type)?)
] @definition.method

(public_field_definition
  name: [(property_identifier) (private_property_identifier)] @name
  value: [(arrow_function) (function_expression) (generator_function)]) @definition.method

; A class field's or an interface property's declared type (`public cache: ApolloCache`, `cache?: ApolloCache;`): a
; field (a symbol, not a chunk of its own) whose type leads `client.cache.` to that type's members
(public_field_definition
  name: [(property_identifier) (private_property_identifier)] @name
  type: (type_annotation (_) @type)) @definition.field
; `private requests = new RequestManager()`: a field of the type it is given (js_value_type reads it)
(public_field_definition
  name: [(property_identifier) (private_property_identifier)] @name
  !type
  value: [(new_expression) (binary_expression operator: ["??" "||"] right: (new_expression))]) @definition.field
(interface_body (property_signature name: (property_identifier) @name type: (type_annotation (_) @type)) @definition.field)
(type_alias_declaration value: (object_type
  (property_signature name: (property_identifier) @name type: (type_annotation (_) @type)) @definition.field))
; ...and of an object type intersected with others (`type Options = { client: Client } & Base`)
(type_alias_declaration value: (intersection_type (object_type
  (property_signature name: (property_identifier) @name type: (type_annotation (_) @type)) @definition.field)))
(type_alias_declaration value: (intersection_type (intersection_type (object_type
  (property_signature name: (property_identifier) @name type: (type_annotation (_) @type)) @definition.field))))
; `constructor(private readonly client: Client)`: a parameter property is a field of its class (@owner), not of the
; constructor it is written in
([(class_declaration name: (type_identifier) @owner
    body: (class_body (method_definition name: (property_identifier) @_ctor
      parameters: (formal_parameters
        [(required_parameter [(accessibility_modifier) "readonly"] pattern: (identifier) @name
                             type: (type_annotation (_) @type))
         (optional_parameter [(accessibility_modifier) "readonly"] pattern: (identifier) @name
                             type: (type_annotation (_) @type))] @definition.field))))
  (abstract_class_declaration name: (type_identifier) @owner
    body: (class_body (method_definition name: (property_identifier) @_ctor
      parameters: (formal_parameters
        [(required_parameter [(accessibility_modifier) "readonly"] pattern: (identifier) @name
                             type: (type_annotation (_) @type))
         (optional_parameter [(accessibility_modifier) "readonly"] pattern: (identifier) @name
                             type: (type_annotation (_) @type))] @definition.field))))]
 (#eq? @_ctor "constructor"))

; `namespace N {}` is an expression statement: capture the statement so comments attach.
(expression_statement (internal_module name: (_) @name)) @definition.namespace
(export_statement (internal_module name: (_) @name) @definition.namespace)
(ambient_declaration (internal_module name: (_) @name) @definition.namespace)
(module name: [(identifier) (nested_identifier)] @name) @definition.module
(module name: (string (string_fragment) @name)) @definition.module

; `const f = () => {}` / `let g = function () {}`: the whole declaration, so `export` and comments attach.
(lexical_declaration
  (variable_declarator
    name: (identifier) @name
    value: [(arrow_function) (function_expression) (generator_function)])) @definition.function

(variable_declaration
  (variable_declarator
    name: (identifier) @name
    value: [(arrow_function) (function_expression) (generator_function)])) @definition.function

; the same behind a type assertion, at the top level: `const f = function () {} as any as typeof g`,
; `const f = (() => {}) satisfies F` (the constants below take the other assertions).
(program
  (lexical_declaration
    (variable_declarator
      name: (identifier) @name
      value: [(as_expression . [(arrow_function) (function_expression) (generator_function)
                                (parenthesized_expression [(arrow_function) (function_expression)])
                                (as_expression . [(arrow_function) (function_expression) (generator_function)
                                                  (parenthesized_expression [(arrow_function) (function_expression)])])])
              (satisfies_expression . [(arrow_function) (function_expression) (generator_function)
                                       (parenthesized_expression [(arrow_function) (function_expression)])])])) @definition.function)

(export_statement
  (lexical_declaration
    (variable_declarator
      name: (identifier) @name
      value: [(as_expression . [(arrow_function) (function_expression) (generator_function)
                                (parenthesized_expression [(arrow_function) (function_expression)])
                                (as_expression . [(arrow_function) (function_expression) (generator_function)
                                                  (parenthesized_expression [(arrow_function) (function_expression)])])])
              (satisfies_expression . [(arrow_function) (function_expression) (generator_function)
                                       (parenthesized_expression [(arrow_function) (function_expression)])])])) @definition.function)

; Top-level `const NAME = <literal>`.
(program
  (lexical_declaration
    kind: "const"
    (variable_declarator
      name: (identifier) @name
      value: [(number) (string) (template_string) (object) (array) (regex) (true) (false)
              (new_expression) (binary_expression) (unary_expression)
              (as_expression . [(number) (string) (template_string) (object) (array) (regex) (true) (false) (null)
                                (new_expression) (binary_expression) (unary_expression) (identifier)
                                (member_expression) (call_expression) (as_expression . [(identifier) (object)])])
              (satisfies_expression . [(object) (array) (as_expression . [(object) (array)])])])) @definition.constant)

(export_statement
  (lexical_declaration
    kind: "const"
    (variable_declarator
      name: (identifier) @name
      value: [(number) (string) (template_string) (object) (array) (regex) (true) (false)
              (new_expression) (binary_expression) (unary_expression)
              (as_expression . [(number) (string) (template_string) (object) (array) (regex) (true) (false) (null)
                                (new_expression) (binary_expression) (unary_expression) (identifier)
                                (member_expression) (call_expression) (as_expression . [(identifier) (object)])])
              (satisfies_expression . [(object) (array) (as_expression . [(object) (array)])])])) @definition.constant)

; References
((call_expression function: (identifier) @name) @reference.call
  (#not-eq? @name "require"))

(call_expression
  function: (member_expression property: (property_identifier) @name)) @reference.call

(new_expression
  constructor: [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ]) @reference.class

(extends_clause
  value: [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ]) @reference.class

(implements_clause (type_identifier) @name) @reference.type

(extends_type_clause (type_identifier) @name) @reference.type

(type_annotation (type_identifier) @name) @reference.type

(generic_type name: (type_identifier) @name) @reference.type

(type_arguments (type_identifier) @name) @reference.type

(array_type (type_identifier) @name) @reference.type

(union_type (type_identifier) @name) @reference.type

(constraint (type_identifier) @name) @reference.type

(as_expression (type_identifier) @name) @reference.type

; Imports: ES modules, `import x = require()`, re-exports and CommonJS `require`.
(import_statement) @import

(export_statement source: (string)) @import

(lexical_declaration
  ((variable_declarator
    value: (call_expression
      function: (identifier) @_require
      arguments: (arguments . (string) .))) @import
    (#eq? @_require "require")))

(variable_declaration
  ((variable_declarator
    value: (call_expression
      function: (identifier) @_require
      arguments: (arguments . (string) .))) @import
    (#eq? @_require "require")))
