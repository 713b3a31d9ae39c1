"""Folder listings as stored: the `_index*.json` pages, with each folder's counts and covers."""
