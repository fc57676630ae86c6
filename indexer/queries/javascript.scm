; JavaScript tags: definitions, references and imports.

; Definitions
(class_declaration name: (identifier) @name) @definition.class

[
  (function_declaration name: (identifier) @name)
  (generator_function_declaration name: (identifier) @name)
] @definition.function

(method_definition
  name: [(property_identifier) (private_property_identifier)] @name) @definition.method

(field_definition
  property: [(property_identifier) (private_property_identifier)] @name
  value: [(arrow_function) (function_expression) (generator_function)]) @definition.method

; `#requests = new RequestManager()`: a field (a symbol, not a chunk) of the type it is given (js_value_type reads it)
(field_definition
  property: [(property_identifier) (private_property_identifier)] @name
  value: [(new_expression) (binary_expression operator: ["??" "||"] right: (new_expression))]) @definition.field
; `constructor() { this.requests = new RequestManager(); }`: JavaScript's usual field, of the class around it
; (symbols.nest makes a field found in a method its class's, qualified: a nested class's fields too)
((class_declaration
   body: (class_body (method_definition name: (property_identifier) @_ctor
     body: (statement_block (expression_statement (assignment_expression
       left: (member_expression object: (this) property: (property_identifier) @name)
       right: [(new_expression)
               (binary_expression operator: ["??" "||"] right: (new_expression))]) @definition.field)))))
 (#eq? @_ctor "constructor"))

; `const f = () => {}` / `let g = function () {}`: the whole declaration, so `export` and comments attach.
(lexical_declaration
  (variable_declarator
    name: (identifier) @name
    value: [(arrow_function) (function_expression) (generator_function)])) @definition.function

(variable_declaration
  (variable_declarator
    name: (identifier) @name
    value: [(arrow_function) (function_expression) (generator_function)])) @definition.function

; Top-level `const NAME = <literal>`.
(program
  (lexical_declaration
    kind: "const"
    (variable_declarator
      name: (identifier) @name
      value: [(number) (string) (template_string) (object) (array) (regex) (true) (false)
              (new_expression) (binary_expression) (unary_expression)])) @definition.constant)

(export_statement
  (lexical_declaration
    kind: "const"
    (variable_declarator
      name: (identifier) @name
      value: [(number) (string) (template_string) (object) (array) (regex) (true) (false)
              (new_expression) (binary_expression) (unary_expression)])) @definition.constant)

; `exports.f = function () {}` / `Foo.prototype.bar = () => {}` at the top level.
(program
  (expression_statement
    (assignment_expression
      left: (member_expression property: (property_identifier) @name)
      right: [(arrow_function) (function_expression)]) @definition.function))

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

(class_heritage
  [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ]) @reference.class

; Imports: ES modules, re-exports and CommonJS `require`.
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
