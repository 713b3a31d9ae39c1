"""The browse tree: pointer folders grafting other local or S3 trees.

`pointers.py` (pure: pointer files), `tree.py` (the Tree: pointers followed to their storage).
"""
