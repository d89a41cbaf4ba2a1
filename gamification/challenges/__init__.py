"""Seasonal challenges run by brand staff: tasks, progress, completion rewards."""
