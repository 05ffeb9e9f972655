"""An NPZ member read through a read-only memory map of its file, not into memory.

``np.load(mmap_mode=...)`` does not map the members of a zip, so this does it by hand: a member
stored uncompressed (``np.savez``, not ``np.savez_compressed``) in a regular file lies whole in
the file, after its zip local header (30 bytes, its name and an extra field, from
``ZipInfo.header_offset``) and its ``.npy`` header. The array is a view of a map of those bytes:
nothing is read until an entry is touched, and a page read once is given back when the core
says it is done with a view of it (``model.values.done_with`` -> ``Pages.done_with``, with
``madvise(MADV_DONTNEED)``): memory is held for the part in use, not for the whole array.

Before the map is made, everything ``zipfile`` and ``np.lib.format.read_array`` would have
checked is checked: the local header, the ``.npy`` header against the one already read, that
the file holds every byte the member declares, and the member's CRC-32 (read in blocks, not
mapped). A map sees the file as it is: a file replaced by rename (nngrad's writers, ``step
--in-place``) leaves the map on the old content, but one rewritten in place while mapped would
mix two contents, and one truncated would end the process with SIGBUS when a page past its end
is touched. ``unchanged`` lets the command line refuse the first after the fact; the second
cannot be caught, and is documented.
"""

from __future__ import annotations

import mmap
import os
import stat
import struct
import weakref
import zlib

import numpy as np

from ..errors import SpecError

BATCH = ("X", "T")  # a spec's members that grow with the batch: the ones worth mapping
LOCAL = struct.Struct("<4s22xHH")  # a zip local header: its signature, ..., name and extra lengths
CRC_BLOCK = 16 << 20
CORRUPT = "is not a valid .npy array (the NPZ is truncated or corrupt)"


def regular_fd(f) -> int | None:
    """The descriptor of ``f`` if it is an open regular file, else None (bytes, a pipe's copy)."""
    try:
        fd = f.fileno()
        return fd if stat.S_ISREG(os.fstat(fd).st_mode) else None
    except (AttributeError, OSError, ValueError):
        return None


def mappable(info) -> bool:
    """Whether a zip member can be mapped: stored, not compressed nor encrypted."""
    return info.compress_type == 0 and not info.flag_bits & 1 and \
        info.compress_size == info.file_size


def in_spec_dtype(headers: dict, read) -> list:
    """Those of X and T (``headers``: ``{key: (shape, dtype)}``) stored in the spec's dtype, which
    ``Network`` keeps as they are. Another (a float32 X in a float64 spec, class labels) would be
    cast, a whole copy, so it is read as any member; so is everything when the ``dtype`` member
    is not a name of a dtype (``Network`` will say why)."""
    name = "float64"
    if "dtype" in headers:
        a = read("dtype")
        name = a.item() if a.dtype.kind in "US" and a.ndim == 0 else None
        name = name.decode(errors="replace") if isinstance(name, bytes) else name
    if name not in ("float64", "float32"):
        return []
    return [key for key in BATCH if key in headers and headers[key][1] == np.dtype(name)]


def mapped_member(f, info, header: tuple, key: str) -> np.ndarray:
    """The array of member ``info`` of the regular file ``f`` (``mappable(info)``) on a read-only
    map; ``header`` is its ``(shape, dtype)`` as already read. SpecError if it is corrupt."""
    fd = regular_fd(f)
    try:
        f.seek(info.header_offset)
        signature, name, extra = LOCAL.unpack(f.read(LOCAL.size))
        start = info.header_offset + LOCAL.size + name + extra
        if signature != b"PK\x03\x04" or start + info.file_size > os.fstat(fd).st_size:
            raise ValueError
        f.seek(start)
        version = np.lib.format.read_magic(f)
        read = {(1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0}[version]
        shape, fortran, dtype = read(f)
        offset = f.tell()
    except Exception:  # noqa: BLE001 - as npzread._header: numpy's header parser raises anything
        raise SpecError(CORRUPT, path=(key,)) from None
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    try:
        if (tuple(shape), dtype) != header or offset + nbytes > start + info.file_size or \
                _crc(fd, start, info.file_size) != info.CRC:
            raise SpecError(CORRUPT, path=(key,))
        if nbytes == 0:  # nothing to map (and mmap refuses a length of 0)
            return np.zeros(shape, dtype)
        return Pages.array(fd, offset, shape, dtype, fortran)
    except OSError as e:  # an I/O error, or a file system that cannot map
        raise SpecError(f"cannot be read through a memory map: {e.strerror or e}; without "
                        "--batch-chunk it is read into memory", path=(key,)) from None


def _crc(fd: int, start: int, size: int) -> int:
    crc, done = 0, 0
    while done < size:
        block = os.pread(fd, min(CRC_BLOCK, size - done), start + done)
        if not block:
            raise SpecError(CORRUPT)
        crc, done = zlib.crc32(block, crc), done + len(block)
    return crc


class Pages(mmap.mmap):
    """A read-only map of one member's bytes, owner of the array made on it (``array.base``).

    ``done_with(view)`` gives back the pages under ``view`` (any view of the array: a chunk of
    examples, in either layout), rounded out to whole pages; a page touched again is read again
    from the file. ``unchanged()`` says whether the file still has the size and modification
    time it had when mapped.
    """

    @classmethod
    def array(cls, fd: int, offset: int, shape: tuple, dtype, fortran: bool) -> np.ndarray:
        lead = offset % mmap.ALLOCATIONGRANULARITY
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        pages = cls(fd, lead + nbytes, access=mmap.ACCESS_READ, offset=offset - lead)
        try:
            pages.madvise(mmap.MADV_SEQUENTIAL)  # read ahead: the core reads it in order
        except OSError:
            pass
        a = np.ndarray(shape, dtype, buffer=pages, offset=lead, order="F" if fortran else "C")
        pages.start = a.__array_interface__["data"][0] - lead
        pages.fd = os.dup(fd)  # the same file, whatever its name comes to mean
        weakref.finalize(pages, os.close, pages.fd)
        pages.seen = _identity(os.fstat(fd))
        return a

    def done_with(self, view: np.ndarray) -> None:
        lo, span = view.__array_interface__["data"][0] - self.start, view.itemsize
        for n, step in zip(view.shape, view.strides):
            if n == 0:
                return
            lo += min(step, 0) * (n - 1)
            span += abs(step) * (n - 1)
        hi = min(lo + span, len(self))
        lo -= lo % mmap.PAGESIZE
        if 0 <= lo < hi:
            try:
                self.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
            except OSError:  # advice only: the pages stay, to be reclaimed as any
                pass

    def unchanged(self) -> bool:
        return _identity(os.fstat(self.fd)) == self.seen


def _identity(st) -> tuple:
    return st.st_size, st.st_mtime_ns


def unchanged(*arrays) -> bool:
    """False if the file under one of ``arrays`` (those on a ``Pages`` map) changed while it
    was mapped: written in place, so that what was read may mix two contents."""
    owners = [getattr(a, "base", None) for a in arrays]
    return all(o.unchanged() for o in owners if isinstance(o, Pages))
