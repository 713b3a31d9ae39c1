"""Search: the rollup of every folder's listing and the index built from it.

`index.py` (pure: the index and its rules), `columns.py` (pure: sort and filter columns), `rollup.py`
(`_rollup.json`, the kept index, the edit journal), `searcher.py` (search in a web process).
"""
