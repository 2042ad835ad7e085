"""The load benchmark: our bot against Rasa's stock `rasa init` configuration (`make bench`)."""
