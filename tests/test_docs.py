"""The docs stay true to the code: every command and option of --help is in
docs/usage.md, and the README quick start works as written."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from erqi_search.cli import main

from .conftest import ROOT, SEEDS

USAGE = (ROOT / "docs" / "usage.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands(group, prefix=("erqi-search",)):
    for name, cmd in group.commands.items():
        yield prefix + (name,), cmd
        if isinstance(cmd, click.Group):
            yield from commands(cmd, prefix + (name,))


def test_every_command_and_option_is_documented():
    missing = []
    for path, cmd in commands(main):
        if not isinstance(cmd, click.Group) and " ".join(path) not in USAGE:
            missing.append(" ".join(path))
        for param in cmd.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("-") and f"`{opt}" not in USAGE and f"{opt}`" not in USAGE and opt != "--help":
                    missing.append(f"{' '.join(path)} {opt}")
    assert not missing


def quick_start_lines():
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", README, re.S).group(1)
    return [line.strip() for line in block.splitlines() if line.strip()]


def test_ci_runs_the_readme_test_command():
    lines = quick_start_lines()
    test_command = lines[-1]
    assert test_command == "python -m pytest"
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.rstrip().splitlines()[-1] == test_command


def test_quick_start_search_on_a_fresh_copy(tmp_path):
    """The quick start's search line, run in a fresh copy with no index, finds a 大气污染防治 passage."""
    search = next(line for line in quick_start_lines() if line.startswith("erqi-search search"))
    shutil.copytree(SEEDS, tmp_path / "seeds")
    exe = Path(sys.executable).parent / "erqi-search"
    proc = subprocess.run([str(exe)] + search.split()[1:], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env={"PATH": str(exe.parent), "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert "大气污染防治" in proc.stdout and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_quick_start_in_a_fresh_virtual_environment(tmp_path):
    """A newcomer's run: clone, fresh venv, the quick start's install and search lines."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    for path in (ROOT / "erqi_search", ROOT / "seeds", ROOT / "pyproject.toml", ROOT / "README.md"):
        target = clone / path.name  # the working tree as it is now, committed or not
        shutil.rmtree(target, ignore_errors=True) if target.is_dir() else None
        (shutil.copytree if path.is_dir() else shutil.copy)(path, target)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "-e", str(clone)],
                         capture_output=True, text=True, timeout=900)
    assert pip.returncode == 0, pip.stderr[-2000:]
    proc = subprocess.run([str(venv / "bin" / "erqi-search"), "search", "大气污染防治"], cwd=clone,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "大气污染防治" in proc.stdout
