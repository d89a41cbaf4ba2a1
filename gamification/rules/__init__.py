"""Rules: which events earn how many points, for whom, how often."""
