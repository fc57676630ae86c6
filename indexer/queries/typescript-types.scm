; What a name's type is, for ranking the members of `x.` (typed receivers): @var has type @type. Read with
; js-values.scm (constructed values, destructured names, value chains).
; TypeScript and TSX (one file for both grammars: TSX has no `<T>x` assertion, so neither is read). Covers annotated
; parameters (optional ones, and constructor parameter properties, which are `this.x` too), annotated variables,
; class fields (annotated, or initialised with `new T()`), getters (their return type, else what they return), and
; `x as T` / `x satisfies T`. @type is the whole type: the reader keeps
; its leading name (`Context<Env>` -> Context, `ns.Type` -> ns.Type) and drops `| undefined` / `| null`.

; function f(c: Context), (c?: Context) => ..., constructor(private readonly c: Context)
(required_parameter pattern: (identifier) @var type: (type_annotation (_) @type))
(optional_parameter pattern: (identifier) @var type: (type_annotation (_) @type))

; ({ client, cache = fallback }: { client: ApolloClient; cache?: Cache }) => ...: a name destructured from a parameter
; whose type is written out as an object type has its property's type
(required_parameter
  pattern: (object_pattern [(shorthand_property_identifier_pattern) @var
                            (object_assignment_pattern left: (shorthand_property_identifier_pattern) @var)])
  type: (type_annotation (object_type (property_signature name: (property_identifier) @prop
                                                           type: (type_annotation (_) @type))))
  (#eq? @var @prop))

; const c: Context = ...
(variable_declarator name: (identifier) @var type: (type_annotation (_) @type))

; const c = x as Context, const c = x satisfies Context
(variable_declarator name: (identifier) @var value: (as_expression (_) [(type_identifier) (nested_type_identifier) (generic_type)] @type .))
(variable_declarator name: (identifier) @var value: (satisfies_expression (_) [(type_identifier) (nested_type_identifier) (generic_type)] @type .))

; class fields: `cache: ApolloCache`, `abstract cache: ApolloCache`, `cache = new ApolloCache()`
(public_field_definition name: (property_identifier) @var type: (type_annotation (_) @type))
(public_field_definition
  name: (property_identifier) @var
  value: (new_expression constructor: [(identifier) (member_expression)] @type))

; get cache(): ApolloCache { ... }: `this.cache` has the getter's declared type
(method_definition "get" name: (property_identifier) @var return_type: (type_annotation (_) @type))
; get cache() { return this.client.cache; }: a getter without a declared type whose body returns one value has its
; type (a value's chain, or the class it constructs)
(method_definition "get" name: (property_identifier) @var !return_type
  body: (statement_block . (return_statement
                              [(member_expression) (call_expression function: [(identifier) (member_expression)])] @value) .))
(method_definition "get" name: (property_identifier) @var !return_type
  body: (statement_block . (return_statement
                              (new_expression constructor: [(identifier) (member_expression)] @type)) .))
; `for (const x of xs)` / `const y = xs[0]` over a name or member annotated as an array (`xs: T[]`): an element
(for_in_statement left: (identifier) @var "of" right: [(identifier) (member_expression)] @elem)
(variable_declarator name: (identifier) @var value: (subscript_expression object: [(identifier) (member_expression)]) @value)

; xs.forEach((x) => ...), xs.map((x, i) => ...): the callback's first parameter is an element (see js-values.scm)
(call_expression
  function: (member_expression
              object: [(identifier) (member_expression) (call_expression function: [(identifier) (member_expression)])] @elem
              property: (property_identifier) @_each)
  arguments: (arguments . (arrow_function parameters: (formal_parameters . (required_parameter pattern: (identifier) @var !type))))
  (#match? @_each "^(forEach|map|flatMap|filter|find|findLast|some|every|findIndex|findLastIndex)$"))
