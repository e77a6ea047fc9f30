"""Release decisions: repeated-trial statistics, segments, baselines and comparisons, result files,
shards. Computations over `RunMetrics` and saved results; nothing here runs an agent or prints."""
