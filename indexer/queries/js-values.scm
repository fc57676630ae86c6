; What JavaScript and TypeScript alike give a name's type from a value (see javascript-types.scm and
; typescript-types.scm, read with this file): @var has type @type, or the chain of a value (@value), or a property of a
; value (@from, @prop).

; const c = new Context(), const c = new ns.Context<T>()
(variable_declarator
  name: (identifier) @var
  value: (new_expression constructor: [(identifier) (member_expression)] @type))

; this.cache = new ApolloCache() (in a constructor or method)
(assignment_expression
  left: (member_expression object: (this) property: (property_identifier) @var)
  right: (new_expression constructor: [(identifier) (member_expression)] @type))

; const { policies, cache: c } = this.cache: a name destructured from a value (@from) has its property's type (the
; property is @prop where it is renamed, else the name)
(variable_declarator
  name: (object_pattern [(shorthand_property_identifier_pattern) @var
                         (object_assignment_pattern left: (shorthand_property_identifier_pattern) @var)])
  value: [(identifier) (member_expression) (call_expression function: [(identifier) (member_expression)])] @from)
(variable_declarator
  name: (object_pattern (pair_pattern key: (property_identifier) @prop value: (identifier) @var))
  value: [(identifier) (member_expression) (call_expression function: [(identifier) (member_expression)])] @from)

; const x = f(), const x = a.b.f(), const x = a.b: a value whose type the index knows (a declared result, a field's
; type, a getter's returned chain)
(variable_declarator name: (identifier) @var
  value: [(call_expression function: [(identifier) (member_expression)]) (member_expression)] @value)
; const x = await f(): what the promise resolves to (a declared `Promise<X>` reads as X)
(variable_declarator name: (identifier) @var
  value: (await_expression [(call_expression function: [(identifier) (member_expression)]) (member_expression)] @value))

; const c = opts.cache ?? new Cache(), a || f(), ready ? a.b : new B(): a value that is one of two has either's type
; (a use may mean the member of either; the fallback, read last, is the name's type elsewhere). A bare name is left
; out, as in `const x = y`: it may be a class, not an instance of it.
(variable_declarator name: (identifier) @var
  value: (binary_expression
           left: [(call_expression function: [(identifier) (member_expression)]) (member_expression)] @value
           operator: ["??" "||"]))
(variable_declarator name: (identifier) @var
  value: (binary_expression left: (new_expression constructor: [(identifier) (member_expression)] @type)
           operator: ["??" "||"]))
(variable_declarator name: (identifier) @var
  value: (ternary_expression
           consequence: [(call_expression function: [(identifier) (member_expression)]) (member_expression)] @value))
(variable_declarator name: (identifier) @var
  value: (ternary_expression consequence: (new_expression constructor: [(identifier) (member_expression)] @type)))
(variable_declarator name: (identifier) @var
  value: (binary_expression operator: ["??" "||"]
           right: [(call_expression function: [(identifier) (member_expression)]) (member_expression)] @value))
(variable_declarator name: (identifier) @var
  value: (binary_expression operator: ["??" "||"]
           right: (new_expression constructor: [(identifier) (member_expression)] @type)))
(variable_declarator name: (identifier) @var
  value: (ternary_expression
           alternative: [(call_expression function: [(identifier) (member_expression)]) (member_expression)] @value))
(variable_declarator name: (identifier) @var
  value: (ternary_expression alternative: (new_expression constructor: [(identifier) (member_expression)] @type)))

; xs.forEach(x => ...), xs.map(x => ...): a callback's parameter is an element of what the method is called on
; (the parameter in parentheses: javascript-types.scm and typescript-types.scm, whose grammars differ there)
(call_expression
  function: (member_expression
              object: [(identifier) (member_expression) (call_expression function: [(identifier) (member_expression)])] @elem
              property: (property_identifier) @_each)
  arguments: (arguments . (arrow_function parameter: (identifier) @var))
  (#match? @_each "^(forEach|map|flatMap|filter|find|findLast|some|every|findIndex|findLastIndex)$"))

; if (e instanceof HTTPError) ...: the name has that class's type from there on (a narrowing; the lines after the
; block read it too, as they read any later declaration)
(binary_expression
  left: (identifier) @var
  operator: "instanceof"
  right: [(identifier) (member_expression)] @type)
