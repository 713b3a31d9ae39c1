"""Sidecars as stored, and other tools' XMP sidecars."""
