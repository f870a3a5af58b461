"""Forecasts from the model, and the model fitted to a recording (layer 2).

``gtcheck predict`` answers *how often, and for how long, does a read in region B miss a
write made in region A?* for a scenario, by Monte Carlo over the model's own delay
distributions (``visibility``, ``curves``, ``predict``), validated on the published
t-visibility figures of PBS (Bailis et al., VLDB 2012; ``pbs``). ``gtcheck fit`` goes the
other way: from a recorded history and the checker's per-read results to every link's
replication delay (interval-censored maximum likelihood, ``observations``, ``fitting``) and
a scenario whose workload mirrors the recording (``mirror``), then compares what the
recording measured with what the fitted scenario predicts and simulates (``compare``).

numpy and scipy are an optional extra (``pip install 'gtcheck[forecast]'``): the commands
check for them first (``deps.require``) and say how to install them. The model and the
checker never import this package. The method and its limits: docs/forecast.md.
"""
