"""Custom actions of the certification bot, run by `rasa run actions`."""
