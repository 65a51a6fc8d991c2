"""The symphony language: parser, strategy tree, indicators and evaluator (all pure)."""
