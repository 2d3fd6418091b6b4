"""Payment gateway and identity check: interfaces, and the sandboxes that are the default."""
