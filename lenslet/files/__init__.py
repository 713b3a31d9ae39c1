"""File management: upload, move, trash, restore, delete, folders, and `lenslet clean`."""
