"""Every `undersigned` command's --help ends in examples an operator can copy as they are."""

from pathlib import Path

import pytest
from django.core.management import load_command_class

import undersigned
from undersigned.tlog import witness
from undersigned.tlog.verify import cli as verifier

PACKAGE = Path(undersigned.__file__).parent


def our_commands() -> list[tuple[str, str]]:
    """(app module, command name) of every management command in the project's apps."""
    found = [
        (f"undersigned.{path.parents[2].name}", path.stem)
        for path in PACKAGE.glob("*/management/commands/*.py")
        if not path.name.startswith("_")
    ]
    return sorted(found, key=lambda item: item[1])


def examples_in(help_text: str) -> list[str]:
    """The commands of the block after 'examples:', continuation lines joined."""
    lines = help_text.splitlines()
    assert "examples:" in lines, f"no 'examples:' block in:\n{help_text}"
    examples: list[str] = []
    continued = False
    for line in lines[lines.index("examples:") + 1 :]:
        if not line.strip():
            break
        if continued:
            examples[-1] += " " + line.strip()
        else:
            assert line.startswith("  "), f"an example line is not indented: {line!r}"
            examples.append(line.strip())
        continued = line.rstrip().endswith("\\")
    return examples


def test_the_commands_are_found() -> None:
    names = {name for _, name in our_commands()}
    # A few that have long existed: if these are missing, discovery is broken.
    assert {"serve", "worker", "backup", "import-register"} <= names


@pytest.mark.parametrize(("app", "name"), our_commands(), ids=lambda value: str(value))
def test_help_has_examples(app: str, name: str) -> None:
    command = load_command_class(app, name)
    text = command.create_parser("undersigned", name).format_help()
    examples = examples_in(text)
    assert examples, f"{name}: the examples block is empty"
    for example in examples:
        assert example.startswith("undersigned "), f"{name}: {example!r}"
    assert any(example.startswith(f"undersigned {name}") for example in examples), name


def test_verify_help_has_examples() -> None:
    examples = examples_in(verifier._parser().format_help())
    assert examples and all(e.startswith("undersigned verify ") for e in examples)


def test_witness_help_has_examples() -> None:
    parser = witness._parser()
    examples = examples_in(parser.format_help())
    assert {e.split()[2] for e in examples} == {"keygen", "add-log", "serve"}
    assert all(e.startswith("undersigned witness ") for e in examples)
    # Each subcommand's own --help has its example too.
    subcommands = next(a for a in parser._actions if a.dest == "command")
    for name, sub in subcommands.choices.items():
        sub_examples = examples_in(sub.format_help())
        assert sub_examples and all(
            e.startswith(f"undersigned witness {name} ") for e in sub_examples
        ), name
