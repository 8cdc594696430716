"""The API's browsable docs: Swagger UI as django-ninja ships it, served from our own origin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ninja
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html, json_script
from django.views.decorators.http import require_GET
from ninja import NinjaAPI
from ninja.openapi.docs import DocsBase

# Swagger UI as django-ninja ships it, served from here: the page needs no CDN and no inline
# script, so it works under the project's Content-Security-Policy (scripts from 'self' only).
DOCS_ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-init.js": "text/javascript",
}
_NINJA_STATIC = Path(ninja.__file__).parent / "static" / "ninja"


class LocalSwagger(DocsBase):
    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        # validatorUrl: by default Swagger UI shows a badge image from validator.swagger.io.
        config = {
            "url": self.get_openapi_url(api, kwargs),
            "layout": "BaseLayout",
            "deepLinking": True,
            "validatorUrl": None,
        }

        def asset(name: str) -> str:
            return reverse("api_docs_asset", kwargs={"name": name})

        page = format_html(
            '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            "<title>{}</title>\n"
            '<link rel="icon" href="{}" type="image/svg+xml">\n'
            '<link rel="stylesheet" href="{}">\n</head>\n<body>\n{}\n'
            '<div id="swagger-ui"></div>\n'
            '<script src="{}"></script>\n<script src="{}"></script>\n</body>\n</html>\n',
            api.title,
            static("favicon.svg"),
            asset("swagger-ui.css"),
            json_script(config, "swagger-settings"),
            asset("swagger-ui-bundle.js"),
            asset("swagger-ui-init.js"),
        )
        return HttpResponse(page)


@require_GET
def api_docs_asset(request: HttpRequest, name: str) -> FileResponse:
    if name not in DOCS_ASSETS:
        raise Http404("Not found.")
    response = FileResponse((_NINJA_STATIC / name).open("rb"), content_type=DOCS_ASSETS[name])
    response["Cache-Control"] = "public, max-age=86400"
    return response
