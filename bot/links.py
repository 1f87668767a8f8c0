"""Reading a web page's main text from a link, without letting a link reach our own network.

Every hop is vetted after DNS resolution: the scheme must be http(s) and every address the name
resolves to must be public (no loopback, private, link-local, multicast, reserved or unspecified
address, IPv4-mapped IPv6 included). The request then goes to the vetted address itself, with
the original Host header and TLS server name, so a second DNS answer cannot differ (rebinding).
Redirects are followed here, one vetted hop at a time. Time, bytes and hops are capped.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

import httpx

from bot.documents import MAX_TEXT_CHARS, DocumentError, html_page

log = logging.getLogger(__name__)

LinkProblem = Literal[
    "scheme", "address", "no_name", "unreachable", "timeout", "too_big", "kind", "http",
    "redirects", "no_text",
]  # fmt: skip
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

READABLE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
USER_AGENT = "Mozilla/5.0 (compatible; TertuliaBot/0.1; reads one page a user sent)"
LONE_URL = re.compile(r"^<?([A-Za-z][A-Za-z0-9+.\-]*://\S+?)>?$")


@dataclass(frozen=True)
class LinkLimits:
    """How much one link may cost; allow_private is for tests against a local server only."""

    timeout_s: float = 15.0
    max_bytes: int = 2_000_000
    max_redirects: int = 5
    allow_private: bool = False


@dataclass(frozen=True)
class Page:
    url: str
    title: str
    text: str


class LinkError(Exception):
    """A link that cannot be read, with the code the handlers word and what it concerns."""

    def __init__(self, problem: LinkProblem, detail: str = "") -> None:
        super().__init__(f"{problem}: {detail}")
        self.problem: LinkProblem = problem
        self.detail = detail


async def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for a name."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def direct(address: str, port: int) -> tuple[str, int]:
    return address, port


@dataclass
class Network:
    """How names resolve and where a vetted address is reached: the seam tests replace.

    A test resolves a public-looking name without DNS, and reaches that address on its local
    server, so redirects from a "public" page are vetted like real ones.
    """

    resolve: Callable[[str, int], Awaitable[list[str]]] = system_resolve
    reach: Callable[[str, int], tuple[str, int]] = field(default=direct)


network = Network()


def lone_url(text: str) -> str | None:
    """The URL when a text is nothing but one (any scheme, so file:// can be refused)."""
    match = LONE_URL.match(text.strip())
    return match.group(1) if match else None


def refused_address(address: IPAddress) -> bool:
    """Whether an address is anything but a public unicast one, embedded IPv4 unwrapped."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is None and address in ipaddress.ip_network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and refused_address(embedded):
            return True
        if address.is_site_local:
            return True
    return (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


async def vetted_address(url: httpx.URL, limits: LinkLimits) -> tuple[str, int]:
    """The address to connect to for a URL, after its scheme and every address are checked."""
    if url.scheme not in ("http", "https"):
        raise LinkError("scheme", url.scheme)
    if not url.host:
        raise LinkError("no_name", "")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(url.host)]
    except ValueError:
        try:
            resolved = await network.resolve(url.host, port)
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolved]
        except (OSError, ValueError, UnicodeError):
            raise LinkError("no_name", url.host) from None
    if not addresses:
        raise LinkError("no_name", url.host)
    if not limits.allow_private and any(refused_address(a) for a in addresses):
        raise LinkError("address", url.host)
    return network.reach(str(addresses[0]), port)


async def read_page(url: str, limits: LinkLimits) -> Page:
    """The page's title and main text; raises LinkError naming why not."""
    try:
        async with asyncio.timeout(limits.timeout_s):
            final_url, content_type, body = await fetch(url, limits)
            title, text = await asyncio.to_thread(page_text, final_url, content_type, body)
    except TimeoutError:
        raise LinkError("timeout", url) from None
    if not text.strip():
        raise LinkError("no_text", url)
    return Page(url=str(final_url), title=title, text=text[:MAX_TEXT_CHARS])


async def fetch(url: str, limits: LinkLimits) -> tuple[httpx.URL, str, bytes]:
    """Follows redirects by hand, vetting each hop; returns (final URL, content type, body)."""
    try:
        current = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError, UnicodeError):
        raise LinkError("no_name", url) from None
    # No pooled connection outlives a hop: a connection opened for one name never serves another.
    async with httpx.AsyncClient(
        trust_env=False,
        follow_redirects=False,
        timeout=limits.timeout_s,
        limits=httpx.Limits(max_keepalive_connections=0),
    ) as client:
        for _ in range(limits.max_redirects + 1):
            address, port = await vetted_address(current, limits)
            response = await send(client, current, address, port)
            try:
                if response.is_redirect and "location" in response.headers:
                    try:
                        current = current.join(response.headers["location"])
                    except (httpx.InvalidURL, ValueError, UnicodeError):
                        raise LinkError("no_name", response.headers["location"]) from None
                    continue
                if response.status_code >= 400:
                    raise LinkError("http", str(response.status_code))
                content_type = response.headers.get("content-type", "").split(";")[0].strip()
                if content_type.lower() not in READABLE_TYPES:
                    raise LinkError("kind", content_type or "?")
                body = await capped_body(response, limits.max_bytes)
                return current, content_type.lower(), body
            finally:
                await response.aclose()
    raise LinkError("redirects", str(limits.max_redirects))


async def send(
    client: httpx.AsyncClient, url: httpx.URL, address: str, port: int
) -> httpx.Response:
    """GET the URL from the vetted address, keeping the name in Host and in TLS (SNI)."""
    host = url.host
    extensions = {"sni_hostname": host} if url.scheme == "https" else {}
    request = client.build_request(
        "GET",
        url.copy_with(host=address, port=port),
        headers={
            "Host": url.netloc.decode("ascii"),
            "User-Agent": USER_AGENT,
            "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9",
            "Accept-Encoding": "identity",  # the byte cap then counts what we parse
        },
        extensions=extensions,
    )
    try:
        return await client.send(request, stream=True)
    except httpx.TimeoutException:
        raise LinkError("timeout", host) from None
    except httpx.HTTPError as exc:
        log.info("could not reach %s: %r", host, exc)
        raise LinkError("unreachable", host) from None


async def capped_body(response: httpx.Response, max_bytes: int) -> bytes:
    """The body, refused as soon as it passes max_bytes (declared or actual)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise LinkError("too_big", str(max_bytes))
    body = bytearray()
    try:
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise LinkError("too_big", str(max_bytes))
    except httpx.TimeoutException:
        raise LinkError("timeout", response.url.host) from None
    except httpx.HTTPError:
        raise LinkError("unreachable", response.url.host) from None
    return bytes(body)


def page_text(url: httpx.URL, content_type: str, body: bytes) -> tuple[str, str]:
    """(title, main text): trafilatura for HTML, the text itself for text/plain."""
    if content_type == "text/plain":
        name = url.path.rstrip("/").rsplit("/", 1)[-1] or url.host
        return name, body.decode("utf-8", errors="replace")
    try:
        title, text = html_page(body)
    except DocumentError:
        raise LinkError("no_text", str(url)) from None
    return title or url.host, text
