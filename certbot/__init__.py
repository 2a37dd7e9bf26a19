"""The bot's own code, around Rasa.

NLU components named in config.yml, the channels of credentials.yml and their request
handling, the stores of endpoints.yml, installed fixes and speed-ups of Rasa internals,
and offline tools (spaCy pipeline build, CLINC150 data, evaluation).
"""
