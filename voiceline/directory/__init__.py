"""The directory file: check it, load it into the database, dump it back."""
