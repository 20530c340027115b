"""The operator console (port 8000): transcripts with intent and emotion, the hand-off
queue, agreements, the trainers' inbox, a dashboard and a simulator.

Started by `parley serve` (`python -m bot.console`); see docs/operators.md. It sits on top
of bot.storage, bot.messaging and bot.transcripts; nothing below imports it.
"""
