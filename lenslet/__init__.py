"""A file-based image gallery backend with no database."""

__version__ = "0.5.15"
