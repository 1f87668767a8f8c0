"""A real web server on 127.0.0.1 for link tests: a news page, redirects, and bad answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

from tests.document_makers import html_document

NEWS_TITLE = "El Ebro crece en Zaragoza"
NEWS_PARAGRAPHS = (
    "El río Ebro ha crecido esta semana en Zaragoza por las lluvias del Pirineo.",
    "Los vecinos del barrio de la Almozara miran el cauce con calma y algo de asombro.",
    "Protección Civil vigila los puentes y pide no bajar a las orillas hasta el domingo.",
)
NEWS_HTML = html_document(NEWS_TITLE, *NEWS_PARAGRAPHS)


@dataclass
class PageServer:
    port: int
    hosts_seen: list[str] = field(default_factory=list)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


def routes(server: PageServer) -> web.RouteTableDef:
    table = web.RouteTableDef()

    @table.get("/noticia")
    async def news(request: web.Request) -> web.Response:
        server.hosts_seen.append(request.headers.get("Host", ""))
        return web.Response(body=NEWS_HTML, content_type="text/html", charset="utf-8")

    @table.get("/nota.txt")
    async def note(request: web.Request) -> web.Response:
        return web.Response(text=" ".join(NEWS_PARAGRAPHS), content_type="text/plain")

    @table.get("/redirige")
    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["a"])

    @table.get("/bucle")
    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/bucle")

    @table.get("/imagen")
    async def image(request: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG\r\n\x1a\n" + b"\0" * 64, content_type="image/png")

    @table.get("/grande")
    async def big(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)  # chunked, no Content-Length: the cap must count bytes
        for _ in range(40):
            await response.write(b"<p>" + b"palabra " * 12_500 + b"</p>")
        await response.write_eof()
        return response

    @table.get("/lenta")
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response(text="tarde", content_type="text/plain")

    @table.get("/falta")
    async def missing(request: web.Request) -> web.Response:
        raise web.HTTPNotFound()

    return table


@asynccontextmanager
async def page_server() -> AsyncIterator[PageServer]:
    """Serves the routes above on a free port of 127.0.0.1."""
    app = web.Application()
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    server = PageServer(port=0)
    app.add_routes(routes(server))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.port = runner.addresses[0][1]
    try:
        yield server
    finally:
        await runner.cleanup()
