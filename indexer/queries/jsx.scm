; JSX components (capitalised tags); intrinsic elements like <div> are not references.
(((jsx_opening_element name: (identifier) @name) @reference.class)
  (#match? @name "^[A-Z]"))

(((jsx_self_closing_element name: (identifier) @name) @reference.class)
  (#match? @name "^[A-Z]"))

[
  (jsx_opening_element name: (member_expression property: (property_identifier) @name))
  (jsx_self_closing_element name: (member_expression property: (property_identifier) @name))
] @reference.class
