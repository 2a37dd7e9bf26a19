"""Custom actions of the certification bot, run by the action server (`python -m rasa_sdk`)."""
