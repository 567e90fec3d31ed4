"""The local site over HTTP: :func:`serve` listens for every local host in background threads."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from caci_spider import sources

if TYPE_CHECKING:
    pass
from caci_spider.testworld.localsite.content import MAIN_HOST, host_of_profile, hosts

if TYPE_CHECKING:
    from caci_spider.testworld.localsite import LocalK2Site


class _Handler(BaseHTTPRequestHandler):
    site: LocalK2Site
    host_key: str = MAIN_HOST  # the local host this server answers as
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY each answer waits ~40 ms for
    # the client's delayed acknowledgement.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        reply = self.site.respond(self.path, dict(self.headers.items()), self.host_key)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.drop:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(reply.declared_length or len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(reply.body)
        except ConnectionError:
            # The client gave up on the answer (a crawler refusing an oversized body).
            self.close_connection = True
            return
        if reply.declared_length:
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def other_ports(port: int) -> dict[str, int]:
    """The ports of the sister sites' hosts for a main ``port``: the next ones up (8089 for
    the Turkey Analyst next to 8088), or free ones (0) when the main port is."""
    others = [key for key in hosts() if key != MAIN_HOST]
    return {key: (port + n if port else 0) for n, key in enumerate(others, start=1)}


@contextmanager
def serve(
    site: LocalK2Site | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    ports: dict[str, int] | None = None,
) -> Iterator[tuple[str, LocalK2Site]]:
    """Serve ``site`` in background threads; yields ``(base_url, site)``.

    The main host (the Analyst, and the staff listing) listens on ``port``; every sister site
    (the Turkey Analyst) on a port of its own, ``ports[key]`` or a free one, in the same
    process. ``site.base_urls`` maps every profile key to the base URL serving it.
    """
    if site is None:
        from caci_spider.testworld.localsite import LocalK2Site

        site = LocalK2Site()
    ports = ports or {}
    servers: list[ThreadingHTTPServer] = []
    urls: dict[str, str] = {}
    try:
        for key in hosts():
            handler = type("Handler", (_Handler,), {"site": site, "host_key": key})
            server = ThreadingHTTPServer(
                (host, port if key == MAIN_HOST else ports.get(key, 0)), handler
            )
            servers.append(server)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            urls[key] = f"http://{host}:{server.server_address[1]}"
        site.base_urls = {
            profile.key: urls[host_of_profile(profile)] for profile in sources.crawled_profiles()
        }
        yield urls[MAIN_HOST], site
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
