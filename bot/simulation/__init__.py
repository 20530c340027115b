"""The outcome simulator behind `parley simulate`: what a policy recovers, what it costs debtors.

A documented population of debtors (:mod:`~bot.simulation.assumptions`,
:mod:`~bot.simulation.population`) negotiates through the same ``bot.negotiation``
functions the bot's actions call (:mod:`~bot.simulation.parley`), and through three simpler
baselines (:mod:`~bot.simulation.baselines`), answering as the debtor model says
(:mod:`~bot.simulation.debtor`). :mod:`~bot.simulation.outcomes` adds up the results and
:mod:`~bot.simulation.report` writes them; :mod:`~bot.simulation.through_bot` does the same
against a served model over the REST channel. Imports only ``bot.negotiation`` and
``bot.settings`` from the application.
"""

from bot.simulation.assumptions import Assumptions, assumptions_from_dict, load_assumptions
from bot.simulation.command import simulate_command
from bot.simulation.errors import AssumptionsError, BotRunError, SimulationError
from bot.simulation.outcomes import Outcomes, breaks_affordability
from bot.simulation.population import Debtor, generate_population
from bot.simulation.results import Negotiated, Status
from bot.simulation.runner import Simulation, simulate

__all__ = [
    "Assumptions",
    "AssumptionsError",
    "BotRunError",
    "Debtor",
    "Negotiated",
    "Outcomes",
    "Simulation",
    "SimulationError",
    "Status",
    "assumptions_from_dict",
    "breaks_affordability",
    "generate_population",
    "load_assumptions",
    "simulate",
    "simulate_command",
]
