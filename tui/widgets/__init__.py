"""Reusable pieces of the console: safe text, field errors, the code verifier, sections."""
