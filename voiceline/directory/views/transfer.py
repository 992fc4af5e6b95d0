"""Import a directory file from the browser (upload, preview, confirm) and export one."""

from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from voiceline import extensions
from voiceline.admin import audit
from voiceline.admin.auth import current_admin, is_logged_in, login_required
from voiceline.db import request_session
from voiceline.directory.checker import DirectoryError
from voiceline.directory.dump import dump_directory_yaml
from voiceline.directory.transfer import (
    LABELS,
    MAX_IMPORT_BYTES,
    TOO_LARGE,
    Preview,
    apply_import,
    preview,
    read_upload,
)
from voiceline.directory.views.blueprint import bp, now

MAX_FILENAME = 120


def _form_page(errors: list[str], status: int = 200) -> ResponseReturnValue:
    page = render_template("directory/import.html", errors=errors, limit=MAX_IMPORT_BYTES)
    return page, status


def _preview_page(result: Preview, note: str = "", status: int = 200) -> ResponseReturnValue:
    page = render_template("directory/import_preview.html", result=result, labels=LABELS, note=note)
    return page, status if not result.errors else 422


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


@bp.get("/import")
@login_required
def import_form() -> ResponseReturnValue:
    """Show the upload form and the export link."""
    return _form_page([])


@bp.post("/import")
@login_required
def import_preview() -> ResponseReturnValue:
    """Check an uploaded directory file and show what loading it would change."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _form_page(["Choose a directory file (YAML) to upload."], 422)
    filename = upload.filename.replace("\\", "/").rpartition("/")[2][:MAX_FILENAME] or "upload.yaml"
    raw = upload.stream.read(MAX_IMPORT_BYTES + 1)
    try:
        text = read_upload(raw, filename)
    except DirectoryError as exc:
        return _form_page(exc.errors, 422)
    result = preview(extensions.database().sessions, text, filename, _secret())
    return _preview_page(result)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    """Say how large an upload may be (the body is refused before any view runs)."""
    if request.endpoint == "directory.import_preview" and is_logged_in():
        return _form_page([f"The upload: {TOO_LARGE}"], 413)
    return error


@bp.post("/import/apply")
@login_required
def import_apply() -> ResponseReturnValue:
    """Load the previewed file, if the directory has not changed since the preview."""
    db = request_session()
    token = request.form.get("upload", "")
    try:
        applied = apply_import(
            db,
            extensions.database().sessions,
            token,
            _secret(),
            actor=current_admin(),
            now=now(),
        )
    except DirectoryError as exc:
        db.rollback()
        return _form_page(exc.errors, 422)
    if isinstance(applied, Preview):
        db.rollback()
        note = "The directory changed since your preview. Here is what the file would change now."
        return _preview_page(applied, note, 409)
    db.commit()
    flash(f"Directory imported: {applied.summary()}.", "ok")
    return redirect(url_for("directory.overview"))


@bp.get("/export")
@login_required
def export() -> ResponseReturnValue:
    """Download the directory as the YAML file `voiceline directory load` reads."""
    db = request_session()
    body = dump_directory_yaml(db)
    stamp = now().strftime("%Y-%m-%d")
    audit.record(db, current_admin(), "directory_exported", "directory", at=now(), bytes=len(body))
    db.commit()
    response = Response(body, mimetype="application/yaml")
    response.headers["Content-Type"] = "application/yaml; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="directory-{stamp}.yaml"'
    return response
