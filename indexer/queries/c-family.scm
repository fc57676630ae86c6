; Definitions C and C++ write alike (indexer/lang/c.py adds this file to both languages' tags queries).

; Variables at file scope, in `#if` blocks too (`static const int kLevels = 7;`, `struct server srv;`, `extern int n;`);
; not a type's name, which is where a macro before the type (`API int (*f)(void);`) leaves the parser
(translation_unit
  (declaration type: (_) @type declarator: [
      (identifier) @name
      (array_declarator declarator: (identifier) @name)
      (pointer_declarator declarator: (identifier) @name)
      (init_declarator declarator: [(identifier) @name (array_declarator declarator: (identifier) @name)
                                    (pointer_declarator declarator: (identifier) @name)])]) @definition.variable
    (#not-match? @name "^(int|void|char|short|long|float|double|signed|unsigned|bool|_Bool|const|volatile|inline|[A-Za-z0-9_]+_t)$"))
(preproc_ifdef
  (declaration type: (_) @type declarator: [
      (identifier) @name
      (array_declarator declarator: (identifier) @name)
      (pointer_declarator declarator: (identifier) @name)
      (init_declarator declarator: [(identifier) @name (array_declarator declarator: (identifier) @name)
                                    (pointer_declarator declarator: (identifier) @name)])]) @definition.variable
    (#not-match? @name "^(int|void|char|short|long|float|double|signed|unsigned|bool|_Bool|const|volatile|inline|[A-Za-z0-9_]+_t)$"))
(preproc_if
  (declaration type: (_) @type declarator: [
      (identifier) @name
      (array_declarator declarator: (identifier) @name)
      (pointer_declarator declarator: (identifier) @name)
      (init_declarator declarator: [(identifier) @name (array_declarator declarator: (identifier) @name)
                                    (pointer_declarator declarator: (identifier) @name)])]) @definition.variable
    (#not-match? @name "^(int|void|char|short|long|float|double|signed|unsigned|bool|_Bool|const|volatile|inline|[A-Za-z0-9_]+_t)$"))
(preproc_else
  (declaration type: (_) @type declarator: [
      (identifier) @name
      (array_declarator declarator: (identifier) @name)
      (pointer_declarator declarator: (identifier) @name)
      (init_declarator declarator: [(identifier) @name (array_declarator declarator: (identifier) @name)
                                    (pointer_declarator declarator: (identifier) @name)])]) @definition.variable
    (#not-match? @name "^(int|void|char|short|long|float|double|signed|unsigned|bool|_Bool|const|volatile|inline|[A-Za-z0-9_]+_t)$"))
(preproc_elif
  (declaration type: (_) @type declarator: [
      (identifier) @name
      (array_declarator declarator: (identifier) @name)
      (pointer_declarator declarator: (identifier) @name)
      (init_declarator declarator: [(identifier) @name (array_declarator declarator: (identifier) @name)
                                    (pointer_declarator declarator: (identifier) @name)])]) @definition.variable
    (#not-match? @name "^(int|void|char|short|long|float|double|signed|unsigned|bool|_Bool|const|volatile|inline|[A-Za-z0-9_]+_t)$"))
; An enum's constants: named bare where the enum is visible (`graph.Graph` shows their enum).
(enumerator name: (identifier) @name) @definition.enumerator
