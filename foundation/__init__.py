"""What every layer stands on: the settings, the translated texts and the metrics. It imports
nothing else of the project's."""
