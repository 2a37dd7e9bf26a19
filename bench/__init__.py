"""Load benchmark (`make bench`): our bot against a day-one `rasa init` bot, same load."""
