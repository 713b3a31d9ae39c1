"""Image decoding, thumbnails and previews."""
