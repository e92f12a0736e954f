"""Photo in, faces and their emotions out: the pipeline and its parts, knowing nothing of HTTP or storage."""
