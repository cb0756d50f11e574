"""xxh128 (XXH3, 128 bits: what ASC MHL calls ``xxh128``) of a whole file, resumable.

Chunk and sample hashes use the ``xxhash`` package's Python API. The whole-file hash of a
90 GB master takes hours at a capped rate, and a restart should not read it again from the
first byte; the Python API cannot save a running hash (no pickling, no state export). The C
library inside the same package can (its extension module exports xxHash's C API): its
streaming state ``XXH3_state_t`` is a plain struct whose only pointer (``extSecret``, the last
field) points at the library's built-in secret when no custom secret is used, so its bytes
saved after a finished chunk, with that pointer set to this process's built-in secret,
continue the same hash in another process. ``Xxh128`` drives it through ``ctypes``.

Nothing is trusted blindly: the first use proves the pointer's offset (a state reset with a
secret of ours must hold that secret's address there), checks a save/restore round trip and
the result against the Python API on a known input, and snapshots carry the library version
and state size: one taken by another library (another worker host with another release) is
refused, never misread, and that file is hashed from the start. If the check fails, hashing
goes on with the Python API and ``snapshot()`` returns None (a WARNING says a restart will
hash that file from the start).
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import struct
from typing import Any

import xxhash
from xxhash import _xxhash as _xxhash_module  # type: ignore[attr-defined]  # C extension

log = logging.getLogger(__name__)

# sizeof(XXH3_state_t) in xxHash 0.8.x on 64-bit: acc[8] (64) + customSecret (192) + buffer
# (256) + 2 x u32 + 7 x 8-byte fields (64) = 576, aligned to 64. The self-check proves it.
_STATE_SIZE = 576
_EXT_SECRET = 568  # offset of ``const unsigned char* extSecret``, the last field
_POINTER = struct.Struct("<Q")
_MAGIC = b"XXH3S1"
_HEADER = struct.Struct("<6sII")  # magic, library version number, state size


class _Hash128(ctypes.Structure):
    _fields_ = (("low64", ctypes.c_uint64), ("high64", ctypes.c_uint64))


class _Library:
    """The C functions used, with their signatures."""

    def __init__(self, lib: Any) -> None:
        self.version = int(lib.XXH_versionNumber())
        self.create = lib.XXH3_createState
        self.create.restype = ctypes.c_void_p
        self.create.argtypes = []
        self.free = lib.XXH3_freeState
        self.free.argtypes = [ctypes.c_void_p]
        self.reset = lib.XXH3_128bits_reset
        self.reset.argtypes = [ctypes.c_void_p]
        self.reset_with_secret = lib.XXH3_128bits_reset_withSecret
        self.reset_with_secret.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
        self.update = lib.XXH3_128bits_update
        self.update.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
        self.digest = lib.XXH3_128bits_digest
        self.digest.argtypes = [ctypes.c_void_p]
        self.digest.restype = _Hash128


@functools.cache
def _library() -> _Library | None:
    """The checked C library, or None (then hashes are not resumable; warned once)."""
    try:
        lib = _Library(ctypes.CDLL(_xxhash_module.__file__))
    except (OSError, AttributeError) as exc:
        log.warning("xxhash's C library not usable (%s): hashes restart after a kill", exc)
        return None
    if lib.version // 100 != 8:  # 0.8.x: the state layout this module knows
        log.warning("xxHash %d is not 0.8.x: hashes restart after a kill", lib.version)
        return None
    if not _self_check(lib):
        log.warning("xxHash state save/restore failed its check: hashes restart after a kill")
        return None
    return lib


def _self_check(lib: _Library) -> bool:
    if ctypes.sizeof(ctypes.c_void_p) != _POINTER.size:
        return False
    secret = ctypes.create_string_buffer(os.urandom(192), 192)
    probe = _CState(lib)
    lib.reset_with_secret(probe._ptr, ctypes.addressof(secret), 192)
    raw = ctypes.string_at(probe._ptr, _STATE_SIZE)
    if _POINTER.unpack_from(raw, _EXT_SECRET)[0] != ctypes.addressof(secret):
        return False  # not the layout this module knows
    data = os.urandom(4099)
    first = _CState(lib)
    first.update(data[:1501])
    second = _CState(lib, first.save())
    second.update(data[1501:])
    return second.hexdigest() == xxhash.xxh3_128_hexdigest(data)


class _PyBuffer(ctypes.Structure):
    """CPython's ``Py_buffer`` (the buffer protocol's view of any bytes-like object)."""

    _fields_ = (
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.py_object),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p),
        ("shape", ctypes.c_void_p),
        ("strides", ctypes.c_void_p),
        ("suboffsets", ctypes.c_void_p),
        ("internal", ctypes.c_void_p),
    )


_GET_BUFFER = ctypes.pythonapi.PyObject_GetBuffer
_GET_BUFFER.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
_GET_BUFFER.restype = ctypes.c_int
_RELEASE_BUFFER = ctypes.pythonapi.PyBuffer_Release
_RELEASE_BUFFER.argtypes = [ctypes.POINTER(_PyBuffer)]
_PYBUF_SIMPLE = 0  # contiguous bytes, read-only is fine


class _CState:
    """One XXH3-128 streaming state in C memory."""

    def __init__(self, lib: _Library, saved: bytes | None = None) -> None:
        self._lib = lib
        self._ptr = lib.create()
        if not self._ptr:
            raise MemoryError("XXH3_createState failed")
        lib.reset(self._ptr)
        if saved is not None:
            # The saved pointer to the built-in secret belongs to the process that saved it;
            # this process's is in the freshly reset state.
            here = ctypes.string_at(self._ptr + _EXT_SECRET, _POINTER.size)
            patched = saved[:_EXT_SECRET] + here + saved[_EXT_SECRET + _POINTER.size :]
            ctypes.memmove(self._ptr, patched, _STATE_SIZE)

    def __del__(self) -> None:
        ptr, self._ptr = getattr(self, "_ptr", None), None
        if ptr:
            self._lib.free(ptr)

    def update(self, data: bytes | bytearray | memoryview) -> None:
        # The buffer protocol gives the address of any contiguous bytes-like object (a
        # read-only memoryview slice included) without copying it.
        view = _PyBuffer()
        if _GET_BUFFER(data, ctypes.byref(view), _PYBUF_SIMPLE) != 0:  # pragma: no cover
            raise TypeError("not a contiguous bytes-like object")
        try:
            if view.len:
                self._lib.update(self._ptr, view.buf, view.len)
        finally:
            _RELEASE_BUFFER(ctypes.byref(view))

    def save(self) -> bytes:
        raw = ctypes.string_at(self._ptr, _STATE_SIZE)
        return raw[:_EXT_SECRET] + bytes(_POINTER.size) + raw[_EXT_SECRET + _POINTER.size :]

    def hexdigest(self) -> str:
        value = self._lib.digest(self._ptr)
        return f"{(value.high64 << 64) | value.low64:032x}"


class Xxh128:
    """A streaming whole-file xxh128 whose state can be saved after any update."""

    def __init__(self, snapshot: bytes | None = None) -> None:
        """A fresh hash, or one continued from ``snapshot`` (``ValueError`` if unusable)."""
        lib = _library()
        self._py: Any = None
        self._c: _CState | None = None
        if snapshot is not None:
            if lib is None or not snapshot_usable(snapshot):
                raise ValueError("hash snapshot taken by another xxhash library")
            self._c = _CState(lib, snapshot[_HEADER.size :])
        elif lib is not None:
            self._c = _CState(lib)
        else:
            self._py = xxhash.xxh3_128()

    @property
    def resumable(self) -> bool:
        return self._c is not None

    def update(self, data: bytes | bytearray | memoryview) -> None:
        if self._c is not None:
            self._c.update(data)
        else:
            self._py.update(data)

    def snapshot(self) -> bytes | None:
        """The saved state (with a header naming the library), or None when not resumable."""
        lib = _library()
        if self._c is None or lib is None:
            return None
        return _HEADER.pack(_MAGIC, lib.version, _STATE_SIZE) + self._c.save()

    def hexdigest(self) -> str:
        if self._c is not None:
            return self._c.hexdigest()
        return str(self._py.hexdigest())


def snapshot_usable(snapshot: bytes) -> bool:
    """True when ``snapshot`` was taken by the library this process uses."""
    lib = _library()
    if lib is None or len(snapshot) != _HEADER.size + _STATE_SIZE:
        return False
    magic, version, size = _HEADER.unpack_from(snapshot)
    return bool(magic == _MAGIC and version == lib.version and size == _STATE_SIZE)


def xxh128_hex(data: bytes | bytearray | memoryview) -> str:
    """xxh128 of ``data`` (the ``xxhash`` package), as 32 lower-case hex digits."""
    return str(xxhash.xxh3_128_hexdigest(data))
