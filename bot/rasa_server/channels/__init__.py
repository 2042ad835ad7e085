"""Rasa input channels of the clinic bot, one module per channel."""
