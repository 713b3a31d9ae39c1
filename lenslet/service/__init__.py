"""Running lenslet as a service: gunicorn's settings and hooks, the worker's supervisor, logs,
and memory handed back to the system.
"""
