; What a name's type is, for ranking the members of `x.` (typed receivers): @var has type @type.
; Covers annotated parameters and assignments, constructor calls of CapWords classes (PEP 8) assigned to a name or
; to `self.attr`, and `with Cls(...) as name`.
(typed_parameter (identifier) @var type: (type) @type)
(typed_default_parameter name: (identifier) @var type: (type) @type)
(assignment left: (identifier) @var type: (type) @type)
(assignment left: (attribute object: (identifier) @_self attribute: (identifier) @var) type: (type) @type
  (#eq? @_self "self"))
((assignment left: (identifier) @var right: (call function: [(identifier) (attribute)] @type))
  (#match? @type "^([A-Za-z_][A-Za-z0-9_]*[.])*_*[A-Z]"))
((assignment left: (attribute object: (identifier) @_self attribute: (identifier) @var)
   right: (call function: [(identifier) (attribute)] @type))
  (#eq? @_self "self") (#match? @type "^([A-Za-z_][A-Za-z0-9_]*[.])*_*[A-Z]"))
((with_item value: (as_pattern (call function: [(identifier) (attribute)] @type)
   alias: (as_pattern_target (identifier) @var)))
  (#match? @type "^([A-Za-z_][A-Za-z0-9_]*[.])*_*[A-Z]"))
; `x = f()`, `x = obj.method()`, `x = a.b`: a value whose type the index knows (a function's return annotation)
((assignment left: (identifier) @var right: [
   (call function: [(identifier) (attribute)]) (attribute)] @value))
; `for x in xs` / `y = xs[0]` over a name or attribute annotated as a container (`xs: list[T]`): an element
((for_statement left: (identifier) @var right: [(identifier) (attribute)] @elem))
((assignment left: (identifier) @var right: (subscript value: [(identifier) (attribute)]) @value))
; `if isinstance(x, Matrix):` types x as Matrix from there on (a narrowing, as `instanceof` in JavaScript)
((call function: (identifier) @_isinstance
   arguments: (argument_list . (identifier) @var . [(identifier) (attribute)] @type .))
  (#eq? @_isinstance "isinstance") (#match? @type "^([A-Za-z_][A-Za-z0-9_]*[.])*_*[A-Z]"))
; `[x.name for x in items]`: a comprehension's variable is an element, as a loop's (read in a selection: at a cursor
; the clause comes after the text)
((for_in_clause left: (identifier) @var right: [(identifier) (attribute)] @elem))
; `for i, x in enumerate(xs)`, `for k, v in d.items()`, `for v in d.values()`: an element of the container (a
; mapping's elements are its values)
((for_statement left: (pattern_list . (identifier) . (identifier) @var .)
   right: (call function: (identifier) @_enumerate arguments: (argument_list . [(identifier) (attribute)] @elem)))
  (#eq? @_enumerate "enumerate"))
((for_statement left: (pattern_list . (identifier) . (identifier) @var .)
   right: (call function: (attribute object: [(identifier) (attribute)] @elem attribute: (identifier) @_items)))
  (#eq? @_items "items"))
((for_statement left: (identifier) @var
   right: (call function: (attribute object: [(identifier) (attribute)] @elem attribute: (identifier) @_values)))
  (#eq? @_values "values"))
; `x = a.cache or Cache()`, `x = f() if ready else Other()`: a value that is one of two has either's type (a use may
; mean the member of either; the fallback, read last, is the name's type elsewhere). A bare name is left out, as in
; `x = y`: it may be a class, not an instance of it.
((assignment left: (identifier) @var
   right: (boolean_operator left: [(call function: [(identifier) (attribute)]) (attribute)] @value operator: "or")))
((assignment left: (identifier) @var
   right: (conditional_expression . [(call function: [(identifier) (attribute)]) (attribute)] @value)))
((assignment left: (identifier) @var
   right: (boolean_operator operator: "or" right: [(call function: [(identifier) (attribute)]) (attribute)] @value)))
((assignment left: (identifier) @var
   right: (conditional_expression [(call function: [(identifier) (attribute)]) (attribute)] @value .)))
