"""The .aez code format, bytes only (docs/FORMAT.md): the frame and its reader and writer (codefile), the
entropy coder (entropy), names tables (nametable), varints (varint), and folders of shards (shards)."""
