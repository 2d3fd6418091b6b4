"""The SSH front end (F11): `cloudacct serve-ssh`. Imported only by that command."""
