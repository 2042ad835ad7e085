"""Offline tools (`python -m bot`, the Makefile): model lifecycle, evaluation, red teams,
content validation and translations, and the supervisor that starts the two servers."""
