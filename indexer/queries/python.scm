; Python tags: definitions, references and imports.
(class_definition name: (identifier) @name) @definition.class

(function_definition name: (identifier) @name return_type: (type)? @type) @definition.function

(module (expression_statement (assignment left: (identifier) @name) @definition.constant))

; A class's attributes, for what `obj.attr.` reaches (a symbol, not a chunk: shown with the class): annotated in the
; class body (dataclasses, attrs, pydantic: `cache: Cache`), and given by its methods (`self.cache = Cache()`,
; `self.cache = cache` of a parameter `cache: Cache`; python_value_type reads the type, symbols.nest makes it the
; class's, once)
(class_definition body: (block (expression_statement
  (assignment left: (identifier) @name type: (type) @type) @definition.field)))
((assignment left: (attribute object: (identifier) @_self attribute: (identifier) @name)) @definition.field
 (#eq? @_self "self"))

(call function: [
    (identifier) @name
    (attribute attribute: (identifier) @name)
  ]) @reference.call

(attribute attribute: (identifier) @name) @reference.attribute

(import_statement) @import
(import_from_statement) @import
