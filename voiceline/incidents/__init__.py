"""The incident record every area shares: the incident, its message and its event log."""
