"""Pixels: decoding, thumbnails and previews.

`decode.py` (Pillow: bytes in, data out), `raw.py` (pure: raw files' embedded previews),
`originals.py` (the stored images: probe, hash), `pool.py` (thumbnail processes),
`thumbs.py` (every `.thumbnail`), `previews.py` (the viewer's preview cache).
"""
