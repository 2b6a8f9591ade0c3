"""Alerts: routing, email, escalation and the digest."""
