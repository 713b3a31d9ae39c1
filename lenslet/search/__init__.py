"""Search: the rollup of every folder's manifest and the index built from it.

`words.py` (pure: the index and its rules), `rollup.py` (`_rollup.json`, the kept index, the
edit journal), `searcher.py` (search in a web process).
"""
