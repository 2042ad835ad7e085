"""The action server process (`python -m bot.action_server`): rasa_sdk serving `actions/`."""
