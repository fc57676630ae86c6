"""Training and cross-validation of ragls's ranking weights (bench only; ragls ships the JSON they produce)."""
