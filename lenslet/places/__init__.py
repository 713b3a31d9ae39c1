"""Place names offline: the city or town, region and country nearest a GPS position, from a table shipped here
(`table.py`); the places a typed name suggests (`suggest.py`)."""
