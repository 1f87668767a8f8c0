"""Links: a page's main text is read from a real local server; our own network never is."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from bot import links
from bot.links import LinkError, LinkLimits, lone_url, read_page, refused_address
from tests.page_server import NEWS_PARAGRAPHS, NEWS_TITLE, PageServer, page_server

PUBLIC_NAME = "noticias.example"
PUBLIC_ADDRESS = "93.184.216.34"  # a public address; the test reaches it on its local server
LOCAL = LinkLimits(allow_private=True, timeout_s=3.0)
PUBLIC = LinkLimits(timeout_s=3.0)


@pytest.fixture
async def pages() -> AsyncIterator[PageServer]:
    async with page_server() as server:
        yield server


@pytest.fixture
def public_name(pages: PageServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """PUBLIC_NAME resolves to PUBLIC_ADDRESS without DNS, which is served by `pages`."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        if host == PUBLIC_NAME:
            return [PUBLIC_ADDRESS]
        if host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return await links.system_resolve(host, port)

    def reach(address: str, port: int) -> tuple[str, int]:
        return ("127.0.0.1", pages.port) if address == PUBLIC_ADDRESS else (address, port)

    monkeypatch.setattr(links, "network", links.Network(resolve=resolve, reach=reach))
    yield asked


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("https://es.wikipedia.org/wiki/Ebro", "https://es.wikipedia.org/wiki/Ebro"),
        ("  http://a.example/x?y=1  ", "http://a.example/x?y=1"),
        ("<https://a.example/>", "https://a.example/"),
        ("file:///etc/passwd", "file:///etc/passwd"),
        ("mira https://a.example/", None),
        ("https://a.example/ y https://b.example/", None),
        ("El Ebro crece", None),
        ("", None),
    ],
)
def test_only_a_text_that_is_one_url_is_a_link(text: str, url: str | None) -> None:
    assert lone_url(text) == url


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.255.0.9", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
        "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "192.0.2.1",
        "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1",
        "::ffff:10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a00:1", "2002:7f00:1::1",
    ],
)  # fmt: skip
def test_private_local_and_special_addresses_are_refused(address: str) -> None:
    assert refused_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert not refused_address(ipaddress.ip_address(address))


async def test_a_page_gives_its_title_and_main_text(pages: PageServer) -> None:
    page = await read_page(pages.url("/noticia"), LOCAL)
    assert page.title == NEWS_TITLE
    assert all(paragraph in page.text for paragraph in NEWS_PARAGRAPHS)
    assert "Contacto" not in page.text  # the menu is not the page's text
    note = await read_page(pages.url("/nota.txt"), LOCAL)
    assert note.title == "nota.txt" and NEWS_PARAGRAPHS[0] in note.text


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/noticia",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/noticia",
        "http://[::ffff:127.0.0.1]:{port}/noticia",
        "http://localhost:{port}/noticia",
        "http://2130706433:{port}/noticia",  # 127.0.0.1 as one number, resolved by the system
    ],
)
async def test_our_own_network_is_refused(url: str, pages: PageServer) -> None:
    with pytest.raises(LinkError) as refused:
        await read_page(url.format(port=pages.port), PUBLIC)
    assert refused.value.problem == "address"
    assert pages.hosts_seen == []  # refused before any connection


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://a.example/x", "gopher://a:70/"])
async def test_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(LinkError) as refused:
        await read_page(url, LinkLimits(allow_private=True))
    assert refused.value.problem == "scheme"


async def test_a_public_name_is_read_from_its_vetted_address_with_its_own_host(
    pages: PageServer, public_name: list[str]
) -> None:
    page = await read_page(f"http://{PUBLIC_NAME}/noticia", PUBLIC)
    assert page.title == NEWS_TITLE
    assert pages.hosts_seen == [PUBLIC_NAME]  # the server saw the name, not the address
    assert public_name == [PUBLIC_NAME]  # resolved once: no second answer to rebind


async def test_a_redirect_to_our_network_is_refused_at_the_hop(
    pages: PageServer, public_name: list[str]
) -> None:
    for target in ("http://127.0.0.1/", "http://[::1]/", "http://169.254.169.254/", "file:///x"):
        with pytest.raises(LinkError) as refused:
            await read_page(f"http://{PUBLIC_NAME}/redirige?a={target}", PUBLIC)
        assert refused.value.problem in ("address", "scheme")
    assert pages.hosts_seen == []
    # A redirect to another public page is followed, and vetted like the first hop.
    page = await read_page(f"http://{PUBLIC_NAME}/redirige?a=/noticia", PUBLIC)
    assert page.title == NEWS_TITLE


@pytest.mark.parametrize(
    ("path", "problem", "detail"),
    [
        ("/imagen", "kind", "image/png"),
        ("/grande", "too_big", "2000000"),
        ("/bucle", "redirects", "5"),
        ("/falta", "http", "404"),
        ("/lenta", "timeout", None),
    ],
)
async def test_each_failing_page_names_why(
    path: str, problem: str, detail: str | None, pages: PageServer
) -> None:
    limits = LinkLimits(allow_private=True, timeout_s=1.0)
    with pytest.raises(LinkError) as failed:
        await read_page(pages.url(path), limits)
    assert failed.value.problem == problem
    if detail is not None:
        assert failed.value.detail == detail


async def test_a_name_that_does_not_resolve_is_named(public_name: list[str]) -> None:
    with pytest.raises(LinkError) as failed:
        await read_page("http://no-existe.invalid/", PUBLIC)
    assert failed.value.problem == "no_name"


def self_signed(name: str, folder: Path) -> tuple[Path, Path]:
    """A certificate for `name` and its key, made here (cryptography comes with pypdf[crypto])."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_https_to_the_vetted_address_keeps_the_name_for_tls_and_host(
    tmp_path: Path,
) -> None:
    """The certificate is checked against the name, which the server also gets as SNI."""
    cert, key = self_signed(PUBLIC_NAME, tmp_path)
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)
    names: list[str | None] = []
    server_side.sni_callback = lambda sock, name, context: names.append(name)  # type: ignore[assignment,misc]
    seen_hosts: list[str] = []

    async def hello(request: web.Request) -> web.Response:
        seen_hosts.append(request.headers["Host"])
        return web.Response(text="hola")

    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_side)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=cert)) as client:
            url = httpx.URL(f"https://{PUBLIC_NAME}:{port}/")
            response = await links.send(client, url, "127.0.0.1", port)
            assert response.status_code == 200
            await response.aclose()
    finally:
        await runner.cleanup()
    assert names == [PUBLIC_NAME]
    assert seen_hosts == [f"{PUBLIC_NAME}:{port}"]
