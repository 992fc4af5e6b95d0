"""Recording media: short silent audio files that carry what the caller said.

The simulator has no speech, so a recording is silence whose words travel inside the file:
a WAV ``LIST/INFO/ICMT`` chunk, or an MP3 ID3v2.4 ``TIT2`` frame. Both are ordinary
metadata any player ignores, so the product can proxy the bytes untouched, and the TwiML
interpreter can still read out what a ``<Play>`` of that recording would sound like.
"""

from __future__ import annotations

import io
import struct
import wave

_SAMPLE_RATE = 8000
# One silent MPEG-1 Layer III frame: 128 kbit/s, 44.1 kHz, mono, all side info zero.
_MP3_FRAME = bytes([0xFF, 0xFB, 0x90, 0xC0]) + bytes(413)


def silent_wav(text: str, seconds: float = 1.0) -> bytes:
    """Return a mono 8 kHz WAV of silence whose INFO comment is ``text``."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(_SAMPLE_RATE)
        out.writeframes(bytes(2 * int(_SAMPLE_RATE * max(0.1, min(seconds, 2.0)))))
    riff = buffer.getvalue()
    comment = text.encode("utf-8") + b"\0"
    if len(comment) % 2:
        comment += b"\0"
    info = b"INFO" + b"ICMT" + struct.pack("<I", len(comment)) + comment
    chunk = b"LIST" + struct.pack("<I", len(info)) + info
    body = riff[8:] + chunk
    return b"RIFF" + struct.pack("<I", len(body)) + body


def silent_mp3(text: str) -> bytes:
    """Return a short silent MP3 whose ID3v2.4 title frame is ``text``."""
    payload = b"\x03" + text.encode("utf-8")
    frame = b"TIT2" + _syncsafe(len(payload)) + b"\0\0" + payload
    header = b"ID3\x04\x00\x00" + _syncsafe(len(frame))
    return header + frame + _MP3_FRAME * 4


def transcript_of(media: bytes) -> str | None:
    """Return the words carried by a simulator recording, or None for any other file."""
    if media.startswith(b"RIFF") and media[8:12] == b"WAVE":
        return _wav_comment(media)
    if media.startswith(b"ID3\x04"):
        return _id3_title(media)
    return None


def _syncsafe(number: int) -> bytes:
    """Encode a size as ID3v2.4's four seven-bit bytes."""
    return bytes((number >> shift) & 0x7F for shift in (21, 14, 7, 0))


def _wav_comment(media: bytes) -> str | None:
    """Find the ICMT text in a RIFF file's LIST/INFO chunk."""
    position = 12
    while position + 8 <= len(media):
        chunk_id = media[position : position + 4]
        (size,) = struct.unpack("<I", media[position + 4 : position + 8])
        start = position + 8
        if chunk_id == b"LIST" and media[start : start + 4] == b"INFO":
            sub = start + 4
            while sub + 8 <= start + size:
                (sub_size,) = struct.unpack("<I", media[sub + 4 : sub + 8])
                if media[sub : sub + 4] == b"ICMT":
                    raw = media[sub + 8 : sub + 8 + sub_size]
                    return raw.rstrip(b"\0").decode("utf-8", "replace")
                sub += 8 + sub_size + (sub_size % 2)
        position = start + size + (size % 2)
    return None


def _id3_title(media: bytes) -> str | None:
    """Read the TIT2 frame of an ID3v2.4 tag written by ``silent_mp3``."""
    if media[10:14] != b"TIT2":
        return None
    size = 0
    for byte in media[14:18]:
        size = (size << 7) | byte
    payload = media[20 : 20 + size]
    return payload[1:].decode("utf-8", "replace")
