"""Audit dependency manifests and lockfiles for supply-chain hygiene (offline; no vulnerability database).

Usage:
    python3 scripts/audit_deps.py requirements.txt package-lock.json ... < request.txt

Reads requirements*.txt / constraints*.txt / *.in, pyproject.toml, poetry.lock, uv.lock, Pipfile.lock,
package.json and package-lock.json (lockfileVersion 1, 2 and 3), and reports:
  - unpinned dependencies and loose ranges (>=, ~=, ^, ~, *, latest, wildcards);
  - the same package at several versions (or declared twice with different specifiers);
  - VCS, URL/tarball and local-path sources, extra or plain-http package indexes, --trusted-host;
  - pre-release, dev and local versions, npm "0.0.1-security" placeholders (a package the registry removed);
  - lockfile entries without an integrity hash (or with only SHA-1), packages that run install scripts.
It has NO vulnerability database, so it cannot name CVEs or known-vulnerable versions; it says so in its output.

Exit 0 with a Markdown report; exit 2 when no file is a dependency file it knows.
"""

# The report prints typographic signs (multiplication, minus, en dash) on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import json
import re
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

SEVERITIES = ("high", "medium", "low", "info")
MAX_ROWS = 40
NPM_REGISTRY = "https://registry.npmjs.org/"
PYPI = ("https://pypi.org/simple", "https://files.pythonhosted.org/")
NPM_PRE = re.compile(r"^\d+\.\d+\.\d+-(?!security)[0-9A-Za-z.-]+")
COMMIT = re.compile(r"^[0-9a-f]{40}$")


class Refusal(Exception):
    """Nothing usable in the input; the message says what to give."""


class Report:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []  # severity, file, package, version/spec, issue
        self.files: list[tuple[str, str, int, str]] = []  # file, kind, packages, pinning summary
        self.notes: list[str] = []

    def add(self, severity: str, file: str, package: str, version: str, issue: str) -> None:
        self.rows.append((severity, file, package, version, issue))


def norm_py(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def py_prerelease(version: str) -> bool:
    v = version.lower()
    return bool(re.search(r"\d(?:a|b|c|rc|alpha|beta|pre|preview)\.?\d*(?:\.|$|\+)|\.?dev\d*(?:$|\+)", v))


def git_ref_issue(url: str) -> tuple[str, str]:
    """(severity, description) for a VCS source: a full commit hash is reproducible, a branch or tag is not."""
    ref = ""
    m = re.search(r"@([^@#/]+)(?:#|$)", url.split("://", 1)[-1]) or re.search(
        r"[#?](?:rev|ref|commit|tag|branch)?=?([\w./-]+)", url
    )
    if m:
        ref = m.group(1)
    if COMMIT.match(ref):
        return "low", f"VCS source pinned to commit {ref[:10]}… (not checked by a registry hash)"
    if ref:
        return "medium", f"VCS source at `{ref}` (a branch or tag can move; pin a full commit hash)"
    return "medium", "VCS source with no ref (follows the default branch)"


def url_issue(url: str) -> tuple[str, str]:
    if url.startswith("http://"):
        return "high", "downloaded over plain HTTP (can be swapped in transit)"
    return "medium", "direct URL/tarball source (outside the registry's metadata and yanking)"


# ------------------------------------------------------------------------------------------------ Python specs


def classify_py_spec(spec: str) -> str:
    """pinned | loose | unpinned for a PEP 440 specifier set (or a Poetry constraint)."""
    s = spec.replace(" ", "")
    if not s or s == "*":
        return "unpinned"
    parts = [p for p in s.split(",") if p]
    if any(p.startswith("===") or (p.startswith("==") and "*" not in p) for p in parts):
        return "pinned"
    if re.fullmatch(r"\d+(\.\d+)*", s):  # Poetry: a bare version means ==
        return "pinned"
    return "loose"


def audit_requirements(path: Path, text: str, rep: Report, seen: dict) -> None:
    name = path.name
    counts = {"pinned": 0, "loose": 0, "unpinned": 0, "other": 0}
    hashed = unhashed = 0
    logical: list[tuple[int, str]] = []
    buf, start = "", 0
    for no, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not buf:
            start = no
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        if buf.strip():
            logical.append((start, buf.strip()))
        buf = ""
    for no, line in logical:
        opt = re.match(
            r"^(-r|--requirement|-c|--constraint|-i|--index-url|--extra-index-url|--trusted-host|-f|--find-links"
            r"|-e|--editable|--pre|--no-index|--only-binary|--no-binary|--prefer-binary)(?:\s*=?\s*|\s+)(\S*)(.*)$",
            line,
        )
        if opt:
            flag, value = opt.group(1), opt.group(2)
            if flag in ("-r", "--requirement", "-c", "--constraint"):
                rep.notes.append(f"{name}:{no} includes `{value}`; pass that file too so it is audited.")
            elif flag in ("-i", "--index-url"):
                sev = "high" if value.startswith("http://") else "low"
                rep.add(
                    sev,
                    f"{name}:{no}",
                    "(index)",
                    value,
                    "replaces PyPI as the package index" + (" over plain HTTP" if sev == "high" else ""),
                )
            elif flag == "--extra-index-url":
                sev = "high" if value.startswith("http://") else "medium"
                rep.add(
                    sev,
                    f"{name}:{no}",
                    "(index)",
                    value,
                    "extra index: pip takes the highest version from ANY index, "
                    "so a public package with an internal name can win (dependency confusion)",
                )
            elif flag == "--trusted-host":
                rep.add(
                    "medium", f"{name}:{no}", "(index)", value, "`--trusted-host` turns off TLS checks for this host"
                )
            elif flag in ("-f", "--find-links"):
                sev = "high" if value.startswith("http://") else "low"
                rep.add(sev, f"{name}:{no}", "(links)", value, "extra place to find packages (`--find-links`)")
            elif flag == "--pre":
                rep.add("low", f"{name}:{no}", "(all)", "--pre", "pre-releases allowed for every package")
            elif flag in ("-e", "--editable"):
                counts["other"] += 1
                req_source(name, no, value, rep, editable=True)
            continue
        hashes = re.findall(r"--hash[=\s]+(\w+):", line)
        line_wo = re.sub(r"\s--hash[=\s]+\S+", "", line).strip()
        if hashes:
            hashed += 1
            if all(h in ("md5", "sha1") for h in hashes):
                rep.add("low", f"{name}:{no}", line_wo.split()[0], "", "only MD5/SHA-1 hashes")
        else:
            unhashed += 1
        req = line_wo.split(";", 1)[0].strip()
        at = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*@\s*(\S+)", req)
        if at:
            counts["other"] += 1
            record(seen, "py", norm_py(at.group(1)), f"@ {at.group(3)}", f"{name}:{no}", at.group(1))
            req_source(name, no, at.group(3), rep, pkg=at.group(1))
            continue
        if re.match(r"^(?:git\+|hg\+|svn\+|bzr\+|https?://|file:|\.{0,2}/|[A-Za-z]:\\)", req):
            counts["other"] += 1
            req_source(name, no, req, rep)
            continue
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$", req)
        if not m:
            rep.add("info", f"{name}:{no}", req[:40], "", "line not understood")
            continue
        pkg, spec = m.group(1), m.group(3).strip().strip("()")
        kind = classify_py_spec(spec)
        counts[kind] += 1
        record(seen, "py", norm_py(pkg), spec or "(any)", f"{name}:{no}", pkg)
        if kind == "unpinned":
            rep.add(
                "medium",
                f"{name}:{no}",
                pkg,
                "(any)",
                "not pinned: any version, including a future breaking or malicious release, can be installed",
            )
        elif kind == "loose":
            wild = "==" in spec and "*" in spec
            rep.add("low", f"{name}:{no}", pkg, spec, "wildcard pin" if wild else "range, not an exact pin")
            if not re.search(r"<|~|==|\^", spec):
                rep.rows[-1] = (
                    "medium",
                    f"{name}:{no}",
                    pkg,
                    spec,
                    "lower bound only: any newer major version can be installed",
                )
        for v in re.findall(r"(?:===?|~=|>=|<=|>|<|!=)\s*([\w.*+!-]+)", spec):
            if py_prerelease(v):
                rep.add("low", f"{name}:{no}", pkg, v, "pre-release version")
            if "+" in v:
                rep.add("info", f"{name}:{no}", pkg, v, "local version label (a build not from PyPI)")
    total = sum(counts.values())
    summary = f"{counts['pinned']} pinned, {counts['loose']} ranges, {counts['unpinned']} unpinned"
    if counts["other"]:
        summary += f", {counts['other']} direct sources"
    if hashed and unhashed:
        rep.add(
            "medium",
            name,
            "(file)",
            "",
            f"{hashed} line(s) have --hash and {unhashed} do not: pip's hash-checking mode refuses the whole file",
        )
    elif hashed:
        summary += "; all hashed"
    rep.files.append((name, "pip requirements", total, summary))


def req_source(file: str, no: int, src: str, rep: Report, pkg: str = "", editable: bool = False) -> None:
    egg = re.search(r"#egg=([\w.-]+)", src)
    pkg = pkg or (egg.group(1) if egg else src.rstrip("/").rsplit("/", 1)[-1].split("#")[0].split("@")[0][:40])
    where = f"{file}:{no}"
    if re.match(r"^(?:git|hg|svn|bzr)\+", src):
        sev, issue = git_ref_issue(src)
        if src.split("+", 1)[1].startswith("http://"):
            sev, issue = "high", issue + "; over plain HTTP"
        rep.add(sev, where, pkg, src, issue + ("; editable install" if editable else ""))
    elif src.startswith(("http://", "https://")):
        sev, issue = url_issue(src)
        has_hash = "#sha256=" in src or "#sha384=" in src or "#sha512=" in src
        rep.add(sev, where, pkg, src, issue + ("" if has_hash else "; no #sha256= fragment to check the download"))
    else:
        rep.add(
            "low",
            where,
            pkg,
            src,
            "local path" + (" (editable)" if editable else "") + ": builds only where that folder exists",
        )


def record(seen: dict, eco: str, key: str, version: str, where: str, display: str) -> None:
    seen[(eco, key)].append((version, where, display))


# ------------------------------------------------------------------------------------------------ pyproject / locks


def audit_pyproject(path: Path, text: str, rep: Report, seen: dict) -> None:
    data = tomllib.loads(text)
    lines: list[str] = []
    proj = data.get("project", {})
    lines += list(proj.get("dependencies", []))
    for group in proj.get("optional-dependencies", {}).values():
        lines += list(group)
    for group in data.get("dependency-groups", {}).values():
        lines += [g for g in group if isinstance(g, str)]
    poetry = data.get("tool", {}).get("poetry", {})
    poetry_deps = dict(poetry.get("dependencies", {}))
    for grp in poetry.get("group", {}).values():
        poetry_deps.update(grp.get("dependencies", {}))
    poetry_deps.update(poetry.get("dev-dependencies", {}))
    for pkg, spec in poetry_deps.items():
        if pkg.lower() == "python":
            continue
        if isinstance(spec, dict):
            if "git" in spec:
                ref = spec.get("rev") or spec.get("tag") or spec.get("branch") or ""
                lines.append(f"{pkg} @ git+{spec['git']}" + (f"@{ref}" if ref else ""))
            elif "url" in spec:
                lines.append(f"{pkg} @ {spec['url']}")
            elif "path" in spec:
                lines.append(f"{pkg} @ file:{spec['path']}")
            else:
                lines.append(f"{pkg} {poetry_spec(str(spec.get('version', '')))}")
        else:
            lines.append(f"{pkg} {poetry_spec(str(spec))}")
    if not lines:
        rep.files.append((path.name, "pyproject.toml", 0, "no dependencies declared"))
        return
    before = len(rep.files)
    audit_requirements(Path(path.name), "\n".join(lines), rep, seen)
    # line numbers of a synthesised list mean nothing: point at the file and the package instead
    rep.rows = [(s, f if not f.startswith(path.name + ":") else path.name, p, v, i) for s, f, p, v, i in rep.rows]
    for key, entries in seen.items():
        seen[key] = [(v, w if not w.startswith(path.name + ":") else path.name, d) for v, w, d in entries]
    name, _, total, summary = rep.files[before]
    rep.files[before] = (name, "pyproject.toml", total, summary)


def poetry_spec(spec: str) -> str:
    """A Poetry constraint for classification: a bare 1.2.3 means ==1.2.3; ^1.2, ~1.2 and 1.2.* stay as ranges."""
    s = spec.strip()
    if re.fullmatch(r"\d+(\.\d+)*", s):
        return "==" + s
    return s


def audit_poetry_lock(path: Path, text: str, rep: Report, seen: dict) -> None:
    data = tomllib.loads(text)
    pkgs = data.get("package", [])
    meta = data.get("metadata", {})
    no_hash = 0
    for p in pkgs:
        name, version = p.get("name", "?"), str(p.get("version", "?"))
        record(seen, "py", norm_py(name), version, path.name, name)
        src = p.get("source") or {}
        stype = src.get("type", "")
        if stype == "git":
            ref = src.get("resolved_reference") or src.get("reference") or ""
            sev, issue = git_ref_issue(f"{src.get('url', '')}@{ref}")
            if src.get("resolved_reference") and COMMIT.match(src["resolved_reference"]):
                sev, issue = "low", f"VCS source, locked to commit {src['resolved_reference'][:10]}…"
            rep.add(sev, path.name, name, version, issue + f" ({src.get('url', '')})")
        elif stype in ("url", "file"):
            sev, issue = url_issue(src.get("url", "")) if stype == "url" else ("low", "local file")
            rep.add(sev, path.name, name, version, issue)
        elif stype == "directory":
            rep.add("low", path.name, name, version, f"local path `{src.get('url', '')}`: builds only where it exists")
        elif stype == "legacy":
            url = src.get("url", "")
            sev = "high" if url.startswith("http://") else "low"
            rep.add(sev, path.name, name, version, f"from a secondary index `{url}`")
        if not stype and not p.get("files") and not meta.get("files", {}).get(name):
            no_hash += 1
        if py_prerelease(version):
            rep.add("low", path.name, name, version, "pre-release version locked")
    if no_hash:
        rep.add("medium", path.name, f"{no_hash} package(s)", "", "locked without file hashes")
    lv = meta.get("lock-version", "?")
    rep.files.append((path.name, f"poetry.lock (lock-version {lv})", len(pkgs), "versions locked"))


def audit_uv_lock(path: Path, text: str, rep: Report, seen: dict) -> None:
    data = tomllib.loads(text)
    pkgs = data.get("package", [])
    no_hash = 0
    for p in pkgs:
        name, version = p.get("name", "?"), str(p.get("version", "?"))
        src = p.get("source") or {}
        if "virtual" in src or "editable" in src:
            kind = "virtual" if "virtual" in src else "editable"
            if src.get(kind) != ".":
                rep.add("low", path.name, name, version, f"{kind} local package `{src.get(kind)}`")
            continue  # the project itself (or a workspace member)
        record(seen, "py", norm_py(name), version, path.name, name)
        if "git" in src:
            url = src["git"]
            commit = url.split("#", 1)[1] if "#" in url else ""
            if COMMIT.match(commit):
                rep.add(
                    "low",
                    path.name,
                    name,
                    version,
                    f"VCS source, locked to commit {commit[:10]}… ({url.split('#')[0][:60]})",
                )
            else:
                sev, issue = git_ref_issue(url)
                rep.add(sev, path.name, name, version, issue)
        elif "url" in src:
            sev, issue = url_issue(src["url"])
            rep.add(sev, path.name, name, version, issue)
        elif "path" in src or "directory" in src:
            rep.add("low", path.name, name, version, f"local path `{src.get('path') or src.get('directory')}`")
        elif "registry" in src and not str(src["registry"]).startswith(PYPI):
            reg = str(src["registry"])
            plain = reg.startswith("http://")
            rep.add(
                "high" if plain else "low",
                path.name,
                name,
                version,
                f"from index `{reg}`" + (" over plain HTTP" if plain else ""),
            )
        dists = ([p["sdist"]] if "sdist" in p else []) + list(p.get("wheels", []))
        if "git" not in src and not any(d.get("hash") for d in dists):
            no_hash += 1
        if py_prerelease(version):
            rep.add("low", path.name, name, version, "pre-release version locked")
    if no_hash:
        rep.add("medium", path.name, f"{no_hash} package(s)", "", "locked without a distribution hash")
    rep.files.append((path.name, f"uv.lock (version {data.get('version', '?')})", len(pkgs), "versions locked"))


def audit_pipfile_lock(path: Path, data: dict, rep: Report, seen: dict) -> None:
    total = 0
    for src in data.get("_meta", {}).get("sources", []):
        url = str(src.get("url", ""))
        if url.startswith("http://"):
            rep.add("high", path.name, "(source)", url, "package index over plain HTTP")
        if src.get("verify_ssl") is False:
            rep.add("medium", path.name, "(source)", url, "`verify_ssl = false` for this index")
        if url and not url.startswith(PYPI):
            rep.add("low", path.name, "(source)", url, f"non-PyPI index `{src.get('name', '')}`")
    for section in ("default", "develop"):
        for name, info in data.get(section, {}).items():
            total += 1
            version = str(info.get("version", "")).lstrip("=")
            where = f"{path.name} [{section}]"
            record(seen, "py", norm_py(name), version or info.get("ref", "?"), where, name)
            if "git" in info:
                ref = info.get("ref", "")
                sev, issue = (
                    ("low", f"VCS source, locked to commit {ref[:10]}…")
                    if COMMIT.match(ref)
                    else git_ref_issue(f"{info['git']}@{ref}" if ref else info["git"])
                )
                rep.add(sev, where, name, ref[:12], issue)
            elif "path" in info or "file" in info:
                target = info.get("path") or info.get("file")
                if str(target).startswith(("http://", "https://")):
                    sev, issue = url_issue(str(target))
                    rep.add(sev, where, name, "", issue)
                else:
                    rep.add(
                        "low",
                        where,
                        name,
                        "",
                        f"local path `{target}`" + (" (editable)" if info.get("editable") else ""),
                    )
            elif not info.get("version") or info.get("version") == "*":
                rep.add("medium", where, name, "(any)", "no locked version")
            elif not info.get("hashes"):
                rep.add("medium", where, name, version, "no hashes")
            if version and py_prerelease(version):
                rep.add("low", where, name, version, "pre-release version locked")
    rep.files.append((path.name, "Pipfile.lock", total, "versions locked"))


# ------------------------------------------------------------------------------------------------ npm


def classify_npm_spec(spec: str) -> tuple[str, str]:
    """(kind, detail): kind is pinned | loose | unpinned | vcs | url | local | alias | tag."""
    s = spec.strip()
    if s in ("", "*", "x", "X", "latest") or s.lower() in ("next",):
        return "unpinned", "any version" if s != "latest" else "dist-tag `latest`"
    if re.match(r"^(?:git\+|git:|github:|gitlab:|bitbucket:|gist:)", s) or re.fullmatch(r"[\w.-]+/[\w.-]+(?:#.+)?", s):
        return "vcs", s
    if s.startswith(("http://", "https://")):
        return "url", s
    if s.startswith(("file:", "link:", "portal:", "./", "../", "/", "~/")):
        return "local", s
    if s.startswith("workspace:"):
        return "workspace", s
    if s.startswith("npm:"):
        return "alias", s
    if re.fullmatch(r"=?v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?", s):
        return "pinned", s
    if re.fullmatch(r"[A-Za-z][\w.-]*", s):
        return "tag", s
    return "loose", s


def audit_package_json(path: Path, data: dict, rep: Report, seen: dict) -> None:
    counts = defaultdict(int)
    total = 0
    for section in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies"):
        for pkg, spec in (data.get(section) or {}).items():
            total += 1
            where = f"{path.name} ({section})"
            kind, detail = classify_npm_spec(str(spec))
            counts[kind] += 1
            if section == "peerDependencies":
                continue  # ranges are what peers are for
            if kind == "unpinned":
                rep.add(
                    "medium", where, pkg, str(spec) or '""', f"not pinned ({detail}); the lockfile is all that holds it"
                )
            elif kind == "tag":
                rep.add("medium", where, pkg, str(spec), "dist-tag, not a version: it moves with every publish")
            elif kind == "loose":
                major_only = bool(re.match(r"^(?:>=?\s*\d|\d+(?:\.x)?$|\d+\.x\.x$)", str(spec))) and "<" not in str(
                    spec
                )
                rep.add(
                    "medium" if major_only else "low",
                    where,
                    pkg,
                    str(spec),
                    "open-ended range: new major versions can install"
                    if major_only
                    else "range (^/~): the lockfile decides",
                )
            elif kind == "vcs":
                sev, issue = git_ref_issue(detail.replace("github:", "https://github.com/"))
                if "#" in detail and COMMIT.match(detail.split("#", 1)[1]):
                    sev, issue = "low", "VCS source pinned to a commit"
                elif "#" not in detail:
                    issue = "VCS source with no ref (follows the default branch)"
                rep.add(sev, where, pkg, str(spec), issue)
            elif kind == "url":
                sev, issue = url_issue(detail)
                rep.add(sev, where, pkg, str(spec), issue)
            elif kind == "local":
                rep.add("low", where, pkg, str(spec), "local path: builds only where it exists")
            elif kind == "alias":
                rep.add("info", where, pkg, str(spec), "npm alias: installs a package under another name")
            if kind in ("pinned", "loose") and NPM_PRE.search(re.sub(r"^[\^~=v<>]+", "", str(spec))):
                rep.add("low", where, pkg, str(spec), "pre-release version")
    summary = f"{counts['pinned']} exact, {counts['loose']} ranges, {counts['unpinned'] + counts['tag']} unpinned/tags"
    other = sum(counts[k] for k in ("vcs", "url", "local", "alias", "workspace"))
    if other:
        summary += f", {other} other sources"
    rep.files.append((path.name, "package.json", total, summary))


def npm_entry_issues(where: str, name: str, info: dict, rep: Report) -> None:
    version = str(info.get("version", ""))
    resolved = str(info.get("resolved", ""))
    if version == "0.0.1-security" or version.endswith("-security"):
        rep.add(
            "high",
            where,
            name,
            version,
            "npm security placeholder: the registry removed this package "
            "(typically for malicious code); remove it and check how it got in",
        )
    elif NPM_PRE.match(version):
        rep.add("low", where, name, version, "pre-release version")
    if info.get("link"):
        rep.add("low", where, name, resolved or "link", "linked local package")
        return
    if info.get("inBundle") or info.get("bundled"):
        return
    if resolved.startswith(("git+", "git:", "github:")) or version.startswith(("git+", "github:")):
        target = resolved or version
        sev, issue = (
            ("low", "VCS source, locked to a commit") if re.search(r"#[0-9a-f]{40}$", target) else git_ref_issue(target)
        )
        rep.add(sev, where, name, target, issue)
        return
    if resolved.startswith("file:") or version.startswith("file:"):
        rep.add("low", where, name, (resolved or version), "local file/folder")
        return
    if resolved.startswith("http://"):
        rep.add("high", where, name, resolved, "resolved over plain HTTP")
    elif resolved and not resolved.startswith(NPM_REGISTRY):
        host = re.sub(r"^https://([^/]+).*", r"\1", resolved)
        is_tarball_url = not re.search(r"/-/[^/]+\.tgz$", resolved)
        issue = "direct tarball URL" if is_tarball_url else f"from registry `{host}`"
        rep.add("medium" if is_tarball_url else "low", where, name, resolved, issue)
    integrity = str(info.get("integrity", ""))
    if not integrity:
        rep.add("medium", where, name, version, "no integrity hash in the lockfile")
    elif integrity.startswith("sha1-") and "sha512-" not in integrity:
        rep.add("low", where, name, version, "integrity is SHA-1 only")
    if info.get("hasInstallScript"):
        rep.add("info", where, name, version, "runs an install script (code executed at `npm install`)")


def audit_package_lock(path: Path, data: dict, rep: Report, seen: dict) -> None:
    lv = data.get("lockfileVersion", 1)
    count = 0
    dev = 0
    if "packages" in data:
        for key, info in data["packages"].items():
            if key == "" or not isinstance(info, dict):
                continue
            name = info.get("name") or key.rsplit("node_modules/", 1)[-1]
            if "node_modules/" not in key:
                # a workspace folder or a linked target: the project's own code
                continue
            count += 1
            dev += bool(info.get("dev"))
            version = str(info.get("version", ""))
            record(seen, "npm", name, version or "?", f"{path.name}: {key}", name)
            npm_entry_issues(f"{path.name}", name, info, rep)
    else:

        def walk(deps: dict, trail: str) -> None:
            nonlocal count, dev
            for name, info in deps.items():
                count += 1
                dev += bool(info.get("dev"))
                record(seen, "npm", name, str(info.get("version", "?")), f"{path.name}: {trail}{name}", name)
                npm_entry_issues(path.name, name, info, rep)
                walk(info.get("dependencies", {}), f"{trail}{name} › ")

        walk(data.get("dependencies", {}), "")
    if lv == 1:
        rep.add(
            "low",
            path.name,
            "(file)",
            "lockfileVersion 1",
            "old lockfile format (npm 6); `npm install` with npm ≥ 7 upgrades it",
        )
    rep.files.append((path.name, f"package-lock.json (v{lv})", count, f"{count - dev} prod, {dev} dev"))


# ------------------------------------------------------------------------------------------------ driver


def detect(path: Path, text: str) -> str:
    n = path.name.lower()
    if n == "package-lock.json" or n == "npm-shrinkwrap.json":
        return "package-lock"
    if n == "package.json":
        return "package-json"
    if n == "pipfile.lock":
        return "pipfile-lock"
    if n == "poetry.lock":
        return "poetry-lock"
    if n == "uv.lock":
        return "uv-lock"
    if n == "pyproject.toml":
        return "pyproject"
    if re.search(r"req|constraint|deps", n) and n.endswith((".txt", ".in", ".pip")):
        return "requirements"
    if n.endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError:
            return ""
        if isinstance(data, dict) and "lockfileVersion" in data:
            return "package-lock"
        if isinstance(data, dict) and ("dependencies" in data or "devDependencies" in data):
            return "package-json"
        if isinstance(data, dict) and "_meta" in data and "default" in data:
            return "pipfile-lock"
    if n.endswith(".lock") and "[[package]]" in text:
        return "uv-lock" if re.search(r"(?m)^source = \{", text) else "poetry-lock"
    if n.endswith(".txt") and re.search(r"(?m)^[A-Za-z0-9][\w.-]*\s*(?:\[[^\]]*\])?\s*(?:[=<>~!]=|@)", text):
        return "requirements"
    if n in ("yarn.lock", "pnpm-lock.yaml", "cargo.lock", "go.sum", "gemfile.lock", "composer.lock"):
        return "unsupported"
    return ""


def duplicates(seen: dict, rep: Report) -> None:
    for (eco, _key), entries in sorted(seen.items()):
        versions = sorted({v for v, _, _ in entries})
        if len(versions) < 2:
            continue
        display = entries[0][2]
        if eco == "npm":
            where = sorted({w.split(":", 1)[0] for _, w, _ in entries})
            paths = [w.split(": ", 1)[1] for _, w, _ in entries][:4]
            rep.add(
                "low",
                ", ".join(where),
                display,
                ", ".join(versions),
                f"{len(versions)} versions installed side by side ({'; '.join(paths)}); `npm dedupe` or an "
                "`overrides` entry can merge them",
            )
        else:
            places = ", ".join(sorted({w for _, w, _ in entries}))
            rep.add(
                "medium",
                places,
                display,
                " | ".join(versions),
                "declared or locked more than once with different versions: the install depends on order",
            )


def main() -> int:
    request = sys.stdin.read() if not sys.stdin.isatty() else ""
    del request  # nothing in the request changes the audit
    args = sys.argv[1:]
    if not args:
        print("Name the dependency files to audit, e.g. 'audit requirements.txt and package-lock.json'.")
        return 2
    rep = Report()
    seen: dict = defaultdict(list)
    unknown: list[str] = []
    for arg in args:
        path = Path(arg)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            unknown.append(f"{path.name} (not readable text)")
            continue
        kind = detect(path, text)
        try:
            if kind == "requirements":
                audit_requirements(path, text, rep, seen)
            elif kind == "pyproject":
                audit_pyproject(path, text, rep, seen)
            elif kind == "poetry-lock":
                audit_poetry_lock(path, text, rep, seen)
            elif kind == "uv-lock":
                audit_uv_lock(path, text, rep, seen)
            elif kind == "pipfile-lock":
                audit_pipfile_lock(path, json.loads(text), rep, seen)
            elif kind == "package-json":
                audit_package_json(path, json.loads(text), rep, seen)
            elif kind == "package-lock":
                audit_package_lock(path, json.loads(text), rep, seen)
            elif kind == "unsupported":
                unknown.append(f"{path.name} (format not supported yet)")
            else:
                unknown.append(f"{path.name} (not a dependency file this skill knows)")
        except (ValueError, tomllib.TOMLDecodeError, AttributeError, TypeError) as exc:
            unknown.append(f"{path.name} (could not be parsed: {str(exc)[:80]})")
    if not rep.files:
        print(
            "None of the files is a dependency file this skill reads (requirements*.txt, pyproject.toml, poetry.lock, "
            f"uv.lock, Pipfile.lock, package.json, package-lock.json): {', '.join(unknown)}."
        )
        return 2
    duplicates(seen, rep)
    out = [
        "## Dependency audit",
        "",
        "> **No vulnerability data:** this audit runs offline without a vulnerability database, so it cannot say "
        "whether any version has a known CVE or advisory. Run `pip-audit`, `npm audit` or `osv-scanner` with network "
        "access for that. What follows is supply-chain hygiene: pinning, sources, duplicates, integrity.",
        "",
        "| file | kind | packages | pinning |",
        "|---|---|---|---|",
    ]
    out += [f"| {f} | {k} | {n} | {s} |" for f, k, n, s in rep.files]
    if unknown:
        out += ["", "Not audited: " + "; ".join(unknown) + "."]
    rows = sorted(rep.rows, key=lambda r: (SEVERITIES.index(r[0]), r[4][:20], r[1], r[2].lower()))
    by = defaultdict(int)
    for r in rows:
        by[r[0]] += 1
    out += [
        "",
        f"**{len(rows)} finding(s)**: " + (", ".join(f"{by[s]} {s}" for s in SEVERITIES if by[s]) or "none") + ".",
    ]
    if rows:
        out += ["", "| severity | where | package | version / spec | issue |", "|---|---|---|---|---|"]
        for sev, where, pkg, ver, issue in rows[:MAX_ROWS]:
            ver = (ver if len(ver) <= 60 else ver[:59] + "…").replace("|", "\\|")
            out.append(f"| {sev} | {where} | {pkg} | {('`' + ver + '`') if ver else ''} | {issue} |")
        if len(rows) > MAX_ROWS:
            rest = defaultdict(int)
            for r in rows[MAX_ROWS:]:
                rest[r[0]] += 1
            out.append(
                f"(… {len(rows) - MAX_ROWS} more: " + ", ".join(f"{rest[s]} {s}" for s in SEVERITIES if rest[s]) + ")"
            )
    if rep.notes:
        out += ["", "Notes:"] + [f"- {note}" for note in rep.notes]
    out += [
        "",
        "### Next steps",
        "- Pin application dependencies exactly in a lockfile (`pip-compile --generate-hashes`, `uv lock`, "
        "`poetry lock`, `npm ci` with a committed package-lock.json); keep ranges only in libraries.",
        "- Pin VCS sources to a full commit hash and give URL sources a hash (`#sha256=` / `--hash`).",
        "- Use one index with `--index-url` (a proxy that mirrors PyPI) instead of `--extra-index-url`.",
    ]
    text = "\n".join(out) + "\n"
    if len(text) > 15000:
        text = text[:14800] + "\n\n(output cut at 15 KB)\n"
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    code = main()
    if code:
        sys.exit(code)
