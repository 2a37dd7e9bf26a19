"""Retraining: reviewed examples to training data, training jobs, evaluation gate, registry."""
