"""The audit trail: who did what, when and why, to a petition or a signature.

Its own app, so that petitions, signing and abuse's intake can write to it
without importing moderation, which sits above them (moderation's review
views use signing). It names petitions and signatures, so it sits beside
them in the layering (.importlinter). The model keeps the table the
moderation app created, `moderation_auditevent`: it moved in Django's state
only, its rows never moved.
"""
