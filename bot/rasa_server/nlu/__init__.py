"""Rasa graph components of the clinic bot's NLU pipeline."""
