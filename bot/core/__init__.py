"""What every process shares: languages, safety, regions, the answer store and replies.

Pure Python: nothing here imports Rasa or rasa_sdk, so the Rasa server, the action server,
the staff workbench and the offline tools all decide these facts the same way.
"""
