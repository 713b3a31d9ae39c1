"""The background worker: a runner for the jobs of the queue (lenslet/jobs.py), a scanner
that notices change, and the Worker process that runs them (`process.py`).

Nothing below imports this package: web processes hand work over through lenslet/jobs.py.
"""
