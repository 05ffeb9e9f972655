"""Read an NPZ without trusting it: nothing unpickled, nothing allocated before it is checked.

Each member must be a ``.npy`` array of numbers or strings, stored once. Before any array is
read, the zip directory's declared sizes and each ``.npy`` header's shape and dtype are checked
against the bytes the member really holds and against a cap (``limits.npz_bytes`` in
``configs/``), so a small file that declares a huge member (a zip bomb) or an absurd shape is
refused, not inflated. A caller's ``precheck`` then sees the declared shapes (and may read a few
small members) before the arrays are read: a spec whose shapes cannot fit is refused for free.
"""

from __future__ import annotations

import io
import math
import struct
import zlib

import numpy as np

from . import npzmap
from ..errors import SpecError, quoted
from .sources import DEFAULT_LIMIT, NPY_MAGIC

_BROKEN = (zlib.error, EOFError, OSError, ValueError, KeyError, struct.error, NotImplementedError,
           RuntimeError, UnicodeDecodeError, OverflowError)


def _broken() -> tuple:
    """What a damaged NPZ raises; zipfile (8 ms of imports) is loaded only to read an NPZ."""
    import zipfile

    return (zipfile.BadZipFile, *_BROKEN)


class Unread:
    """A member whose header refused it (Python objects, records, ...), left unread: the
    SpecError is raised only where the member is used (``npz_arrays(..., defer=True)``)."""

    def __init__(self, error: SpecError):
        self.error = error


def npz_arrays(data, single: str, limit: int | None = None, precheck=None,
               defer: bool = False, mapped: tuple = (), map_if=None) -> dict:
    """Every member of an NPZ (its bytes, or a seekable binary file) as an array; SpecError
    ``single`` when it is one .npy. With ``defer``, a member whose header is refused becomes an
    ``Unread`` (a gradient file may hold a ``cache`` that names no gradient).

    A member named in ``mapped`` that is stored uncompressed in a regular file is read through
    a read-only memory map (``npzmap``), after the same checks; it is not held in memory, so
    it does not count against ``limit``, which caps what is. ``map_if(headers, read)``, if
    given, is called after ``precheck`` and says which of them may be mapped (not one its
    reader would copy whole); the others are read, and counted, as any member.

    ``precheck(headers, read)``, if given, is called once every header is checked and before
    any array is read: ``headers`` maps each member to its declared ``(shape, dtype)``, and
    ``read(key)`` reads one member (kept, not read again).
    """
    import zipfile

    limit = DEFAULT_LIMIT if limit is None else limit
    f = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    try:
        if f.read(len(NPY_MAGIC)) == NPY_MAGIC:
            raise SpecError(single)
        f.seek(0)
        archive = zipfile.ZipFile(f)
        infos = archive.infolist()
    except _broken():
        raise SpecError("is not a valid NPZ file") from None
    on_file = mapped and npzmap.regular_fd(f) is not None
    maps = {info.filename for info in infos if on_file and npzmap.mappable(info)
            and info.filename[:-4] in mapped and info.filename.endswith(".npy")}
    declared = sum(info.file_size for info in infos if info.filename not in maps)
    if declared > limit:
        raise SpecError(too_big(declared, limit, maps))
    with archive:
        members, headers, arrays = {}, {}, {}
        for info in infos:
            key = _key(info)
            if key in members:
                raise SpecError(f"is stored twice in the NPZ (two members "
                                f"{quoted(info.filename)}); an NPZ holds each array once, as "
                                "np.savez writes it", path=(key,))
            members[key] = info
            try:
                headers[key] = _header(archive, info, None if info.filename in maps else limit)
            except SpecError as e:
                if not defer or not e.path:
                    raise
                arrays[key] = Unread(e)

        def read(key: str) -> np.ndarray:
            if key not in arrays:
                info = members[key]
                arrays[key] = npzmap.mapped_member(f, info, headers[key], key) \
                    if info.filename in maps else _read(archive, info, key)
            return arrays[key]

        if precheck is not None:
            precheck(headers, read)
        if map_if is not None and maps:
            _unmap(maps, set(map_if(headers, read)), infos, archive, limit)
        return {key: read(key) for key in members}


def _unmap(maps: set, keep: set, infos: list, archive, limit: int) -> None:
    """Take the members not in ``keep`` out of ``maps``, and hold them to ``limit`` as any."""
    unmapped = {name for name in maps if name[:-4] not in keep}
    maps -= unmapped
    declared = sum(info.file_size for info in infos if info.filename not in maps)
    if declared > limit:
        raise SpecError(too_big(declared, limit, maps))
    for info in infos:
        if info.filename in unmapped:
            _header(archive, info, limit)


def _key(info) -> str:
    if not info.filename.endswith(".npy") or info.is_dir():
        raise SpecError(f"holds {quoted(info.filename)}, which is not a .npy array; an NPZ spec "
                        "holds only arrays, as np.savez writes them")
    return info.filename[:-4]


def too_big(declared: int, limit: int, maps=()) -> str:
    """The refusal of an NPZ declaring more than ``limit`` bytes of arrays held in memory, with
    the setting that raises it (``maps``: the members already left out of the count)."""
    room = -(-declared // (1 << 30)) << 30  # the next whole GiB
    unmapped = "" if maps else ("; with run --batch-chunk N, X and T stored uncompressed "
                                "(np.savez) are read from the file as needed and not counted")
    return (f"declares {declared:,} bytes of arrays, more than the limit of {limit:,} "
            f"(limits.npz_bytes in the settings); to raise it, give --config FILE with a FILE "
            f"holding `limits: {{npz_bytes: {room}}}`{unmapped}")


def _header(archive, info, limit: int | None):
    """Shape and dtype from the member's .npy header, checked before its data is read; a
    member with ``limit`` None (one to be mapped) is held only to the bytes it holds."""
    key = info.filename[:-4]
    try:
        with archive.open(info) as f:
            version = np.lib.format.read_magic(f)
            read = {(1, 0): np.lib.format.read_array_header_1_0,
                    (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read is None:
                raise SpecError(f"is a .npy of format version {version}, which nngrad does not read",
                                path=(key,))
            shape, _, dtype = read(f)
    except SpecError:
        raise
    except Exception:  # noqa: BLE001 - numpy parses the header with ast and tokenize, which
        # raise what they like on junk (TokenError, SyntaxError, TypeError, ...)
        raise SpecError("is not a valid .npy array (the NPZ is truncated or corrupt)",
                        path=(key,)) from None
    if dtype.hasobject:
        raise SpecError("holds Python objects, which nngrad never unpickles", path=(key,))
    if dtype.fields is not None or dtype.kind not in "biufUS":
        raise SpecError(f"has the dtype {dtype}; a spec's arrays hold numbers (or names, as "
                        "strings)", path=(key,))
    if any(n < 0 for n in shape):
        raise SpecError(f"declares the shape {quoted(shape)}, which has a negative length",
                        path=(key,))
    # an entry of no bytes (a string dtype of length 0) still counts one: 10**18 of them are refused
    nbytes = math.prod(shape) * max(dtype.itemsize, 1)
    if nbytes > (info.file_size if limit is None else min(limit, info.file_size)):
        size = f"{nbytes:,} bytes" if dtype.itemsize else f"{nbytes:,} entries"
        cap = "" if limit is None else f" (limit {limit:,})"
        raise SpecError(f"declares the shape {quoted(shape)} of {dtype} ({size}), but the member "
                        f"holds {info.file_size:,} bytes{cap}", path=(key,))
    return tuple(shape), dtype


def _read(archive, info, key: str) -> np.ndarray:
    try:
        with archive.open(info) as f:
            return np.lib.format.read_array(f, allow_pickle=False)
    except _broken():
        raise SpecError("is not a valid .npy array (the NPZ is truncated or corrupt)",
                        path=(key,)) from None
