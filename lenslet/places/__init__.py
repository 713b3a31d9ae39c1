"""Place names offline: the places table and a position's place (`table.py`), a typed name's (`suggest.py`)."""
