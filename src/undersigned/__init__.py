"""Undersigned: petitions and open letters with verified signatures and a checkable tally."""
