"""Folder listings as stored: `listings.py`, every `_index*.json` served, rebuilt and patched, with the
counts and covers of a folder. The pages' format is lenslet/formats/manifests.py.
"""
