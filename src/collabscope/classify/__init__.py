"""Classification of papers by collaboration and the period-sliced indicators built on it."""
