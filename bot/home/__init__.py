"""What the Home tab shows, read in a constant number of queries, and when to republish it."""
