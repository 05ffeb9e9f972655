"""Writing a user's files: links, owners, modes and read-only files kept; every output checked
before any work, and written all or none."""

import os
import shutil
import stat
import subprocess
import sys
import tempfile

import numpy as np
import pytest

import nngrad
from conftest import REPO, SAMPLES
from nngrad.files import atomic
from nngrad.errors import OutputError

MAZUR = SAMPLES / "04_mazur.yaml"
NOBODY = 65534


def cli(*args, cwd=None, **kwargs):
    return subprocess.run([sys.executable, "-m", "nngrad", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, **kwargs)


def step_in_place(path, **kwargs):
    return cli("step", path, "--lr", 0.5, "--in-place", **kwargs)


def w11(path) -> float:
    return float(nngrad.load(path).layers[0].W[0, 0])


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "net.yaml"
    shutil.copy(MAZUR, path)
    return path


def test_in_place_through_a_symlink_updates_the_target_and_keeps_the_link(spec):
    link = spec.parent / "link.yaml"
    link.symlink_to(spec.name)
    proc = step_in_place(link)
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.readlink(link) == spec.name
    assert w11(spec) != 0.15


def test_in_place_on_a_hard_link_keeps_one_inode_for_both_names(spec):
    other = spec.parent / "other.yaml"
    os.link(spec, other)
    inode = spec.stat().st_ino
    assert step_in_place(spec).returncode == 0
    assert spec.stat().st_ino == other.stat().st_ino == inode and spec.stat().st_nlink == 2
    assert other.read_bytes() == spec.read_bytes() and w11(other) != 0.15


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another owner")
def test_in_place_keeps_owner_group_and_mode(spec):
    os.chown(spec, NOBODY, NOBODY)
    spec.chmod(0o640)
    assert step_in_place(spec).returncode == 0
    st = spec.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (NOBODY, NOBODY, 0o640)
    assert w11(spec) != 0.15


def test_a_new_file_gets_the_umask_mode(tmp_path):
    out = tmp_path / "out.yaml"
    umask = os.umask(0o027)
    try:
        assert cli("step", MAZUR, "--lr", 0.5, "-o", out).returncode == 0
    finally:
        os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


@pytest.fixture
def shared_dir():
    """A folder another user can reach (pytest's own tmp folders are root's alone)."""
    folder = tempfile.mkdtemp(prefix="nngrad-shared-")
    os.chmod(folder, 0o777)
    yield folder
    shutil.rmtree(folder)


AS_NOBODY = """
import copy, os, sys
import difflib, json, shutil, tempfile, zipfile, yaml
import nngrad.cli.app, nngrad.cli.author, nngrad.cli.progress, nngrad.cli.run, nngrad.cli.steps, nngrad.settings
import nngrad.numerics.descent, nngrad.numerics.memory, nngrad.specs.read, nngrad.specs.specfile, nngrad.specs.write, nngrad.specs.yamlread
import nngrad.render.files, nngrad.render.jsondoc
settings = nngrad.settings.load_config()  # the interpreter and the package stay root's to read
nngrad.settings.load_config = lambda path=None: copy.deepcopy(settings)
os.setgroups([]); os.setgid(%d); os.setuid(%d)
nngrad.cli.main(sys.argv[1:])
""" % (NOBODY, NOBODY)


def as_nobody(args, cwd):
    """nngrad as the user nobody: started as root, every module it needs imported, then the
    process gives up root."""
    if os.geteuid() != 0:
        pytest.skip("needs root to become another user")
    return subprocess.run([sys.executable, "-c", AS_NOBODY, *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


@pytest.mark.parametrize("command", [("step", "net.yaml", "--lr", 0.5, "--in-place"),
                                     ("run", "other.yaml", "-o", "net.yaml"),
                                     ("convert", "other.yaml", "net.yaml")])
def test_a_file_the_user_may_not_write_is_refused_though_the_folder_is_writable(shared_dir,
                                                                                command):
    for name in ("net.yaml", "other.yaml"):
        shutil.copy(MAZUR, os.path.join(shared_dir, name))
    target = os.path.join(shared_dir, "net.yaml")
    os.chmod(target, 0o444)
    before = open(target, "rb").read()
    proc = as_nobody(command, cwd=shared_dir)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("nngrad: error: net.yaml: is not writable (mode 0444, owner 0)")
    assert open(target, "rb").read() == before and sorted(os.listdir(shared_dir)) == \
        ["net.yaml", "other.yaml"]


@pytest.mark.parametrize("args,fragment", [
    (("-o", "out.yaml", "--history", "out.yaml"), "out.yaml: is named by both -o and --history"),
    (("-o", "out.yaml", "--history", "./out.yaml"), "is named by both -o and --history"),
    (("-o", "out.yaml", "--history", "net.yaml"), "net.yaml: is the input spec"),
    (("--in-place", "--history", "net.yaml"), "is named by both --in-place and --history"),
    (("-o", "-", "--history", "-"), "-o and --history would both write to standard output"),
    (("-o", "out.yaml", "--history", "nodir/h.csv"), "nodir/h.csv: cannot be written: its folder"),
    (("-o", "nodir/out.yaml", "--history", "h.csv"), "nodir/out.yaml: cannot be written"),
    (("--in-place", "--history", ""), "an output file name is empty"),
    (("-o", ""), "an output file name is empty"),
])
def test_step_checks_every_output_before_any_work_and_writes_nothing(spec, args, fragment):
    before = spec.read_bytes()
    proc = cli("step", spec.name, "--lr", 0.5, *args, cwd=spec.parent)
    assert proc.returncode == 2 and proc.stdout == "", proc.stderr
    assert fragment in proc.stderr and "step 0" not in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert spec.read_bytes() == before and os.listdir(spec.parent) == ["net.yaml"]


def test_the_input_is_refused_as_output_by_any_name(spec):
    link = spec.parent / "link.yaml"
    link.symlink_to(spec.name)
    for out in (link, spec.parent / "." / "net.yaml"):
        proc = cli("convert", spec, out)
        assert proc.returncode == 2 and "is the input spec" in proc.stderr


@pytest.mark.parametrize("make", ["fifo", "dir", "dangling"])
def test_an_output_that_is_not_a_regular_file_is_refused(tmp_path, make):
    out = tmp_path / "out.json"
    {"fifo": lambda: os.mkfifo(out), "dir": lambda: out.mkdir(),
     "dangling": lambda: out.symlink_to(tmp_path / "missing.json")}[make]()
    proc = cli("run", MAZUR, "-o", out)
    assert proc.returncode == 2 and proc.stdout == "" and proc.stderr.count("\n") == 1
    assert {"fifo": "is a FIFO", "dir": "is a directory", "dangling": "a dangling link"}[make] \
        in proc.stderr
    assert sorted(os.listdir(tmp_path)) == ["out.json"]


@pytest.mark.parametrize("command", ["run", "init", "convert"])
def test_an_empty_output_name_is_refused(tmp_path, command):
    args = {"run": ("run", MAZUR, "-o", ""), "init": ("init", 2, 1, "-o", ""),
            "convert": ("convert", MAZUR, "")}[command]
    proc = cli(*args, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == "" and os.listdir(tmp_path) == []
    assert "an output file name is empty" in proc.stderr


def test_a_fifo_stays_a_fifo(tmp_path):
    os.mkfifo(tmp_path / "out.json")
    assert cli("run", MAZUR, "-o", tmp_path / "out.json").returncode == 2
    assert stat.S_ISFIFO(os.lstat(tmp_path / "out.json").st_mode)


def test_a_name_near_name_max_can_be_written(tmp_path):
    out = tmp_path / ("n" * 250 + ".json")
    proc = cli("run", MAZUR, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert out.exists()


def test_in_place_tells_the_format_by_content_whatever_the_extension(tmp_path):
    src = tmp_path / "net.txt"
    shutil.copy(MAZUR, src)
    assert step_in_place(src).returncode == 0 and w11(src) != 0.15


def test_a_relative_output_in_a_deleted_folder_is_exit_2(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    proc = subprocess.run([sys.executable, "-c", f"import os, sys; os.chdir({str(gone)!r}); "
                           f"os.rmdir({str(gone)!r}); sys.argv = ['nngrad', 'run', "
                           f"{str(MAZUR)!r}, '-o', 'out.json']; "
                           "from nngrad.cli import main; main()"],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 2 and "current folder no longer exists" in proc.stderr


def chattr(flag, path):
    if shutil.which("chattr") is None or os.geteuid() != 0:
        pytest.skip("needs chattr and root")
    if subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode:
        pytest.skip("this file system has no file attributes")


def test_an_immutable_spec_is_refused_before_any_work(spec):
    chattr("+i", spec)
    try:
        proc = step_in_place(spec)
    finally:
        subprocess.run(["chattr", "-i", str(spec)])
    assert proc.returncode == 2 and "is not writable" in proc.stderr and "step 0" not in proc.stderr
    assert spec.read_bytes() == MAZUR.read_bytes()


def test_an_append_only_folder_reports_the_temp_file_it_could_not_remove(tmp_path):
    folder = tmp_path / "log"
    folder.mkdir()
    chattr("+a", folder)
    try:
        proc = cli("run", MAZUR, "-o", folder / "out.json")
        left = os.listdir(folder)
    finally:
        subprocess.run(["chattr", "-a", str(folder)])
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert len(left) == 1 and f"the temp file {folder / left[0]} could not be removed" in proc.stderr


def test_an_append_only_folder_with_a_hard_linked_spec_is_written_and_warns(tmp_path):
    folder = tmp_path / "log"
    folder.mkdir()
    spec = folder / "net.yaml"
    shutil.copy(MAZUR, spec)
    os.link(spec, folder / "other.yaml")
    chattr("+a", folder)
    try:
        proc = step_in_place(spec)
        left = sorted(os.listdir(folder))
    finally:
        subprocess.run(["chattr", "-a", str(folder)])
    assert proc.returncode == 0 and "was written, but the temp file" in proc.stderr
    assert w11(spec) != 0.15 and (folder / "other.yaml").read_bytes() == spec.read_bytes()
    assert len(left) == 3  # the spec, its other name, and the temp file named in the warning


def test_a_writable_file_of_another_owner_is_copied_into_keeping_owner_and_inode(shared_dir):
    target = os.path.join(shared_dir, "net.yaml")
    shutil.copy(MAZUR, target)
    os.chmod(target, 0o666)  # root's, but anyone may write it
    before = os.stat(target)
    proc = as_nobody(("step", "net.yaml", "--lr", 0.5, "--in-place"), cwd=shared_dir)
    assert proc.returncode == 0, proc.stderr
    after = os.stat(target)
    assert (after.st_ino, after.st_uid, after.st_gid) == (before.st_ino, 0, before.st_gid)
    assert w11(target) != 0.15 and sorted(os.listdir(shared_dir)) == ["net.yaml"]


# --- the writer itself ------------------------------------------------------------------------

def test_write_all_writes_nothing_when_one_output_cannot_be_staged(tmp_path):
    first, second = tmp_path / "a.yaml", tmp_path / "no" / "b.csv"
    with pytest.raises(OutputError, match="no/b.csv"):
        atomic.write_all([(str(first), "a"), (str(second), "b")])
    assert os.listdir(tmp_path) == []


def test_write_all_says_which_outputs_were_written_when_a_late_rename_fails(tmp_path, monkeypatch):
    real_replace = os.replace
    calls = []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    a, b = tmp_path / "a.yaml", tmp_path / "b.csv"
    with pytest.raises(OutputError) as e:
        atomic.write_all([(str(a), "a"), (str(b), "b")])
    assert "already written:" in str(e.value) and str(a) in str(e.value)
    assert a.read_text() == "a" and sorted(os.listdir(tmp_path)) == ["a.yaml"]


def test_a_temp_file_that_cannot_be_removed_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic.os, "unlink", lambda p: (_ for _ in ()).throw(
        PermissionError(1, "Operation not permitted")))
    monkeypatch.setattr(atomic.os, "replace", lambda s, d: (_ for _ in ()).throw(
        PermissionError(1, "Operation not permitted")))
    with pytest.raises(OutputError, match=r"the temp file .*\.nngrad-\w{8}\.tmp could not be "
                                          r"removed: Operation not permitted"):
        with atomic.atomic_write(tmp_path / "out.yaml") as f:
            f.write(b"new")


def test_a_copy_into_a_linked_file_that_fails_keeps_the_new_content(tmp_path, monkeypatch):
    target = tmp_path / "net.yaml"
    target.write_bytes(b"old")
    os.link(target, tmp_path / "other.yaml")

    def broken(src, dst, length=0):
        dst.write(b"ne")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.shutil, "copyfileobj", broken)
    with pytest.raises(OutputError) as e:
        with atomic.atomic_write(target) as f:
            f.write(b"new content")
    kept = str(e.value).split("kept in ")[1]
    assert open(kept, "rb").read() == b"new content"


def test_temp_names_are_short():
    with tempfile.TemporaryDirectory() as folder:
        with atomic.atomic_write(os.path.join(folder, "x" * 200)) as f:
            names = os.listdir(folder)
            f.write(b"1")
    assert len(names) == 1 and len(names[0]) == 20 and names[0].startswith(".nngrad-")


def test_step_in_place_on_an_npz_keeps_its_link(tmp_path):
    npz = tmp_path / "net.npz"
    assert cli("convert", MAZUR, npz).returncode == 0
    link = tmp_path / "link.npz"
    link.symlink_to(npz.name)
    assert step_in_place(link).returncode == 0 and link.is_symlink()
    assert not np.array_equal(np.load(npz)["W1"], nngrad.load(MAZUR).layers[0].W)
