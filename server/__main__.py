"""`python -m ragls.server`: run the language server on stdio."""
from .cli import main

raise SystemExit(main(["serve"]))
