"""Wire evidence into the app: workflow checks, storage from config, image pixel limit, template helpers."""

from __future__ import annotations

from flask import Flask

from app.evidence import images, items
from app.evidence.services import storage_from_config
from app.workflow.service import register_check


def init_app(app: Flask) -> None:
    register_check("request_evidence", items.create_request_items)
    register_check("provide_evidence", items.require_items_provided)
    app.extensions["evidence_storage"] = storage_from_config(app.config)
    images.set_max_pixels(app.config.get("EVIDENCE_MAX_PIXELS", images.DEFAULT_MAX_PIXELS))
    from app.evidence.panels import register_template_helpers

    register_template_helpers(app)
    from app.jobs import register_periodic

    register_periodic("evidence_cleanup_staging", "app.evidence.jobs.cleanup_staging", "17 * * * *")
