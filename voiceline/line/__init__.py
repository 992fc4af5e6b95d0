"""The caller's side: what a caller hears, the message taken, the incident opened, the spool."""
