"""The benchmark runner: every performance figure Voiceline promises, measured end to end.

``python -m bench`` (``make bench``) builds scratch databases, starts the real processes
on loopback, measures each figure, prints one table and writes ``bench/results/<date>.json``.
``--size smoke`` runs the same code at tiny sizes, so CI keeps it working.
"""
