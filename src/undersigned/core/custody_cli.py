"""`undersigned custody`: the moderators' side of a custody key, on their own machine.

It needs no site, settings or database: only an export file downloaded from
the site and the key file, which never goes to the server. Uses the standard
library, pyrage (through core/custody.py) and, for bars on a terminal, rich.
"""

import argparse
import base64
import csv
import getpass
import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from undersigned.core import custody
from undersigned.core.progress import progress
from undersigned.core.spreadsheet import spreadsheet_cell

EXPORT_FORMAT = custody.EXPORT_FORMAT
PASSPHRASE_ENV = "UNDERSIGNED_CUSTODY_PASSPHRASE"  # noqa: S105  # nosec B105 - a variable's name
COLUMNS = [
    "signature",
    "state",
    "petition",
    "full_name",
    "email",
    "role",
    "evidence_url",
    "register_entry",
    "register_municipality",
    "sealed_at",
]

EXAMPLES = """examples:
  undersigned custody keygen --out ~/custody/deputies-letter.age
  undersigned custody sheet ~/custody/deputies-letter.age | lp
  undersigned custody open deputies-custody.jsonl --key ~/custody/deputies.age --out list.csv
  undersigned custody open deputies-letter-custody.jsonl --key KEYFILE --json"""


class Refusal(Exception):
    """Stop with this message; nothing was written."""


def _passphrase(args: argparse.Namespace, *, twice: bool) -> str:
    if args.passphrase_file:
        try:
            return Path(args.passphrase_file).read_text().strip("\n")
        except OSError as exc:
            raise Refusal(f"cannot read the passphrase file: {exc.strerror}") from None
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    if not sys.stdin.isatty():
        raise Refusal(
            f"no terminal to ask the passphrase on: use --passphrase-file or {PASSPHRASE_ENV}"
        )
    first = getpass.getpass("Passphrase for the custody key: ")
    if twice and getpass.getpass("The same passphrase again: ") != first:
        raise Refusal("the two passphrases differ")
    return first


def _read_key(path: str, args: argparse.Namespace) -> str:
    try:
        locked = Path(path).read_text()
    except OSError as exc:
        raise Refusal(f"cannot read the key file {path}: {exc.strerror}") from None
    return custody.unlock_identity(locked, _passphrase(args, twice=False))


def keygen(args: argparse.Namespace) -> dict[str, Any]:
    out = Path(args.out).expanduser()
    if out.exists():
        raise Refusal(f"{out} exists; a custody key is never overwritten")
    identity, recipient = custody.new_identity()
    locked = custody.lock_identity(identity, _passphrase(args, twice=True))
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(locked)
    return {"ok": True, "key_file": str(out), "recipient": recipient}


def sheet(args: argparse.Namespace) -> str:
    identity = _read_key(args.key_file, args)
    recipient = custody.recipient_of(identity)
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    return "\n".join(
        [
            "UNDERSIGNED CUSTODY KEY — RECOVERY SHEET",
            "",
            f"Printed {today}. Whoever holds this sheet can open every identity sealed",
            "to this key. Keep it where you keep the key file's passphrase: not with the",
            "server, not in the same bag as the laptop with the key file.",
            "",
            "Public key (the site has it):",
            f"  {recipient}",
            "",
            "Private key (type it into a file to recover it; each sealed value is an",
            "age file, so `age -d -i FILE` opens one too):",
            f"  {identity}",
            "",
            "To lock a recovered key with a new passphrase:",
            "  age -p -a -o custody.age recovered.txt   (then destroy recovered.txt)",
            "",
        ]
    )


def _export_rows(path: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line for line in f if line.strip()]
    except OSError as exc:
        raise Refusal(f"cannot read the export {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise Refusal(f"{path} is not a custody export (not UTF-8 text)") from None
    try:
        records = [json.loads(line) for line in lines]
    except json.JSONDecodeError as exc:
        raise Refusal(f"{path} is not a custody export (line {exc.lineno}: not JSON)") from None
    if not records or not isinstance(records[0], dict) or records[0].get("format") != EXPORT_FORMAT:
        raise Refusal(f"{path} is not a custody export (it must start with {EXPORT_FORMAT})")
    rows = [r for r in records[1:] if isinstance(r, dict) and isinstance(r.get("box"), str)]
    if len(rows) != len(records) - 1:
        raise Refusal(f"{path} has lines that are not sealed values")
    return records[0], rows


def _neutral(value: Any) -> str:
    # A spreadsheet must not run a name as a formula: the exports' rule.
    return spreadsheet_cell("" if value is None else str(value))


def _opened(identity: str, rows: list[dict[str, Any]]) -> Iterator[dict[str, Any] | None]:
    for row in rows:
        try:
            box = custody.open_sealed(identity, base64.b64decode(row["box"], validate=True))
        except (custody.CustodyError, ValueError):
            yield None
            continue
        entry = box.get("register_entry") or {}
        yield {
            "signature": row.get("signature", box.get("signature")),
            "state": row.get("state", box.get("state")),
            "petition": box.get("petition", ""),
            "full_name": box.get("full_name", ""),
            "email": box.get("email", ""),
            "role": box.get("role", ""),
            "evidence_url": box.get("evidence_url", ""),
            "register_entry": entry.get("full_name", ""),
            "register_municipality": entry.get("municipality", ""),
            "sealed_at": box.get("sealed_at", ""),
        }


def open_export(args: argparse.Namespace, out: TextIO) -> dict[str, Any]:
    header, rows = _export_rows(args.export)
    identity = _read_key(args.key, args)
    if header.get("recipient") and header["recipient"] != custody.recipient_of(identity):
        raise Refusal(
            "this export was sealed to another custody key "
            f"({header['recipient'][:16]}…), not the one in {args.key}"
        )
    opened: list[dict[str, Any]] = []
    failed = 0
    with progress(enabled=False if args.json else None) as report:
        for done, found in enumerate(_opened(identity, rows), 1):
            if found is None:
                failed += 1
            else:
                opened.append(found)
            if done % 100 == 0 or done == len(rows):
                report("Opening sealed identities", done, len(rows))
    if args.json:
        return {
            "ok": failed == 0,
            "petition": header.get("petition", ""),
            "opened": len(opened),
            "failed": failed,
            "rows": opened,
        }
    target = open(args.out, "w", newline="", encoding="utf-8") if args.out else out
    try:
        writer = csv.DictWriter(target, COLUMNS)
        writer.writeheader()
        for found in opened:
            writer.writerow({k: _neutral(v) for k, v in found.items()})
    finally:
        if target is not out:
            target.close()
    return {"ok": failed == 0, "opened": len(opened), "failed": failed}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="undersigned custody",
        description=(
            "Generate and use a petition's custody key on your own machine. The site only "
            "ever gets the public half; what it sealed, you open here from an export file."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = top.add_subparsers(dest="command", required=True)
    for name, text in (
        ("keygen", "make a new key pair: the locked private half goes to --out"),
        ("sheet", "print a recovery sheet of a key file (the private key in clear: print it)"),
        ("open", "open the sealed identities of a custody export with a key file"),
    ):
        cmd = sub.add_parser(
            name,
            help=text,
            description=text,
            epilog=EXAMPLES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        cmd.add_argument(
            "--passphrase-file", help=f"read the passphrase from a file (or set {PASSPHRASE_ENV})"
        )
        cmd.add_argument("--json", action="store_true", help="print the result as JSON")
        if name == "keygen":
            cmd.add_argument("--out", required=True, help="where to write the locked key file")
        elif name == "sheet":
            cmd.add_argument("key_file")
        else:
            cmd.add_argument("export", help="the custody export downloaded from the site")
            cmd.add_argument("--key", required=True, help="the locked key file")
            cmd.add_argument("--out", help="write the CSV here instead of standard output")
    return top


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "keygen":
            result = keygen(args)
            if not args.json:
                print(f"Wrote the locked private key to {result['key_file']}.")
                print("Keep it off the server.")
                print("Give the site this public key (it opens nothing):")
                print(result["recipient"])
        elif args.command == "sheet":
            text = sheet(args)
            result = {"ok": True, "sheet": text}
            if not args.json:
                print(text)
        else:
            result = open_export(args, sys.stdout)
            if not args.json:
                print(
                    f"Opened {result['opened']} sealed values"
                    + (f"; {result['failed']} could not be opened" if result["failed"] else ""),
                    file=sys.stderr,
                )
    except (Refusal, custody.CustodyError) as exc:
        if args.json:
            print(json.dumps({"ok": False, "error": str(exc)}))
        else:
            print(f"undersigned custody: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if result.get("ok") else 1
