"""``undersigned verify``: check a site's public log without trusting the site.

The verifier needs only the log's verifier key, obtained from somewhere other
than the site itself. It then:

1. fetches ``log/checkpoint`` and checks its signature with the key, and that
   its origin is the key's name;
2. fetches every entry bundle and every hash tile the checkpoint commits to,
   checks each entry's leaf hash against the tiles (which are themselves
   checked against the signed root) and recomputes the root from the entries;
3. recomputes each petition's verified count from the entries, and how many
   of them were entered from paper sheets (``"channel": "paper"``);
4. unless told not to, compares those counts with ``api/petitions/<slug>``,
   and checks that no petition listed at ``api/petitions`` shows verified
   signatures the log does not have. An answer that names its ``log_size``
   is compared exactly: its ``log_verified_count`` with the count the
   entries below that size give, and its ``log_paper_count`` (when it has
   one) with how many of them are on paper, with no race against the live
   count (a size beyond the checkpoint fetched means a newer one was signed:
   it is fetched again). Without ``log_size`` (older servers), ``verified_count``
   is compared with the whole checkpoint, retrying a few times, since the
   live count can move while the run lasts;
5. compares the checkpoint with the one accepted on the previous run, kept in
   a state file: a smaller log is a rollback, and a larger one must come with a
   valid consistency proof. Only when every check passes is the new checkpoint
   written to the state file;
6. with ``--policy`` (a c2sp.org/tlog-policy file or URL), requires the
   policy's quorum of witness cosignatures on the checkpoint (re-fetching it
   a few times, since witnesses cosign a checkpoint after it is published)
   and reports which witnesses signed; a cosignature from a witness of the
   policy that does not verify rejects the checkpoint. Without ``--policy``
   it says plainly that a split view (another history shown to other
   readers) is not excluded.

``--receipt FILE`` instead checks a signer's ``.tlog-proof`` receipt
(c2sp.org/tlog-proof) offline, with nothing but the file and the policy
(:mod:`~.receipt`).

Exit codes (``cli.main``; :class:`~.errors.VerifyError` carries the same numbers):

====  ====================================================================
0     every check passed; the state file now records this checkpoint
1     usage error, or a network or HTTP error (nothing concluded about the log)
2     the checkpoint's signature or format is invalid, or its origin is not
      the key's name
3     rollback: the log is smaller than a checkpoint accepted before
4     fork: the log is not consistent with a checkpoint accepted before
5     the log's entries or tiles do not match the signed checkpoint, or an
      entry is malformed or breaks the counting rules
6     a petition's verified count in the API, or how many of them are on
      paper, differs from the log's
7     the checkpoint (or the receipt's) lacks the witness quorum of the
      ``--policy``: a split view is not excluded
====  ====================================================================

Dependencies: the standard library and ``cryptography`` (for Ed25519 and the
witnesses' ML-DSA-44, through :mod:`undersigned.tlog.note` and
:mod:`undersigned.tlog.cosignature`), nothing else. It builds on the other pure
modules of :mod:`undersigned.tlog` (``merkle``, ``note``, ``entries``,
``cosignature``, ``policy``, ``proof``), never
on Django or the server's code (the ``.importlinter`` contract and
``tests/ledger/test_verifier.py`` check it), so it runs anywhere the package
is installed, with no settings and no database. The format it checks is
specified in ``docs/log-format.md``.

One module per job:

* :mod:`~.fetch` gets the site's resources over HTTP(S) (transport only);
* :mod:`~.state` remembers the checkpoint accepted on the previous run;
* :mod:`~.checks` checks what was fetched, and :func:`~.checks.verify` runs
  every check; :mod:`~.report` is what a successful run returns;
* :mod:`~.receipt` checks a ``.tlog-proof`` receipt offline (``--receipt``);
* :mod:`~.cli` is ``undersigned verify``: arguments, progress line, output.
  Its ``__all__`` gathers the public names, for scripts.
* :mod:`~.errors` holds the exit codes and :class:`~.errors.VerifyError`.
"""
