"""Test tooling shipped with the project (story runner, REST conversation helpers)."""
