; Python tags: definitions, references and imports.
(class_definition name: (identifier) @name) @definition.class

(function_definition name: (identifier) @name return_type: (type)? @type) @definition.function

(module (expression_statement (assignment left: (identifier) @name) @definition.constant))

(call function: [
    (identifier) @name
    (attribute attribute: (identifier) @name)
  ]) @reference.call

(attribute attribute: (identifier) @name) @reference.attribute

(import_statement) @import
(import_from_statement) @import
