"""Shared code of the certification bot: spaCy pipeline, CLINC150 data, evaluation."""
