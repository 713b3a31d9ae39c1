"""Search: the rollup of every folder's listing and the index built from it."""
