"""Customers, their contacts and plans, business hours and what a plan entitles a caller to."""
