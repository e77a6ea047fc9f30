"""Model traffic: a local OpenAI-compatible proxy, record/replay cassettes, scripted turns, cost.

Layer 2 (beside runner/ and agents/): every model request an agent makes goes through the proxy,
which answers from a script, a cassette or the real upstream, and records the call in the run's trace.
"""
