"""The change under review: files and hunks (new-side line numbers) from git, against the merge-base."""
from __future__ import annotations

import errno
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit, urlunsplit

import git
import unidiff

from ragls.indexer.files import NotRegular, read_regular

from .findings import ReviewError

MAX_BYTES = 1_000_000  # a working-tree file larger than this is not read (the indexer's limit)


@dataclass(frozen=True, slots=True)
class Hunk:
    """One changed region: new-side lines start..end (inclusive, with git's context lines), the lines it added,
    and the lines it removed, each placed before the new-side line it now precedes."""

    start: int
    end: int
    changed: tuple[int, ...]  # new-side numbers of added lines (empty for a pure deletion)
    removed: tuple[tuple[int, str], ...] = ()  # (the new-side line it stood before, its text)

    @property
    def places(self) -> tuple[int, ...]:
        """Where the hunk changed something: its added lines, and where lines were removed."""
        return tuple(sorted({*self.changed, *(n for n, _ in self.removed)}))


@dataclass(slots=True)
class FileChange:
    path: str  # new path (old path for a deleted file)
    status: str  # added, modified, deleted, renamed
    old_path: str | None = None
    hunks: list[Hunk] = field(default_factory=list)
    binary: bool = False
    text: str | None = None  # the new version's text (None: deleted, binary or unreadable)
    unreadable: str | None = None  # why the working tree's file was not read (a symbolic link, a FIFO, ...)


@dataclass(slots=True)
class Change:
    base: str  # what the change is compared against (a commit, or "HEAD" / the index)
    head: str  # "worktree", "staged" or a commit
    files: list[FileChange]


def open_repo(root: Path) -> git.Repo:
    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise ReviewError(f"{root} is not inside a git repository") from exc


def default_base(repo: git.Repo) -> str:
    """The branch a pull request would target: origin's HEAD, else main, master, trunk or develop."""
    try:
        return repo.git.rev_parse("--abbrev-ref", "origin/HEAD")
    except git.GitCommandError:
        pass
    for name in ("origin/main", "origin/master", "main", "master", "trunk", "develop"):
        try:
            repo.git.rev_parse("--verify", "--quiet", name + "^{commit}")
            return name
        except git.GitCommandError:
            continue
    raise ReviewError("no base to compare with: pass --base REF (no origin/HEAD, main or master here)")


def _commit(repo: git.Repo, ref: str, what: str) -> str:
    try:
        return repo.git.rev_parse("--verify", "--quiet", ref + "^{commit}")
    except git.GitCommandError:
        raise ReviewError(f"{what} {ref!r} is not a commit in this repository (fetch it, or check the name)") \
            from None


def collect(root: Path, base: str | None, head: str | None, mode: str) -> Change:
    """The change to review. mode: "commits" (merge-base of base and head .. head), "staged" (the index against
    base, default HEAD) or "worktree" (the working tree, untracked files included, against base, default HEAD)."""
    repo = open_repo(root)
    if mode == "commits":
        head_sha = _commit(repo, head or "HEAD", "--head")
        base_sha = _commit(repo, base or default_base(repo), "--base")
        merge = repo.merge_base(base_sha, head_sha)
        if not merge:
            shallow = " (this clone is shallow: fetch the whole history, e.g. actions/checkout with " \
                "fetch-depth: 0)" if (Path(repo.git_dir) / "shallow").exists() else ""
            raise ReviewError(f"{base or 'the base'!r} and {head or 'HEAD'!r} have no common ancestor{shallow}")
        ancestor = merge[0].hexsha
        raw = repo.git.diff(ancestor, head_sha, "--no-color", "--no-ext-diff", "--find-renames", "-U3")
        change = Change(ancestor, head_sha, _parse(raw))
        for f in change.files:
            f.text = _show(repo, f"{head_sha}:{f.path}") if f.status != "deleted" and not f.binary else None
        return change
    start = _commit(repo, base or "HEAD", "--base") if repo.head.is_valid() or base else None
    if start is None:
        raise ReviewError("the repository has no commit yet to compare with")
    if mode == "staged":
        raw = repo.git.diff("--cached", start, "--no-color", "--no-ext-diff", "--find-renames", "-U3")
        change = Change(start, "staged", _parse(raw))
        for f in change.files:
            f.text = _show(repo, f":{f.path}") if f.status != "deleted" and not f.binary else None
        return change
    raw = repo.git.diff(start, "--no-color", "--no-ext-diff", "--find-renames", "-U3")
    change = Change(start, "worktree", _parse(raw))
    work = Path(repo.working_tree_dir or root)
    for rel in repo.untracked_files:  # new files git does not track yet (ignored ones are not listed)
        change.files.append(_untracked(work, rel))
    for f in change.files:
        if f.text is None and f.status != "deleted" and not f.binary and f.unreadable is None:
            f.text, f.unreadable = _read(work / f.path)
    return change


def text_hunks(old: str, new: str, context: int = 3) -> list[Hunk]:
    """The hunks that turn `old` into `new`, as git's diff gives them (new-side numbers; removed lines placed
    before the new-side line they now precede), for texts that are not commits (an editor's saves)."""
    a, b = old.split("\n"), new.split("\n")
    out = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        start = max(1, j1 + 1 - context)
        out.append(Hunk(start, max(start, min(len(b), j2 + context)), tuple(range(j1 + 1, j2 + 1)),
                        tuple((j1 + 1, a[i]) for i in range(i1, i2))))
    return out


def repository_url(repo: git.Repo) -> str | None:
    """origin's web address (https, never with credentials), or None."""
    try:
        url = repo.remote("origin").url
    except (ValueError, git.GitCommandError):
        return None
    scheme = "https"
    if m := re.fullmatch(r"[\w.-]+@([\w.-]+):(?!/)(.+)", url):  # scp-like: git@github.com:owner/repo.git
        host, path = m[1], "/" + m[2]
    else:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https", "ssh", "git") or not parts.hostname:
            return None
        host, path = parts.hostname, parts.path
        if parts.scheme in ("http", "https"):
            scheme = parts.scheme
            host += f":{parts.port}" if parts.port else ""
    return urlunsplit((scheme, host, path.rstrip("/").removesuffix(".git"), "", ""))


def _parse(raw: str) -> list[FileChange]:
    out = []
    for pf in unidiff.PatchSet(raw):
        status = ("added" if pf.is_added_file else "deleted" if pf.is_removed_file else
                  "renamed" if pf.is_rename else "modified")
        path = pf.path if not pf.is_removed_file else pf.source_file.removeprefix("a/")
        old = pf.source_file.removeprefix("a/") if pf.is_rename else None
        fc = FileChange(path, status, old, binary=pf.is_binary_file)
        for h in pf:
            after = h.target_start + h.target_length  # the new-side line after the hunk
            removed, pending = [], []
            for ln in h:
                if ln.is_removed:
                    pending.append(ln.value.rstrip("\r\n"))
                elif ln.target_line_no is not None:
                    removed += [(ln.target_line_no, text) for text in pending]
                    pending = []
            removed += [(after, text) for text in pending]
            start = max(1, h.target_start)
            added = tuple(cast(int, ln.target_line_no) for ln in h if ln.is_added)  # an added line has a new number
            fc.hunks.append(Hunk(start, max(start, after - 1), added, tuple(removed)))
        out.append(fc)
    return out


def _untracked(work: Path, rel: str) -> FileChange:
    text, unreadable = _read(work / rel)
    if unreadable is not None:
        return FileChange(rel, "added", unreadable=unreadable)
    if text is None:
        return FileChange(rel, "added", binary=True)
    lines = text.split("\n")
    n = len(lines) - (1 if lines and lines[-1] == "" else 0)
    hunk = Hunk(1, max(1, n), tuple(range(1, n + 1)))
    return FileChange(rel, "added", hunks=[hunk] if n else [], text=text)


def _show(repo: git.Repo, spec: str) -> str | None:
    data = stored(repo, spec)
    return None if data is None or b"\0" in data[:8192] else data.decode("utf-8", "replace")


def stored(repo: git.Repo, spec: str) -> bytes | None:
    """The bytes of a file as a commit holds it (`REV:PATH`), or None when it holds none."""
    try:
        return repo.git.show(spec, stdout_as_string=False)
    except git.GitCommandError:
        return None


def _read(path: Path) -> tuple[str | None, str | None]:
    """(text, None) of a working-tree file; (None, None) when binary; (None, why) when it is not read at all: a
    symbolic link is never followed (its target may be anything on the machine), a FIFO never opened."""
    try:
        data, _ = read_regular(path, MAX_BYTES + 1)
    except NotRegular as exc:
        return None, "symbolic link" if exc.errno == errno.ELOOP else "not a regular file"
    except OSError as exc:
        return None, f"unreadable: {exc.strerror or exc}"
    if len(data) > MAX_BYTES:
        return None, f"larger than {MAX_BYTES} bytes"
    return (None, None) if b"\0" in data[:8192] else (data.decode("utf-8", "replace"), None)
