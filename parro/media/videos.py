"""Videos: copied by ffmpeg into a new MP4 that carries the pictures and the sound only.

Phones write where and with what a video was made into the file: a GPS
position (`©xyz` in the MP4's udta box, Apple's
`com.apple.quicktime.location.ISO6709` in its meta box), the camera's make,
model and software, dates, sometimes a GPS track as a stream of its own.
ffmpeg copies the first video stream and the first audio stream into a new
MP4, without re-encoding them (seconds for 200 MB), and nothing else: no
global or per-stream metadata, no chapters, no other streams, no encoder tag
or creation time (bitexact), no handler names. (ffmpeg's MP4 writer always
adds an empty iTunes metadata box, udta/meta/ilst without entries.) It reads
only the MP4/QuickTime format and only from the local file, never from a URL
a file might name.

ffmpeg is a program of the operating system (Debian: `apt-get install
ffmpeg`), found on PATH or at MEDIA_FFMPEG. Without it videos are refused
with a message that says so, and the log says why.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from flask_babel import lazy_gettext as _l

from .errors import UploadError

log = logging.getLogger(__name__)

# Far more than a remux of the largest allowed video takes; a file that makes
# ffmpeg work longer is refused rather than holding the worker.
TIMEOUT_SECONDS = 120


def remux(source: Path, target: Path, ffmpeg: str | None) -> None:
    """Write the video in `source` to `target` as an MP4 without metadata; UploadError if not."""
    if ffmpeg is None:
        log.error("a video was refused: ffmpeg is not installed (apt-get install ffmpeg, "
                  "or set MEDIA_FFMPEG)")
        raise UploadError(_l("video's kunnen nu niet worden verwerkt, omdat het programma "
                             "daarvoor (ffmpeg) op de server ontbreekt. Laat het de beheerder "
                             "weten."))
    command = [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-protocol_whitelist", "file", "-f", "mov", "-i", str(source),
        "-map", "0:V:0", "-map", "0:a:0?", "-c", "copy",
        "-map_metadata", "-1", "-map_metadata:s", "-1", "-map_chapters", "-1",
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
        "-movflags", "+faststart", "-empty_hdlr_name", "1", "-f", "mp4", str(target),
    ]
    try:
        done = subprocess.run(command, capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        log.warning("ffmpeg took over %d s on a video; refused", TIMEOUT_SECONDS)
        done = None
    if done is None or done.returncode != 0:
        if done is not None:
            log.info("ffmpeg refused a video: %s", done.stderr.decode(errors="replace")[-500:])
        target.unlink(missing_ok=True)
        raise UploadError(_l("dit is geen geldige MP4-video, of de video is beschadigd."))
