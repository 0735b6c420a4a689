"""The log's pure code: tiles and proofs, signed notes, entry encoding, the verifier.

Nothing here imports Django or any other undersigned package (the
``.importlinter`` contract keeps it so): an auditor can read and run this
package with the standard library and ``cryptography`` alone, and the server's
Django apps (``undersigned.ledger`` and the rest) build on it, never the other
way round.
"""
