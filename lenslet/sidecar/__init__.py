"""Sidecars as stored: `store.py`, every read-change-write of a sidecar under the image's lock, and
the reading of other photo tools' XMP sidecars. Their formats are in lenslet/formats/.
"""
