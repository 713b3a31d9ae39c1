"""File management: upload, move, trash, restore, delete, folders, and `lenslet clean`.

`moves.py` (pure: names and move plans, the journal's shape), `operations.py` (the operations
and the move journal's recovery), `clean.py` (what lenslet made, found and removed).
"""
