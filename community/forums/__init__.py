"""Forums: categories, threads, posts, reactions and read state."""
