"""Staff console: read the bot's conversations, correct what it misunderstood.

`python -m console` serves it; `console.app.create_app` builds it.
"""
