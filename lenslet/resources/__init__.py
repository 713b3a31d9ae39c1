"""The Falcon resources: one module an endpoint, and the guard, bodies and HTTP helpers they share."""
