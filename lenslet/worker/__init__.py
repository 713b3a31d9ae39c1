"""The background worker: a job queue kept in storage, a runner for its jobs, a scanner
that notices change, and the Worker process that runs them (`process.py`).

Web processes only ever import `queue` from here, to hand work to the worker.
"""
