"""Running lenslet as a service: gunicorn's settings and hooks, and the worker's supervisor."""
