"""Package data: the demo account and demo targets."""
