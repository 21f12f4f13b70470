"""Everything that touches the file system: the layout of a root, atomic file I/O, the
write lock and the per-model index.  Nothing here knows what a model is; a future
backend (a shared mount whose lock may lie, object storage) is a new module here."""
