"""Pure data formats shared by the layers above: data in, data out, no I/O."""
