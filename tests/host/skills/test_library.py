"""The skills library and the layer around it: the format (the Agent Skills reference validator), discovery with
overrides and trust, prerequisites, learning paths, metrics and proficiency, and the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import skills_ref
from k2_host.cli import main
from k2_host.skills import CATEGORIES, SkillRegistry, builtin_dir, check, load
from k2_host.skills.metrics import SkillMetrics
from k2_host.skills.registry import TrustStore
from k2_host.skills.runner import candidates

LIBRARY = builtin_dir()
FOLDERS = sorted(p for p in LIBRARY.iterdir() if (p / "SKILL.md").is_file())


def test_the_library_has_40_skills_and_5_in_each_of_the_8_categories() -> None:
    reg = SkillRegistry.discover(builtin=LIBRARY)
    assert not reg.problems, reg.problems
    assert len(reg) >= 40
    counts = reg.categories()
    assert set(counts) == set(CATEGORIES) and min(counts.values()) >= 5, counts
    assert len(FOLDERS) == len(reg)  # every folder is a valid skill


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_every_shipped_skill_passes_the_reference_validator_and_ours(folder: Path) -> None:
    assert skills_ref.validate(folder) == []
    assert check(folder) == []
    skill = load(folder)
    assert skill.category in CATEGORIES and skill.body().startswith("#")
    assert 40 <= len(skill.description) <= 1024
    if skill.offline == "script":  # the offline handler ships examples the suite runs (test_examples.py)
        assert (folder / "assets" / "examples.json").is_file()


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_every_shipped_skill_lists_requests_for_the_router(folder: Path) -> None:
    data = json.loads((folder / "assets" / "routing.json").read_text(encoding="utf-8"))
    assert set(data) == {"for", "not_for"}
    assert len(data["for"]) >= 5 and len(data["not_for"]) >= 2
    assert all(isinstance(q, str) and q.strip() for q in [*data["for"], *data["not_for"]])


def test_the_reference_command_line_validator_accepts_the_library() -> None:
    cli = Path(sys.executable).with_name("agentskills")
    for folder in FOLDERS:
        done = subprocess.run([str(cli), "validate", str(folder)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, (folder.name, done.stdout, done.stderr)


def write_skill(base: Path, name: str, description: str = "Does a thing. Use when asked.", **meta: str) -> Path:
    folder = base / name
    folder.mkdir(parents=True)
    extra = "".join(f'  {k}: "{v}"\n' for k, v in meta.items())
    head = f"---\nname: {name}\ndescription: {description}\n" + (f"metadata:\n{extra}" if extra else "")
    (folder / "SKILL.md").write_text(f"{head}---\n# {name}\nSteps.\n")
    return folder


def test_bad_folders_are_reported_with_what_is_wrong(tmp_path: Path) -> None:
    bad = write_skill(tmp_path, "Bad_Name")
    assert any("lowercase" in e for e in check(bad))
    wrong = write_skill(tmp_path, "wrong", category="cooking", offline="script", **{"requires-servers": "ftp"})
    errors = " ".join(check(wrong))
    assert "metadata.category is 'cooking'" in errors and "ftp" in errors and "metadata.script is missing" in errors
    other = write_skill(tmp_path, "other")
    (other / "SKILL.md").write_text("---\nname: other\n---\nno description\n")
    assert any("description" in e for e in check(other))
    reg = SkillRegistry.discover(builtin=tmp_path)
    assert len(reg) == 0 and len(reg.problems) == 3  # skipped, never fatal


def test_project_overrides_user_overrides_builtin_and_project_skills_wait_for_trust(tmp_path: Path) -> None:
    builtin, user, project = tmp_path / "b", tmp_path / "u", tmp_path / "proj"
    write_skill(builtin, "greet", "Built-in greeting. Use to greet.")
    write_skill(user, "greet", "User greeting. Use to greet.")
    folder = write_skill(project / ".agents" / "skills", "greet", "Project greeting. Use to greet.")
    write_skill(project / ".k2" / "skills", "extra", "Project extra. Use for extras.")
    trust = TrustStore(tmp_path / "state" / "trust.json")
    reg = SkillRegistry.discover(builtin=builtin, user_dir=user, project=project, trust=trust)
    assert reg.require("greet").description.startswith("User") and "extra" not in reg
    assert {s.name for s in reg.untrusted} == {"greet", "extra"}
    trust.trust(s.path for s in reg.untrusted)
    reg = SkillRegistry.discover(builtin=builtin, user_dir=user, project=project, trust=TrustStore(trust.path))
    assert reg.require("greet").description.startswith("Project") and reg.require("extra").source == "project"
    assert [s.source for s in reg.overridden] == ["builtin", "user"]
    (folder / "SKILL.md").write_text((folder / "SKILL.md").read_text() + "Now also run rm -rf.\n")  # changed
    reg = SkillRegistry.discover(builtin=builtin, user_dir=user, project=project, trust=TrustStore(trust.path))
    assert reg.require("greet").description.startswith("User") and [s.name for s in reg.untrusted] == ["greet"]
    assert (trust.path.stat().st_mode & 0o777) == 0o600


def test_prerequisites_are_ordered_and_what_is_missing_is_named(tmp_path: Path) -> None:
    write_skill(tmp_path, "basics", difficulty="easy")
    write_skill(tmp_path, "middle", difficulty="medium", prerequisites="basics", **{"requires-servers": "database"})
    write_skill(tmp_path, "top", difficulty="hard", prerequisites="middle basics", **{"requires-servers": "codeexec"})
    write_skill(tmp_path, "orphan", prerequisites="nowhere")
    reg = SkillRegistry.discover(builtin=tmp_path)
    assert [s.name for s in reg.order("top")] == ["basics", "middle", "top"]
    missing = reg.unmet(reg.require("top"), {"codeexec": True, "database": False})
    assert missing == ["the database server is not healthy (its circuit breaker is open; see `k2 servers`)"]
    assert reg.unmet(reg.require("top"), {"codeexec": True, "database": True}) == []
    assert "not configured" in reg.unmet(reg.require("middle"), {})[0]
    assert "'nowhere' (a prerequisite of orphan) is not installed" in reg.unmet(reg.require("orphan"), {})[0]
    assert any("unknown prerequisite" in p.error for p in reg.problems)
    with pytest.raises(ValueError, match="did you mean top"):
        reg.require("to")


def test_a_cycle_of_prerequisites_is_a_problem_not_a_hang(tmp_path: Path) -> None:
    write_skill(tmp_path, "a", prerequisites="b")
    write_skill(tmp_path, "b", prerequisites="a")
    reg = SkillRegistry.discover(builtin=tmp_path)
    assert any("cycle" in p.error for p in reg.problems)


def test_learning_paths_put_prerequisites_first_then_easier_skills() -> None:
    reg = SkillRegistry.discover(builtin=LIBRARY)
    rank = {"easy": 0, "medium": 1, "hard": 2, "expert": 3}
    for category in CATEGORIES:
        steps = reg.path(category)
        names = [s.name for s in steps]
        assert {s.name for s in reg.by_category(category)} <= set(names)
        for i, s in enumerate(steps):  # every prerequisite comes before the skill that needs it
            assert all(names.index(p) < i for p in s.prerequisites), (category, s.name)
        free = [s for s in steps if not s.prerequisites]
        assert [rank[s.difficulty] for s in free] == sorted(rank[s.difficulty] for s in free), category
    assert [s.name for s in reg.path(target="find-outliers")] == ["describe-numbers", "find-outliers"]


def test_metrics_give_a_posterior_proficiency_per_skill_and_difficulty(tmp_path: Path) -> None:
    m = SkillMetrics(tmp_path / "k2.sqlite")
    for ok in (True, True, True, False):
        m.record("convert-units", ok=ok, reason="" if ok else "bad_input", latency_ms=100, difficulty="easy")
    m.record("find-secrets", ok=False, reason="script_error", latency_ms=300, difficulty="medium")
    m.close()
    again = SkillMetrics(tmp_path / "k2.sqlite")  # persisted
    stats = again.stats()
    assert stats["convert-units"].runs == 4 and stats["convert-units"].reasons == {"bad_input": 1}
    assert stats["convert-units"].proficiency == pytest.approx(4 / 6)
    assert again.by_difficulty()["medium"]["proficiency"] == pytest.approx(1 / 3, abs=1e-3)
    again.close()


def test_files_named_in_a_request_are_found_and_urls_and_numbers_are_not() -> None:
    got = candidates(
        'profile `data/sales 2024.csv` and report.md, compare a.json with "b c.json" (see https://x.io/a.html) 3.14'
    )
    assert got == ["data/sales 2024.csv", "b c.json", "report.md", "a.json"]


def run_cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_cli_lists_shows_validates_and_gives_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = ["--state-dir", str(tmp_path / "state"), "--root", str(tmp_path)]
    code, out, _ = run_cli(*state, "--json", "skills", "list", "--category", "security", capsys=capsys)
    assert code == 0 and {s["category"] for s in json.loads(out)["skills"]} == {"security"}
    code, out, _ = run_cli(*state, "skills", "show", "find-outliers", capsys=capsys)
    assert code == 0 and "prerequisites: describe-numbers" in out
    code, out, _ = run_cli(*state, "skills", "path", "data-analysis", capsys=capsys)
    assert code == 0 and out.index("describe-numbers") < out.index("find-outliers")
    code, out, _ = run_cli(*state, "skills", "validate", str(LIBRARY), capsys=capsys)
    assert code == 0 and f"{len(FOLDERS)} of {len(FOLDERS)} valid" in out
    broken = tmp_path / "mine"
    shutil.copytree(LIBRARY / "convert-units", broken / "convert-units")
    (broken / "convert-units" / "SKILL.md").write_text("---\nname: Convert\n---\n")
    code, out, _ = run_cli(*state, "skills", "validate", str(broken), capsys=capsys)
    assert code == 1 and "0 of 1 valid" in out and "description" in out
    code, _, err = run_cli(*state, "skills", "show", "no-such", capsys=capsys)
    assert code == 2 and "there is no skill named 'no-such'" in err
