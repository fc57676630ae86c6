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
