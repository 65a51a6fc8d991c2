"""Renderers: rich tables for people, JSON documents for pipes."""
