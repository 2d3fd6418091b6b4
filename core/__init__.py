"""cloudacct's domain: every flow of SPEC.md as plain functions. Imports no Textual."""
