"""The bot's own code, around Rasa.

- `serve`: the bot's entry point (`python -m certbot.serve run ...`), and `launch`: how
  the bot and its action server are started (command lines, endpoints, credentials).
- `nlu/`: components named in config.yml; `channels/`: the channels of credentials.yml
  and their request handling; `stores/`: the stores of endpoints.yml.
- `patches/`: fixes and speed-ups of Rasa internals, installed by the entry point.
- `tools/`: run by make, not by the bot (spaCy pipeline build, CLINC150 data, evaluation).
"""
