"""Broker adapters behind one protocol: the embedded simulator and Alpaca."""
