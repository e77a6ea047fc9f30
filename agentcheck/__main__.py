"""`python -m agentcheck` is the same as the `agentcheck` command."""

from agentcheck.cli import main

main()
