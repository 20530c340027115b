"""The processes `parley serve` starts: Rasa and the action server, each with its guard."""
