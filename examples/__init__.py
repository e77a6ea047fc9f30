"""Example agents for the example suite in scenarios/."""
