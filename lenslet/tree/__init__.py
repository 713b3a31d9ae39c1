"""The browse tree and its pointer folders."""
