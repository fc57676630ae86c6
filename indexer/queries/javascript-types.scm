; What a name's type is, for ranking the members of `x.` (typed receivers): @var has type @type. Read with
; js-values.scm (constructed values, destructured names, value chains). JavaScript has no type annotations: this adds
; a class field `c = new Client()` and a getter returning one value (its chain, or the class it constructs).

(field_definition
  property: (property_identifier) @var
  value: (new_expression constructor: [(identifier) (member_expression)] @type))

; get cache() { return this.client.cache; }
(method_definition "get" name: (property_identifier) @var
  body: (statement_block . (return_statement
                              [(member_expression) (call_expression function: [(identifier) (member_expression)])] @value) .))
(method_definition "get" name: (property_identifier) @var
  body: (statement_block . (return_statement
                              (new_expression constructor: [(identifier) (member_expression)] @type)) .))

; xs.forEach((x) => ...), xs.map((x, i) => ...): the callback's first parameter is an element (see js-values.scm)
(call_expression
  function: (member_expression
              object: [(identifier) (member_expression) (call_expression function: [(identifier) (member_expression)])] @elem
              property: (property_identifier) @_each)
  arguments: (arguments . (arrow_function parameters: (formal_parameters . (identifier) @var)))
  (#match? @_each "^(forEach|map|flatMap|filter|find|findLast|some|every|findIndex|findLastIndex)$"))
