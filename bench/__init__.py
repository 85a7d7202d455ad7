"""Ally's benchmark suite: ``python -m bench [--quick] [--only NAME] [--backend ...]``.

Each benchmark prints one JSON object per line and the run writes the same lines to
``bench/results.json``. Synthetic databases are generated deterministically and cached under
``bench/.data/``; docs/benchmarks.md explains every figure.
"""
