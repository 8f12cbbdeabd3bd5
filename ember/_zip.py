"""The zip container of torch.save's files, laid out as torch 2.13 writes it.

Every record is stored uncompressed under `<archive>/`, its data starts at a multiple of 64
bytes (the local header's extra field holds 'FB', a length and 'Z' padding, so torch can mmap
storages), sizes and CRC follow the data in a data descriptor, and the archive ends with a
zip64 end-of-central-directory record. Records over 4 GiB use zip64 extra fields.
"""
import struct
import zlib

ALIGNMENT = 64
_MAX32 = 0xFFFFFFFF                 # a 4-byte field holding this defers to the zip64 extra
_ZIP64_LIMIT = _MAX32               # sizes and offsets from here on need zip64 fields
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_FLAGS = 0x0808                 # bit 3: sizes in a data descriptor; bit 11: UTF-8 names


def _zip64_extra(fields):
    return struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields) if fields else b""


class ZipWriter:
    """Writes records to a binary stream; offsets count from where writing started."""

    def __init__(self, stream, archive_name):
        self._f = stream
        self._prefix = archive_name + "/"
        self._pos = 0
        self._entries = []          # (name, crc, size, header offset)

    def _write(self, data):
        self._f.write(data)
        self._pos += memoryview(data).nbytes

    def write_record(self, name, data):
        """Store `data` (bytes or a C-contiguous buffer) as `<archive>/name`."""
        name = (self._prefix + name).encode("utf-8")
        data = memoryview(data).cast("B")
        size, offset = data.nbytes, self._pos
        big_size, big_offset = size >= _ZIP64_LIMIT, offset >= _ZIP64_LIMIT
        zip64 = _zip64_extra(([size, size] if big_size else []) + ([offset] if big_offset else []))
        start = offset + _LOCAL.size + len(name) + len(zip64) + 4
        pad = -start % ALIGNMENT
        extra = zip64 + b"FB" + struct.pack("<H", pad) + b"Z" * pad
        flags = _FLAGS if size else _FLAGS & ~8       # an empty record has no descriptor
        self._write(_LOCAL.pack(0x04034B50, 0, flags, 0, 0, 0, 0, 0, 0, len(name), len(extra))
                    + name + extra)
        crc = zlib.crc32(data)
        if size:
            self._write(data)
            self._write(struct.pack("<IIQQ" if big_size else "<IIII", 0x08074B50, crc, size, size))
        self._entries.append((name, crc, size, offset))
        return crc

    def finish(self):
        """Write the central directory and the (zip64) end records."""
        cd_start = self._pos
        for name, crc, size, offset in self._entries:
            big_size, big_offset = size >= _ZIP64_LIMIT, offset >= _ZIP64_LIMIT
            extra = _zip64_extra(([size, size] if big_size else [])
                                 + ([offset] if big_offset else []))
            small = _MAX32 if big_size else size
            flags = _FLAGS if size else _FLAGS & ~8
            self._write(_CENTRAL.pack(0x02014B50, 0, 45 if extra else 0, flags, 0, 0, 0, crc,
                                      small, small, len(name), len(extra), 0, 0, 0, 0,
                                      _MAX32 if big_offset else offset) + name + extra)
        n, cd_size, eocd64 = len(self._entries), self._pos - cd_start, self._pos
        self._write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 0x031E, 45, 0, 0, n, n, cd_size,
                                cd_start))
        self._write(struct.pack("<IIQI", 0x07064B50, 0, eocd64, 1))
        self._write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(n, 0xFFFF), min(n, 0xFFFF),
                                min(cd_size, _MAX32), min(cd_start, _MAX32), 0))


def data_offset(stream, info):
    """Where the bytes of a zipfile.ZipInfo's record start in `stream`."""
    stream.seek(info.header_offset)
    header = stream.read(_LOCAL.size)
    if len(header) != _LOCAL.size or header[:4] != b"PK\x03\x04":
        raise ValueError(f"bad local header for record {info.filename!r}")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return info.header_offset + _LOCAL.size + name_len + extra_len
