"""The background worker, the top of the house: a runner for the queue's jobs (`runner.py`),
a scanner that notices change (`scanner.py`), metadata that follows images other programs
moved (`reattach.py`), and the Worker process that runs them (`process.py`).

Nothing below imports from here: web processes hand work to the worker through
`lenslet/jobs.py`, the queue kept in storage.
"""
