"""The public side: study search, study pages and the interest form, in English and Spanish."""
