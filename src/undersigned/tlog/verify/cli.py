"""The command line: ``undersigned verify`` parses its arguments, draws progress, prints the result.

Also the verifier's front door for scripts and tests: the names in ``__all__``
are everything a caller needs, whichever module defines them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Final, NoReturn, TextIO

from undersigned.tlog.policy import Policy, PolicyError
from undersigned.tlog.verify.checks import verify
from undersigned.tlog.verify.errors import (
    EXIT_CONTENT,
    EXIT_COUNT,
    EXIT_FORK,
    EXIT_QUORUM,
    EXIT_ROLLBACK,
    EXIT_SIGNATURE,
    EXIT_USAGE,
    OK,
    VerifyError,
    reason,
)
from undersigned.tlog.verify.fetch import (
    DEFAULT_TIMEOUT,
    USER_AGENT,
    Fetcher,
    FetchError,
    HttpFetcher,
)
from undersigned.tlog.verify.receipt import ReceiptReport, check_receipt, policy_of_key
from undersigned.tlog.verify.report import PetitionReport, Report
from undersigned.tlog.verify.state import default_state_path

__all__ = [
    "EXIT_CONTENT",
    "EXIT_COUNT",
    "EXIT_FORK",
    "EXIT_QUORUM",
    "EXIT_ROLLBACK",
    "EXIT_SIGNATURE",
    "EXIT_USAGE",
    "OK",
    "FetchError",
    "Fetcher",
    "HttpFetcher",
    "PetitionReport",
    "ProgressLine",
    "ReceiptReport",
    "Report",
    "VerifyError",
    "check_receipt",
    "default_state_path",
    "main",
    "verify",
]

EXIT_CODES_HELP: Final = """\
exit codes:
  0  every check passed; the state file now records this checkpoint
  1  usage error, or a network or HTTP error (nothing concluded about the log)
  2  the checkpoint's signature or format is invalid, or its origin is not the key's name
  3  rollback: the log is smaller than a checkpoint accepted before
  4  fork: the log is not consistent with a checkpoint accepted before
  5  the log's entries or tiles do not match the signed checkpoint,
     or an entry is malformed or breaks the counting rules
  6  a petition's verified count in the API, or how many of them are on paper,
     differs from the log's
  7  the checkpoint (or receipt) lacks the witness quorum of the --policy:
     a split view is not excluded
"""

# Read when main() runs, so tests can shorten it.
RETRY_PAUSE = 2.0
MAX_POLICY_BYTES: Final = 1 << 20


class ProgressLine:
    """One line on a terminal, redrawn in place: stage, done/total, rate and ETA.

    Plain stdlib rather than rich (which the server's own commands use): the
    verifier promises to run on nothing but the standard library, cryptography
    and the pure tlog modules, so an auditor can read or copy it whole, and one line is all
    a run that fetches and hashes the log needs. It draws only when the stream is
    a terminal; piped, or under --json, stderr stays as it was.
    """

    INTERVAL: Final = 0.1  # seconds between redraws: a fast log would flood the terminal

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        enabled: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.clock = clock
        self._stage = ""
        self._started = 0.0
        self._drawn_at = 0.0
        self._width = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if stage != self._stage:
            self._stage, self._started, self._drawn_at = stage, now, 0.0
        elif done < total and now - self._drawn_at < self.INTERVAL:
            return
        self._drawn_at = now
        self._draw(self.line(stage, done, total, now - self._started))

    @staticmethod
    def line(stage: str, done: int, total: int, elapsed: float) -> str:
        text = f"verify: {stage} {done:,}/{total:,}"
        if total:
            text += f" ({100 * done // total}%)"
        if elapsed > 0 and done:
            rate = done / elapsed
            text += f", {rate:,.0f}/s"
            if done < total:
                text += f", ETA {_duration((total - done) / rate)}"
        return text

    def _draw(self, text: str) -> None:
        # A line wider than the terminal wraps, and \r would then redraw only its tail.
        width = max(20, shutil.get_terminal_size((80, 24)).columns - 1)
        text = text[:width]
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = len(text)

    def clear(self) -> None:
        """Erase the line, so that what is printed next starts on a clean one."""
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


# ---------------------------------------------------------------- command line

_DESCRIPTION = """\
Check a site's public log of signatures without trusting the site: the
checkpoint's signature, every entry against the signed Merkle root, every
petition's verified count against the site's API, and that the log only ever
grew since the last time you checked it (the last accepted checkpoint is kept
in a state file).

Get the verifier key from somewhere other than the site you are checking
(it is also served at URL/log/key, but a site could lie about its own key).

With --policy (a c2sp.org/tlog-policy file: the log's key, the witnesses you
trust and how many must cosign), a checkpoint is accepted only with that quorum
of witness cosignatures, and the witnesses that signed are reported. Without
it, nothing excludes a split view: the site could show you one history and
others another. Take the policy from somewhere other than the site (it serves
its own at URL/log/policy, to compare with).

--receipt checks a signer's .tlog-proof receipt offline, against the policy
alone: no URL, no network.

On a terminal, one line on standard error shows the progress and an ETA while
the log is fetched and hashed; piped, or with --json, only the result is printed.
"""

_EPILOG = (
    """\
examples:
  undersigned verify https://petitions.example.org/ \\
      --key 'petitions.example.org/log+1a2b3c4d+AR...'
  undersigned verify https://petitions.example.org/ --key @log.vkey --json
  undersigned verify https://petitions.example.org/ --key @log.vkey \\
      --no-api --state ./petitions-state.json
  undersigned verify https://petitions.example.org/ --policy ./petitions.policy
  undersigned verify --receipt receipt-12.tlog-proof --policy ./petitions.policy

"""
    + EXIT_CODES_HELP
)


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse would exit 2, which here means a bad signature.
        raise _UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="undersigned verify",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "url", metavar="URL", nargs="?", help="the site's base URL, e.g. https://host/"
    )
    parser.add_argument(
        "--key",
        metavar="VKEY",
        help="the log's verifier key (name+id+key), or @FILE to read it from FILE; "
        "optional with a --policy that names one log",
    )
    parser.add_argument(
        "--policy",
        metavar="FILE|URL",
        help="a c2sp.org/tlog-policy file (or its http(s) URL): refuse a checkpoint "
        "without its witness quorum",
    )
    parser.add_argument(
        "--receipt",
        metavar="FILE",
        help="check a .tlog-proof receipt offline against --policy (no URL needed)",
    )
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="where to remember the accepted checkpoint (default: "
        "$XDG_STATE_HOME/undersigned/verify-<origin>.json, or ~/.local/state/...)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='print one JSON object on stdout (on failure: {"ok": false, "exit": N, "error": ...})',
    )
    parser.add_argument(
        "--no-api", action="store_true", help="do not compare the counts with the site's API"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"timeout of each HTTP request (default {DEFAULT_TIMEOUT:g})",
    )
    return parser


def _read_key(value: str) -> str:
    if not value.startswith("@"):
        return value
    try:
        return Path(value[1:]).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise VerifyError(EXIT_USAGE, f"--key: cannot read {value[1:]}: {reason(exc)}") from None


def _read_policy(value: str, timeout: float) -> Policy:
    """Read a tlog-policy from a file (``FILE`` or ``@FILE``) or an http(s) URL."""
    source = value[1:] if value.startswith("@") else value
    try:
        if source.startswith(("http://", "https://")):
            request = urllib.request.Request(source, headers={"User-Agent": USER_AGENT})  # noqa: S310
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310
                data: bytes = response.read(MAX_POLICY_BYTES + 1)
        else:
            data = Path(source).read_bytes()
    except (OSError, ValueError) as exc:
        raise VerifyError(EXIT_USAGE, f"--policy: cannot read {source}: {reason(exc)}") from None
    if len(data) > MAX_POLICY_BYTES:
        raise VerifyError(EXIT_USAGE, f"--policy: {source} is larger than any policy")
    try:
        return Policy.parse(data)
    except PolicyError as exc:
        raise VerifyError(EXIT_USAGE, f"--policy: {source}: {exc}") from None


def _log_key(args: argparse.Namespace, policy: Policy | None) -> str:
    if args.key:
        return _read_key(args.key)
    if policy is not None and len(policy.logs) == 1:
        return policy.logs[0].vkey
    if policy is not None and policy.logs:
        raise _UsageError("the policy names several logs: say which with --key")
    raise _UsageError("--key is required (or a --policy that names the log)")


def _fail(
    code: int, message: str, as_json: bool, details: dict[str, object] | None = None
) -> int:
    print(f"verify: {message}", file=sys.stderr)
    if as_json:
        failure: dict[str, object] = {"ok": False, "exit": code, "error": message}
        if details is not None:
            failure["mismatch"] = details
        print(json.dumps(failure, ensure_ascii=False))
    return code


def main(argv: list[str]) -> int:
    """Run ``undersigned verify`` with ``argv`` (without the program name); return the exit code."""
    as_json = "--json" in argv
    try:
        args = _parser().parse_args(argv)
        as_json = bool(args.json)
        if args.timeout <= 0:
            raise _UsageError("--timeout must be positive")
        policy = _read_policy(args.policy, args.timeout) if args.policy else None
        if args.receipt:
            if args.url:
                raise _UsageError("--receipt is checked offline: give no URL")
            return _receipt(args, policy, as_json)
        if not args.url:
            raise _UsageError("the site's URL is required (or --receipt FILE)")
        try:
            fetcher = HttpFetcher(args.url, timeout=args.timeout)
        except ValueError as exc:
            raise _UsageError(str(exc)) from None
        key = _log_key(args, policy)
        line = ProgressLine(enabled=False if as_json else None)
        try:
            report = verify(
                fetcher,
                key,
                Path(args.state).expanduser() if args.state else None,
                check_api=not args.no_api,
                retry_pause=RETRY_PAUSE,
                progress=line,
                policy=policy,
            )
        finally:
            line.clear()  # before any message, which then starts on a clean line
    except _UsageError as exc:
        return _fail(EXIT_USAGE, f"{exc} (see --help)", as_json)
    except VerifyError as exc:
        return _fail(exc.code, exc.message, as_json, exc.details)
    except KeyboardInterrupt:
        print("verify: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback: say what broke, in one line
        return _fail(EXIT_USAGE, f"internal error: {type(exc).__name__}: {exc}", as_json)
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print(report.summary())
    return OK


def _receipt(args: argparse.Namespace, policy: Policy | None, as_json: bool) -> int:
    """``--receipt FILE``: check a .tlog-proof offline, against the policy (or bare --key)."""
    if policy is None:
        if not args.key:
            raise _UsageError("--receipt needs --policy (or at least the log's --key)")
        policy = policy_of_key(_read_key(args.key))
    try:
        data = Path(args.receipt).read_bytes()
    except OSError as exc:
        raise VerifyError(
            EXIT_USAGE, f"--receipt: cannot read {args.receipt}: {reason(exc)}"
        ) from None
    report = check_receipt(data, policy)
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print(report.summary())
    return OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
