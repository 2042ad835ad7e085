"""The Rasa server process (`python -m bot.rasa_server`): channels, NLU components, stores.

Everything that runs inside Rasa: the web and WhatsApp channels, our NLU pipeline
components, the tracker and lock stores, and the per-message graph runner. Rasa loads
these by the import paths in config.yml, endpoints.yml and credentials.yml.
"""
