"""cloudacct's terminal console (Textual) and command line."""
