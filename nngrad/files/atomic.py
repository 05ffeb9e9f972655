"""Writing a user's files without losing them: every file nngrad writes goes through here.

- ``check_outputs`` runs before any work. An output must be a regular file (or a new name) that
  the user may write, in a folder that exists; no two outputs may name the same file, and no
  output the input (by any name: a symlink, a hard link, ``./net.yaml``).
- The content goes to a temp file (``.nngrad-XXXXXXXX.tmp``, short enough beside any name) in
  the folder of the real target: a symlink is followed, so the link stays a link and its target
  gets the new content. The temp file is fsynced, given the target's mode, owner and group, and
  renamed over the target with ``os.replace``: the target is replaced whole, or not at all.
- A rename gives the target a new inode. Where that would change what the user has (the
  target has another hard link, or its owner or group cannot be given to the new file), the
  finished temp file is instead copied into the target, with SIGINT, SIGTERM and SIGHUP held
  (``signals.held``), so every name keeps seeing one content. Should that copy fail half-way,
  the temp file, which holds the whole new content, is kept and named.
- ``write_all`` writes several outputs all or none: every temp file is finished before the
  first rename, and a rename that still fails says which outputs were written.
- A failure removes the temp file; if even that fails, the error says so. ``leftover`` lists
  temp files still on disk, for the command line to remove when a signal ends it.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from contextlib import contextmanager

from ..errors import OutputError
from .signals import held as _signals_held

TEMP_PREFIX, TEMP_SUFFIX = ".nngrad-", ".tmp"  # 8 random characters between them
_LIVE: set = set()  # temp files made and not yet renamed or removed
WRITTEN: list = []  # every file this process has written, in order
NOTES: list = []  # what went wrong after a file was written whole, for a warning
_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device"}


def check_output(path) -> str:
    """The real file that writing ``path`` changes (symlinks followed); OutputError, before any
    work, if it cannot or must not be written."""
    shown = os.fspath(path)
    if not shown:
        raise OutputError("an output file name is empty", file="''")
    if shown.endswith(os.sep) or (os.altsep and shown.endswith(os.altsep)):
        raise OutputError("ends in a slash, so it names a folder; give a file name", file=shown)
    try:
        real = os.path.realpath(shown)
    except OSError:
        raise OutputError("cannot be written: the current folder no longer exists", file=shown) from None
    try:
        st = os.stat(real)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise OutputError(f"cannot be written: {e.strerror or e}", file=shown) from None
    if st is None and os.path.islink(shown):
        raise OutputError("is a symlink to a missing file; nngrad does not create files through "
                          "a dangling link", file=shown)
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise OutputError("is a directory", file=shown)
        if not stat.S_ISREG(st.st_mode):
            kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
            raise OutputError(f"is {kind}; nngrad writes only regular files (a temp file, then "
                              "renamed): write to a file, or to standard output with -", file=shown)
        if not os.access(real, os.W_OK):
            why = "immutable, or on a read-only file system" if os.geteuid() == 0 else \
                f"owner {st.st_uid}"
            raise OutputError(f"is not writable (mode {stat.S_IMODE(st.st_mode):04o}, {why}); "
                              "nngrad does not replace a file you may not write", file=shown)
    folder = os.path.dirname(real)
    if not os.path.isdir(folder):
        raise OutputError("cannot be written: its folder does not exist", file=shown)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError("cannot be written: its folder is not writable", file=shown)
    return real


def check_outputs(outputs: dict, inputs: tuple = ()) -> dict:
    """Each output (``{option: path}``, None for absent) checked with ``check_output``, then
    against the others and the ``inputs``; ``{option: real path}``, ``-`` as is. OutputError
    if two outputs would write one file, both standard output, or an output an input."""
    given = {option: os.fspath(p) for option, p in outputs.items() if p is not None}
    if sum(p == "-" for p in given.values()) > 1:
        raise OutputError(f"{' and '.join(o for o, p in given.items() if p == '-')} would both "
                          "write to standard output; give one of them a file")
    reals = {o: p if p == "-" else check_output(p) for o, p in given.items()}
    files = [(o, r) for o, r in reals.items() if r != "-"]
    for i, (option, real) in enumerate(files):
        for other, real2 in files[:i]:
            if _same_file(real, real2):
                raise OutputError(f"is named by both {other} and {option}; each output needs a "
                                  "file of its own", file=given[option])
        for source in inputs:
            if source and source != "-" and _same_file(real, os.path.realpath(source)):
                raise OutputError(f"is the input spec; choose another file for {option}",
                                  file=given[option])
    return reals


def _same_file(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


@contextmanager
def atomic_write(path, mode: str = "wb"):
    """A file to write the new content of ``path`` to; when the block ends without error, it
    becomes ``path`` as the module docstring says. On any failure ``path`` is left as it was."""
    shown = os.fspath(path)
    real = check_output(shown)
    tmp, f = _temp_beside(real, mode, shown)
    try:
        with f:
            yield f
            _finish(f)
        with _signals_held():
            _commit(tmp, real, shown)
    except BaseException as e:
        raise _failed(e, [tmp], shown) from None


def write_all(outputs: list) -> None:
    """Write ``[(path, data), ...]`` (data: str as UTF-8, or bytes) all or none."""
    staged = []
    try:
        for path, data in outputs:
            real = check_output(path)
            tmp, f = _temp_beside(real, "wb", path)
            staged.append((path, real, tmp))
            with f:
                f.write(data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data)
                _finish(f)
    except BaseException as e:
        raise _failed(e, [t for _, _, t in staged], path) from None
    with _signals_held():
        for i, (path, real, tmp) in enumerate(staged):
            try:
                if any(_same_file(real, done) for _, done, _ in staged[:i]):  # a case-blind disk
                    raise OutputError("is the file another output just wrote; each output needs "
                                      "a file of its own", file=path)
                _commit(tmp, real, path)
            except BaseException as e:
                error = _failed(e, [t for _, _, t in staged[i:]], path)
                written = [p for p, _, _ in staged[:i]]
                if written and isinstance(error, OutputError):
                    error.message += f" (already written: {', '.join(written)})"
                raise error from None


def leftover() -> list:
    """Remove the temp files still on disk (a signal ended a write); what could not be removed,
    and the ``NOTES``."""
    notes, NOTES[:] = NOTES[:], []  # each said once
    return notes + [p for p in map(_discard, sorted(_LIVE)) if p]


def _temp_beside(real: str, mode: str, shown: str):
    with _signals_held():
        try:
            fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX,
                                       dir=os.path.dirname(real))
        except OSError as e:
            raise OutputError(f"cannot be written: {e.strerror or e}", file=shown) from None
        _LIVE.add(tmp)
    text = {"encoding": "utf-8", "errors": "surrogateescape"}  # a file name keeps its own bytes
    return tmp, os.fdopen(fd, mode, **({} if "b" in mode else text))


def _finish(f) -> None:
    f.flush()
    os.fsync(f.fileno())


def _commit(tmp: str, real: str, shown: str) -> None:
    """Make the finished ``tmp`` the content of ``real``: renamed over it, or copied into it."""
    try:
        st = os.stat(real)
    except FileNotFoundError:
        st = None
    if st is None:
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, real)
    elif st.st_nlink > 1 or not _owned_alike(tmp, st):
        _copy_into(tmp, real, shown)
    else:
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        os.replace(tmp, real)
    _LIVE.discard(tmp)
    WRITTEN.append(shown)
    _sync_folder(os.path.dirname(real))


def _owned_alike(tmp: str, st) -> bool:
    """Give ``tmp`` the owner and group of ``st``; False if that is not permitted."""
    mine = os.stat(tmp)
    if (mine.st_uid, mine.st_gid) == (st.st_uid, st.st_gid):
        return True
    try:
        os.chown(tmp, st.st_uid, st.st_gid)
    except PermissionError:
        return False
    return True


def _copy_into(tmp: str, real: str, shown: str) -> None:
    with open(tmp, "rb") as src, open(real, "r+b") as dst:
        try:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.truncate()
            _finish(dst)
        except OSError as e:
            _LIVE.discard(tmp)  # it holds the whole new content: keep it
            raise OutputError(f"cannot be written: {e.strerror or e}; it may now be partly "
                              f"rewritten, and its whole new content is kept in {tmp}",
                              file=shown) from None
    problem = _discard(tmp)  # the file is written: a temp file left behind is only noted
    if problem:
        NOTES.append(f"{shown} was written, but{problem[1:]}")


def _sync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _failed(e: BaseException, temps: list, shown: str) -> BaseException:
    """The error to raise for ``e``, after removing ``temps``; an OSError becomes OutputError."""
    problems = "".join(p for p in map(_discard, temps) if p)
    if isinstance(e, OSError):
        return OutputError(f"cannot be written: {e.strerror or e}{problems}", file=shown)
    if isinstance(e, OutputError):
        e.message += problems
    return e


def _discard(tmp: str) -> str:
    """Remove a temp file that is still ours; '' or what went wrong."""
    if tmp not in _LIVE:
        return ""
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    except OSError as e:
        _LIVE.discard(tmp)
        return f"; the temp file {tmp} could not be removed: {e.strerror or e}"
    _LIVE.discard(tmp)  # only now: a signal before this finds it still listed
    return ""


def _umask() -> int:
    """The process's umask, read from /proc where it can be (setting it to read it would race
    with another thread's new files)."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1], 8) for line in status if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError, IndexError):
        umask = os.umask(0)
        os.umask(umask)
        return umask
