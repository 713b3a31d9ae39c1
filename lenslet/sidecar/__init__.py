"""Sidecars: the per-image metadata people write (tags, notes, star).

`sidecars.py` (pure: fields, merge, validation), `xmp.py` and `embedded.py` (pure: other photo
tools' metadata, in XMP sidecars and inside images), `items.py` (every read-change-write of a
sidecar, under the image's lock).
"""
