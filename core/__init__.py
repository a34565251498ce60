"""Shared plumbing: settings, database, clock, errors, templating, campaign configuration."""
