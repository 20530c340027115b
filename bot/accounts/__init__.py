"""Creditor accounts: validating imported rows before they reach storage."""
