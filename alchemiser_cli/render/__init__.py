"""Renderers for people: rich tables and the live progress view (JSON forms: documents/)."""
