"""Order-preserving tuple encoding for store keys.

``pack(t)`` turns a tuple into bytes such that, for tuples whose elements have
the same type position by position, comparing the bytes (unsigned, memcmp)
gives the same order as comparing the tuples. A tuple that is a prefix of
another sorts before it. The layout follows FoundationDB's tuple layer where it
has a type for the job; Decimal is an addition for DynamoDB numbers.

Type codes, in cross-type order:

====== =========================================================================
0x00   None (inside a nested tuple: 0x00 0xFF, because 0x00 ends the tuple)
0x01   bytes: 0x00 escaped as 0x00 0xFF, terminated by 0x00
0x02   str: UTF-8 (lone surrogates allowed), escaped and terminated like bytes
0x05   nested tuple: its elements, then 0x00
0x0B   negative int of more than 8 bytes: complemented length, then the one's
       complement of the magnitude
0x0C..0x13  negative int of 8..1 bytes, one's complement, big-endian
0x14   int zero
0x15..0x1C  positive int of 1..8 bytes, big-endian
0x1D   positive int of more than 8 bytes: length (encoded as an int), magnitude
0x21   float (IEEE double, sign bit flipped, all bits flipped when negative);
       -0.0 is stored as 0.0 and every NaN as the one canonical NaN
0x26   False
0x27   True
0x40   Decimal -Infinity
0x41   Decimal < 0   (the 0x43 layout with every byte complemented,
                      terminated by 0xFF)
0x42   Decimal zero  (also -0, 0E+5, 0.000 ...)
0x43   Decimal > 0   value = 0.d1d2...dn x 10**E with dn != 0: E as an int
                     (0x14-relative code + bytes), then the digits packed two
                     per byte as nibbles d+1 (odd counts padded with a 0
                     nibble), then 0x00
0x44   Decimal +Infinity
====== =========================================================================

Equal Decimals encode identically (``Decimal('1.0')`` and ``Decimal('1')``);
they come back normalised (no trailing zeros: ``Decimal('1.2E+3')`` for
``Decimal('1200')``), which compares equal. Decimal has its own type code and
does not interleave with int or float.

``prefix_range(p)`` gives ``(start, end)`` bytes covering every key ``k`` with
``k[:len(p)] == p`` -- the prefix itself included.
"""

from __future__ import annotations

import binascii
import functools
import struct
from decimal import Decimal

__all__ = ["pack", "unpack", "prefix_range", "KeyEncodingError"]


class KeyEncodingError(ValueError):
    """Bytes that are not a valid packed tuple."""


_NONE = 0x00
_BYTES = 0x01
_STR = 0x02
_NESTED = 0x05
_NEG_BIG = 0x0B
_INT_ZERO = 0x14
_POS_BIG = 0x1D
_DOUBLE = 0x21
_FALSE = 0x26
_TRUE = 0x27
_DEC_NEG_INF = 0x40
_DEC_NEG = 0x41
_DEC_ZERO = 0x42
_DEC_POS = 0x43
_DEC_POS_INF = 0x44

_B_NONE = b"\x00"
_B_NONE_NESTED = b"\x00\xff"
_B_BYTES = b"\x01"
_B_STR = b"\x02"
_B_NESTED = b"\x05"
_B_END = b"\x00"
_B_ESC = b"\x00\xff"
_B_INT_ZERO = b"\x14"
_B_FALSE = b"\x26"
_B_TRUE = b"\x27"
_B_DEC_NEG_INF = b"\x40"
_B_DEC_NEG = b"\x41"
_B_DEC_ZERO = b"\x42"
_B_DEC_POS = b"\x43"
_B_DEC_POS_INF = b"\x44"
_B_FF = b"\xff"

# Code bytes for ints of 1..8 bytes (index = byte count).
_POS_CODE = [bytes([_INT_ZERO + n]) for n in range(9)]
_NEG_CODE = [bytes([_INT_ZERO - n]) for n in range(9)]
# Precomputed encodings of small ints, the common case for sequence numbers.
_POS_MAX = 1 << 64
_SMALL_MIN = -256
_SMALL_MAX = 4096
_SMALL_INTS: list[bytes] = []

_pack_BQ = struct.Struct(">BQ").pack
_pack_d = struct.Struct(">d").pack
_unpack_Q = struct.Struct(">Q").unpack
_unpack_d = struct.Struct(">d").unpack
_pack_Q = struct.Struct(">Q").pack
_unpack_from_Q = struct.Struct(">Q").unpack_from
_SIGN = 1 << 63
_ALL64 = (1 << 64) - 1
_CANONICAL_NAN_BITS = _unpack_Q(_pack_d(float("nan")))[0]

_INVERT = bytes(b ^ 0xFF for b in range(256))
# digit values 0..9 (as bytes) -> hex characters '1'..'a' (nibble = digit + 1)
_DIGIT_TO_HEX = bytes.maketrans(bytes(range(10)), b"123456789a")
# hex characters '1'..'a' -> ASCII digits '0'..'9'
_HEX_TO_ASCII = bytes.maketrans(b"123456789a", b"0123456789")


def _int_bytes(v: int) -> bytes:
    """Encoding of an int including its type code (no cache)."""
    if v > 0:
        n = (v.bit_length() + 7) >> 3
        if n <= 8:
            return _POS_CODE[n] + v.to_bytes(n, "big")
        return b"\x1d" + _int_bytes(n) + v.to_bytes(n, "big")
    if v < 0:
        n = ((-v).bit_length() + 7) >> 3
        if n <= 8:
            return _NEG_CODE[n] + (v + (1 << (n << 3)) - 1).to_bytes(n, "big")
        return b"\x0b" + _int_bytes(n).translate(_INVERT) + (v + (1 << (n << 3)) - 1).to_bytes(n, "big")
    return _B_INT_ZERO


_SMALL_INTS.extend(_int_bytes(i) for i in range(_SMALL_MIN, _SMALL_MAX))


def _int_enc(v: int) -> bytes:
    if _SMALL_MIN <= v < _SMALL_MAX:
        return _SMALL_INTS[v - _SMALL_MIN]
    return _int_bytes(v)


def int_elem(v: int) -> bytes:
    """One int as a packed element: ``pack(a + (v,) + b) == pack(a) + int_elem(v) + pack(b)``,
    so a hot key can be built by concatenation (~2x cheaper than ``pack``)."""
    if 0 < v < _POS_MAX:  # seqs and timestamps
        n = (v.bit_length() + 7) >> 3
        return _POS_CODE[n] + v.to_bytes(n, "big")
    return _int_enc(v)


# Encoded str elements (code + escaped UTF-8 + terminator) by value: the same
# few names (service, account, region, queue/table names) make up most keys,
# and a dict hit is ~3x cheaper than str.encode + concatenation. Bounded by
# clearing when full; long strings are not cached.
_STR_CACHE: dict[str, bytes] = {}
_STR_CACHE_MAX = 8192
_STR_CACHE_MAX_LEN = 128


def _str_elem(s: str) -> bytes:
    e = _STR_CACHE.get(s)
    if e is not None:
        return e
    try:
        b = s.encode()
    except UnicodeEncodeError:
        b = s.encode("utf-8", "surrogatepass")
    if b"\x00" in b:
        b = b.replace(b"\x00", _B_ESC)
    e = _B_STR + b + _B_END
    if len(s) <= _STR_CACHE_MAX_LEN:
        if len(_STR_CACHE) >= _STR_CACHE_MAX:
            _STR_CACHE.clear()
        _STR_CACHE[s] = e
    return e


# One str as a packed element (see ``int_elem``); _str_elem looks in the cache first.
str_elem = _str_elem


def bytes_elem(b: bytes) -> bytes:
    """One bytes value as a packed element (see ``int_elem``)."""
    return _B_BYTES + (b.replace(b"\x00", _B_ESC) if b"\x00" in b else b) + _B_END


def _float_enc(v: float) -> bytes:
    if v == 0.0:
        return b"\x21\x80\x00\x00\x00\x00\x00\x00\x00"
    u = _unpack_Q(_pack_d(v))[0]
    if v != v:
        u = _CANONICAL_NAN_BITS
    if u & _SIGN:
        u ^= _ALL64
    else:
        u ^= _SIGN
    return _pack_BQ(_DOUBLE, u)


def _decimal_enc(d: Decimal) -> bytes:
    sign, digits, exp = d.as_tuple()
    if type(exp) is not int:
        if exp == "F":
            return _B_DEC_NEG_INF if sign else _B_DEC_POS_INF
        raise ValueError(f"cannot pack {d!r} in a key: NaN has no order")
    raw = bytes(digits).rstrip(b"\x00")
    if not raw:
        return _B_DEC_ZERO
    # value = 0.d1..dn * 10**E;  E = adjusted() + 1 = exp + len(digits)
    e = _int_enc(exp + len(digits))
    h = raw.translate(_DIGIT_TO_HEX)
    if len(h) & 1:
        h += b"0"
    m = binascii.unhexlify(h)
    if sign:
        return _B_DEC_NEG + (e + m).translate(_INVERT) + _B_FF
    return _B_DEC_POS + e + m + _B_END


def _encode(v, app, nested: bool) -> None:
    """Append the encoding of any supported value (slow path, all types)."""
    tp = type(v)
    if tp is str:
        app(_str_elem(v))
    elif tp is int:
        app(_int_enc(v))
    elif tp is bytes:
        app(_B_BYTES)
        app(v.replace(b"\x00", _B_ESC) if b"\x00" in v else v)
        app(_B_END)
    elif v is None:
        app(_B_NONE_NESTED if nested else _B_NONE)
    elif tp is bool:
        app(_B_TRUE if v else _B_FALSE)
    elif tp is tuple:
        app(_B_NESTED)
        for x in v:
            _encode(x, app, True)
        app(_B_END)
    elif tp is Decimal:
        app(_decimal_enc(v))
    elif tp is float:
        app(_float_enc(v))
    # subclasses (IntEnum, StrEnum, ...) encode as their base type
    elif isinstance(v, bool):
        app(_B_TRUE if v else _B_FALSE)
    elif isinstance(v, int):
        app(_int_enc(int(v)))
    elif isinstance(v, str):
        app(_str_elem(str.__str__(v)))  # plain value (str(StrEnum member) is its name)
    elif isinstance(v, (bytes, bytearray, memoryview)):
        _encode(bytes(v), app, nested)
    elif isinstance(v, Decimal):
        app(_decimal_enc(Decimal(v)))
    elif isinstance(v, float):
        app(_float_enc(float(v)))
    elif isinstance(v, tuple):
        _encode(tuple(v), app, nested)
    else:
        raise TypeError(f"cannot pack {tp.__name__} in a key: {v!r}")


def pack(t: tuple) -> bytes:
    """Encode a tuple order-preservingly."""
    if type(t) is not tuple:
        if not isinstance(t, tuple):
            raise TypeError(f"keys are tuples, got {type(t).__name__}: {t!r}")
    parts: list[bytes] = []
    app = parts.append
    cache = _STR_CACHE
    for v in t:
        # inline fast paths for the two types nearly every key is made of
        tp = type(v)
        if tp is str:
            e = cache.get(v)
            app(e if e is not None else _str_elem(v))
        elif tp is int:
            if _SMALL_MIN <= v < _SMALL_MAX:
                app(_SMALL_INTS[v - _SMALL_MIN])
            elif 0 < v < _POS_MAX:  # seqs, timestamps: positive, up to 8 bytes
                n = (v.bit_length() + 7) >> 3
                app(_POS_CODE[n] + v.to_bytes(n, "big"))
            else:
                app(_int_bytes(v))
        else:
            _encode(v, app, False)
    return b"".join(parts)


# ``pack`` for the keys and prefixes requests name again and again (a table's or a
# queue's record, its data prefix, a queried partition): a hit costs a hash of the tuple.
pack_remembered = functools.lru_cache(maxsize=4096)(pack)


def prefix_range(prefix: tuple) -> tuple[bytes, bytes]:
    """``(start, end)``, start inclusive and end exclusive, covering every key
    that begins with ``prefix`` (the prefix itself included). Every element
    starts with a type code below 0xFF, so ``packed + 0xFF`` bounds them all."""
    p = pack(prefix)
    return p, p + _B_FF


# ---------------------------------------------------------------- decoding


def _find_end(b: bytes, pos: int) -> tuple[bytes, int]:
    """Raw (still escaped-decoded) payload of a bytes/str element starting at
    ``pos``; returns (payload, position after the terminator)."""
    end = b.find(b"\x00", pos)
    if end < 0:
        raise KeyEncodingError("unterminated bytes/str element")
    n = len(b)
    if end + 1 < n and b[end + 1] == 0xFF:
        pieces = []
        while True:
            if end < 0:
                raise KeyEncodingError("unterminated bytes/str element")
            if end + 1 < n and b[end + 1] == 0xFF:
                pieces.append(b[pos : end + 1])
                pos = end + 2
                end = b.find(b"\x00", pos)
                continue
            pieces.append(b[pos:end])
            return b"".join(pieces), end + 1
    return b[pos:end], end + 1


def _decode_str(raw: bytes) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        try:
            return raw.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError as e:
            raise KeyEncodingError(f"invalid UTF-8 in str element: {e}") from None


def _decode_int(b: bytes, pos: int, code: int) -> tuple[int, int]:
    """Int whose code byte ``code`` sits at ``pos - 1``."""
    if _INT_ZERO < code < _POS_BIG:
        n = code - _INT_ZERO
        end = pos + n
        if end > len(b):
            raise KeyEncodingError("truncated int")
        return int.from_bytes(b[pos:end], "big"), end
    if _NEG_BIG < code < _INT_ZERO:
        n = _INT_ZERO - code
        end = pos + n
        if end > len(b):
            raise KeyEncodingError("truncated int")
        return int.from_bytes(b[pos:end], "big") - (1 << (n << 3)) + 1, end
    if code == _INT_ZERO:
        return 0, pos
    if code == _POS_BIG:
        if pos >= len(b):
            raise KeyEncodingError("truncated int")
        n, pos = _decode_int(b, pos + 1, b[pos])
        end = pos + n
        if n <= 8 or end > len(b):
            raise KeyEncodingError("bad big int")
        return int.from_bytes(b[pos:end], "big"), end
    if code == _NEG_BIG:
        if pos >= len(b):
            raise KeyEncodingError("truncated int")
        # the length is stored complemented: decode it from inverted bytes
        c = b[pos] ^ 0xFF
        if not (_INT_ZERO < c < _POS_BIG):
            raise KeyEncodingError("bad big int")
        ln = c - _INT_ZERO
        if pos + 1 + ln > len(b):
            raise KeyEncodingError("truncated int")
        n = int.from_bytes(b[pos + 1 : pos + 1 + ln].translate(_INVERT), "big")
        pos = pos + 1 + ln
        end = pos + n
        if n <= 8 or end > len(b):
            raise KeyEncodingError("bad big int")
        return int.from_bytes(b[pos:end], "big") - (1 << (n << 3)) + 1, end
    raise KeyEncodingError(f"not an int code: {code:#x}")


def _decode_decimal_body(body: bytes, negative: bool) -> Decimal:
    """``body`` = E (int encoding) + packed digits, uncomplemented."""
    if not body:
        raise KeyEncodingError("empty decimal")
    e, p = _decode_int(body, 1, body[0])
    h = binascii.hexlify(body[p:])
    if h.endswith(b"0"):
        h = h[:-1]
    if not h:
        raise KeyEncodingError("decimal without digits")
    digits = h.translate(_HEX_TO_ASCII).decode("ascii")
    exp = e - len(digits)
    return Decimal(f"{'-' if negative else ''}{digits}E{exp}")


def _decode_one(b: bytes, pos: int, nested: bool):
    """Decode the element whose code byte is at ``pos``; returns (value, next
    position), or (_END, next position) at the 0x00 that closes a nested tuple."""
    n = len(b)
    code = b[pos]
    pos += 1
    if code == _STR:
        raw, pos = _find_end(b, pos)
        return _decode_str(raw), pos
    if _NEG_BIG <= code <= _POS_BIG:
        return _decode_int(b, pos, code)
    if code == _NONE:
        if not nested:
            return None, pos
        if pos < n and b[pos] == 0xFF:
            return None, pos + 1
        return _END, pos  # end of the nested tuple
    if code == _BYTES:
        return _find_end(b, pos)
    if code == _NESTED:
        out = []
        while True:
            if pos >= n:
                raise KeyEncodingError("unterminated nested tuple")
            v, pos = _decode_one(b, pos, True)
            if v is _END:
                return tuple(out), pos
            out.append(v)
    if code == _TRUE:
        return True, pos
    if code == _FALSE:
        return False, pos
    if code == _DOUBLE:
        if pos + 8 > n:
            raise KeyEncodingError("truncated float")
        u = _unpack_from_Q(b, pos)[0]
        if u & _SIGN:
            u ^= _SIGN
        else:
            u ^= _ALL64
        return _unpack_d(_pack_Q(u))[0], pos + 8
    if code == _DEC_POS:
        # E's bytes may hold 0x00: skip them (their length is in E's code byte)
        if pos >= n:
            raise KeyEncodingError("truncated decimal")
        _, dstart = _decode_int(b, pos + 1, b[pos])
        end = b.find(b"\x00", dstart)
        if end < 0:
            raise KeyEncodingError("unterminated decimal")
        return _decode_decimal_body(b[pos:end], False), end + 1
    if code == _DEC_NEG:
        if pos >= n:
            raise KeyEncodingError("truncated decimal")
        c = b[pos] ^ 0xFF
        _, dstart = _decode_int(b[pos : pos + 10].translate(_INVERT), 1, c)
        end = b.find(b"\xff", pos + dstart)
        if end < 0:
            raise KeyEncodingError("unterminated decimal")
        return _decode_decimal_body(b[pos:end].translate(_INVERT), True), end + 1
    if code == _DEC_ZERO:
        return _DECIMAL_ZERO, pos
    if code == _DEC_POS_INF:
        return _DECIMAL_INF, pos
    if code == _DEC_NEG_INF:
        return _DECIMAL_NEG_INF, pos
    raise KeyEncodingError(f"unknown type code {code:#x} at offset {pos - 1}")


_END = object()
_DECIMAL_ZERO = Decimal(0)
_DECIMAL_INF = Decimal("Infinity")
_DECIMAL_NEG_INF = Decimal("-Infinity")


def unpack(b: bytes) -> tuple:
    """Decode bytes made by :func:`pack`."""
    out = []
    app = out.append
    pos = 0
    n = len(b)
    find = b.find
    while pos < n:
        code = b[pos]
        # inline fast paths: unescaped str, small non-negative int
        if code == _STR:
            end = find(b"\x00", pos + 1)
            if end >= 0 and (end + 1 >= n or b[end + 1] != 0xFF):
                raw = b[pos + 1 : end]
                try:
                    app(raw.decode())
                except UnicodeDecodeError:
                    app(_decode_str(raw))
                pos = end + 1
                continue
        elif _INT_ZERO < code < _POS_BIG:
            end = pos + 1 + code - _INT_ZERO
            if end <= n:
                app(int.from_bytes(b[pos + 1 : end], "big"))
                pos = end
                continue
        v, pos = _decode_one(b, pos, False)
        app(v)
    return tuple(out)
