"""alch: keep an Alpaca brokerage account at a target allocation, safely."""

__version__ = "0.1.0"
