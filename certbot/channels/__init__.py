"""The channels of credentials.yml (REST, widget, socket.io) and their request handling.

Input checks, rate limits, admission, failures as replies, conversation ids.
"""
