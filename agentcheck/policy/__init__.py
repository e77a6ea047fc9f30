"""The policy language: principals, scopes, tool rules, CEL conditions, flow rules, intent, spend caps.

Vocabulary-level on purpose (layer 0): the collect layer compiles a policy with it, the gateway's
per-run hook decides calls with it, the judge and the least-privilege report read its records. It
imports nothing above the shared vocabulary; the run it decides is reached through a small protocol
(`engine.RunView`), never by importing the runner.
"""
