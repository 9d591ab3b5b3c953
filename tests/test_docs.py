"""The READMEs and docs point only at files a clone has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted(
    [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("*/README.md"), *ROOT.glob("servers/*/README.md")]
)
# a backticked repository path: a top-level folder of the repo, then a path with no placeholders or globs
REPO_PATH = re.compile(r"`((?:docs|manifests|bench|servers|host|shared|tests)/[\w./-]+?)/?`")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_points_only_at_files_in_the_repository(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    assert "../shared" not in text, f"{doc.name} points outside the repository (../shared)"
    named = [m for m in REPO_PATH.findall(text) if "node_modules" not in m]  # npm ci makes those
    missing = [m for m in named if not (ROOT / m).exists() and not (doc.parent / m).exists()]
    assert not missing, f"{doc.relative_to(ROOT)} names paths that do not exist: {missing}"


def test_license_is_in_the_repository_and_declared_by_every_package() -> None:
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("Apache License")
    for pyproject in [ROOT / "shared", ROOT / "host", *sorted((ROOT / "servers").iterdir())]:
        assert 'license = "Apache-2.0"' in (pyproject / "pyproject.toml").read_text(encoding="utf-8"), pyproject
