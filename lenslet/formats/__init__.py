"""Formats: pure modules, data in and data out, no I/O, shared by the floors above.

`sidecars.py` (a sidecar's fields, merge, validation), `xmp.py` and `embedded.py` (other photo tools'
metadata, in XMP sidecars and inside images), `manifests.py` (a folder listing's pages and entries),
`covers.py` (a folder's cover and counts), `query.py` (the query language of listings and search:
sorting, filtering, text folding).
"""
