"""One module per screen of CONTRACT.md (Welcome, Log on, Sign up, Verify, the console)."""
