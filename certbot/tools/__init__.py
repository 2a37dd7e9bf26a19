"""Tools run by make, not by the bot.

The spaCy pipeline's build, the CLINC150 data, the evaluation and its parse helper.
"""
