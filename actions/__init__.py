"""Rasa custom actions: thin wrappers that read the tracker and call into `bot/`."""
