"""The NLU components named in config.yml, and the sentence encoder they share."""
