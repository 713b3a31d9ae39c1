"""The background worker: queued jobs, the scanner and re-attachment."""
