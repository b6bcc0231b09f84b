"""How long does a teacher wait for 20 phone photos? Measures the upload pipeline.

    .venv/bin/python bench/photos.py [--photos 20] [--megapixels 12] [--workers 2] [--heic]

Makes camera-like JPEGs (4000 x 3000 for 12 MP, with EXIF orientation and GPS),
then measures, on a throw-away instance with SQLite:

1. the pipeline alone (media.check + media.process: decode, orient, strip,
   resize, write display size and thumbnail), with 1 and with N worker threads;
2. the whole request a teacher's browser makes: one multipart POST of all
   photos to the post form (parsing, CSRF, processing, database, moving files).

Prints seconds; the last line is the number for README's performance section.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def camera_photo(width: int, height: int, seed: int, fmt: str = "JPEG") -> bytes:
    """A photo-like JPEG: smooth light, fine noise (so it compresses like a photo), EXIF."""
    from PIL import Image, ImageFilter

    noise = Image.effect_noise((width // 4, height // 4), 60).resize((width, height))
    base = Image.linear_gradient("L").resize((width, height)).filter(ImageFilter.GaussianBlur(2))
    image = Image.merge("RGB", (
        Image.blend(base, noise, 0.45),
        Image.blend(noise, base, 0.3 + (seed % 5) / 20),
        noise,
    ))
    exif = Image.Exif()
    exif[0x0112] = (1, 6, 3, 8)[seed % 4]  # every orientation a phone writes
    exif[0x010F] = "Phone"
    exif[0x8825] = {1: "N", 2: (52.0, 5.0, 30.0), 3: "E", 4: (4.0, 53.0, 10.0)}
    out = io.BytesIO()
    if fmt == "HEIF":
        from pillow_heif import register_heif_opener

        register_heif_opener()
        image.save(out, "HEIF", quality=80, exif=exif.tobytes())
    else:
        image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--megapixels", type=float, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--heic", action="store_true", help="iPhone photos (HEIC) instead of JPEG")
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="parro-bench-")
    os.environ["PARRO_INSTANCE_PATH"] = instance
    from werkzeug.datastructures import FileStorage

    from parro import create_app, media
    from parro.extensions import db

    width = int((args.megapixels * 1_000_000 * 4 / 3) ** 0.5)
    height = width * 3 // 4
    print(f"making {args.photos} photos of {width} x {height} "
          f"({width * height / 1e6:.1f} MP) ...", flush=True)
    fmt = "HEIF" if args.heic else "JPEG"
    distinct = [camera_photo(width, height, i, fmt) for i in range(4)]
    photos = [distinct[i % 4] for i in range(args.photos)]
    total_mb = sum(len(p) for p in photos) / 1024 / 1024
    print(f"  {total_mb:.0f} MB in total, {total_mb / args.photos:.1f} MB per photo")

    app = create_app({
        "DATABASE_URL": f"sqlite:///{instance}/bench.sqlite3",
        "MAIL_SENDER_THREAD": False,
        "FEED_PUBLISHER_THREAD": False,
        "WTF_CSRF_ENABLED": False,
        "MEDIA_WORKERS": args.workers,
    })

    def pipeline(workers: int) -> float:
        with app.test_request_context():
            limits = media.Limits.from_config(app.config)
            limits.workers = workers
            uploads = [FileStorage(io.BytesIO(p), f"IMG_{i:04d}.{fmt}")
                       for i, p in enumerate(photos)]
            start = time.perf_counter()
            checked, errors = media.check(uploads, limits)
            assert not errors, errors
            staged = media.process(checked, limits)
            elapsed = time.perf_counter() - start
            media.discard(staged)
            return elapsed

    results = {}
    for workers in sorted({1, args.workers}):
        times = [pipeline(workers) for _ in range(args.rounds)]
        results[workers] = statistics.median(times)
        print(f"pipeline, {workers} worker(s): median {results[workers]:.2f} s "
              f"({results[workers] / args.photos * 1000:.0f} ms per photo) "
              f"over {args.rounds} rounds: {', '.join(f'{t:.2f}' for t in times)}")

    # The whole request, as the teacher's browser sends it.
    from datetime import date

    from flask_migrate import upgrade

    from parro.models import (
        Group,
        Role,
        School,
        SchoolYear,
        TeacherAssignment,
        User,
        UserSession,
    )
    from parro.security import hash_token, new_token

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        school = School(name="Bench")
        year = SchoolYear(school=school, name="2026-2027", starts_on=date(2026, 8, 1),
                          ends_on=date(2027, 7, 31), is_current=True)
        group = Group(year=year, name="Groep 3", grade=3)
        teacher = User(email="juf@example.org", name="Juf", role=Role.TEACHER, active=True)
        token = new_token()
        db.session.add_all([school, year, group, teacher,
                            TeacherAssignment(user=teacher, group=group),
                            UserSession(token_hash=hash_token(token), user=teacher)])
        db.session.commit()
        group_id = group.id
    client = app.test_client()
    client.set_cookie(app.config["AUTH_COOKIE_NAME"], token)
    times = []
    for _ in range(args.rounds):
        data = {"groups": [str(group_id)], "body": "Schoolreis!",
                "files": [(io.BytesIO(p), f"IMG_{i:04d}.{fmt}") for i, p in enumerate(photos)]}
        start = time.perf_counter()
        response = client.post(f"/groepen/{group_id}/nieuw", data=data,
                               content_type="multipart/form-data")
        times.append(time.perf_counter() - start)
        assert response.status_code == 303, response.status_code
    request_time = statistics.median(times)
    print(f"whole request ({args.workers} workers): median {request_time:.2f} s over "
          f"{args.rounds} rounds: {', '.join(f'{t:.2f}' for t in times)}")
    print(f"RESULT: {args.photos} {fmt} photos of {args.megapixels:g} MP ({total_mb:.0f} MB) "
          f"processed in {request_time:.1f} s server time with {args.workers} workers "
          f"on {os.cpu_count()} CPUs (upload time over the network comes on top)")
    shutil.rmtree(instance, ignore_errors=True)  # 20 stored photos per round


if __name__ == "__main__":
    main()
