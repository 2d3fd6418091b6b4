"""The console's sections: one widget each, shown beside the navigation (tui/screens/console.py);
the order and labels are in registry.py."""
