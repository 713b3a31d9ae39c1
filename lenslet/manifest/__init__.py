"""Folder manifests: `_index.json` and its pages, what a folder listing serves.

`manifests.py` (pure: pages and entries), `folders.py` (served, rebuilt, patched through storage).
"""
