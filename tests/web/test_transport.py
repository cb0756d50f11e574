"""Client addresses from trusted proxies only, Secure cookies and HSTS over https, TLS in serve."""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from archive_analyzer.config import Settings
from archive_analyzer.errors import ConfigError
from archive_analyzer.web.server import uvicorn_options
from tests.fixtures.browser import serve_app
from tests.web.conftest import PASSWORD, WebEnv, csrf_from, make_env


def _login(client: TestClient, headers: dict[str, str] | None = None) -> httpx.Response:
    token = csrf_from(client.get("/login", headers=headers).text)
    return client.post(
        "/login",
        data={"username": "viewer", "password": PASSWORD, "csrf": token},
        headers=headers,
    )


def test_forwarded_for_cannot_sidestep_throttling(web: WebEnv, anon: TestClient) -> None:
    """The issue's bypass: a new X-Forwarded-For per try, from the same machine."""
    token = csrf_from(anon.get("/login").text)
    statuses = []
    for i in range(8):
        reply = anon.post(
            "/login",
            data={"username": "viewer", "password": "not it at all", "csrf": token},
            headers={"X-Forwarded-For": f"203.0.113.{i}"},
        )
        statuses.append(reply.status_code)
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429] * 3, statuses
    assert 0 < int(reply.headers["retry-after"]) <= 61
    with TestClient(web.app, follow_redirects=False, client=("127.0.0.1", 5000)) as local:
        # a loopback peer is no proxy either (uvicorn's default would have trusted it)
        blocked = _login(local, {"X-Forwarded-For": "198.51.100.1"})
        assert blocked.status_code == 429
    conn = web.conn()
    ips = {r[0] for r in conn.execute("SELECT ip FROM login_attempts")}
    conn.close()
    assert ips == {"testclient"}  # the header was never believed


def test_trusted_proxy_addresses(tmp_path: Path, web_media: Path) -> None:
    env = make_env(tmp_path, web_media, trusted_proxies=("10.0.0.1", "fd00::/8"))
    forwarded = {"X-Forwarded-For": "203.0.113.7, 10.0.0.1"}
    with TestClient(env.app, follow_redirects=False, client=("10.0.0.1", 4000)) as proxy:
        assert _login(proxy, forwarded).status_code == 303
    with TestClient(env.app, follow_redirects=False, client=("192.0.2.9", 4000)) as direct:
        assert _login(direct, {"X-Forwarded-For": "203.0.113.99"}).status_code == 303
    conn = env.conn()
    ips = sorted(r[0] for r in conn.execute("SELECT ip FROM sessions"))
    audited = sorted(r[0] for r in conn.execute("SELECT ip FROM audit_log WHERE action='login'"))
    conn.close()
    assert ips == audited == ["192.0.2.9", "203.0.113.7"]

    # per-address throttling follows the forwarded address, from the listed proxy only
    with TestClient(env.app, follow_redirects=False, client=("10.0.0.1", 4000)) as proxy:
        token = csrf_from(proxy.get("/login").text)
        for i in range(50):
            proxy.post(
                "/login",
                data={"username": f"nobody{i}", "password": "x", "csrf": token},
                headers={"X-Forwarded-For": "203.0.113.50"},
            )
        assert _login(proxy, {"X-Forwarded-For": "203.0.113.50"}).status_code == 429
        assert _login(proxy, {"X-Forwarded-For": "203.0.113.51"}).status_code == 303


def test_secure_cookies_and_hsts_behind_https_proxy(tmp_path: Path, web_media: Path) -> None:
    env = make_env(tmp_path, web_media, trusted_proxies=("10.0.0.1",))
    https = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    with TestClient(env.app, follow_redirects=False, client=("10.0.0.1", 4000)) as proxy:
        page = proxy.get("/login", headers=https)
        assert page.headers["strict-transport-security"] == "max-age=31536000"
        assert page.headers["set-cookie"].endswith("; Secure")
        lang = proxy.get("/lang/ko", headers=https)
        assert lang.headers["set-cookie"].endswith("; Secure")
        plain = proxy.get("/login", headers={"X-Forwarded-Proto": "http"})
        assert "strict-transport-security" not in plain.headers
        assert "Secure" not in plain.headers["set-cookie"]
    with TestClient(env.app, follow_redirects=False, client=("192.0.2.9", 4000)) as liar:
        page = liar.get("/login", headers=https)  # not a trusted proxy: its https is ignored
        assert "Secure" not in page.headers["set-cookie"]
        assert "strict-transport-security" not in page.headers
        assert _login(liar, https).status_code == 303


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return cert_file, key_file


@pytest.mark.slow
def test_serve_terminates_tls(tmp_path: Path, web_media: Path) -> None:
    cert, key = _self_signed(tmp_path)
    env = make_env(tmp_path, web_media, tls_cert_file=cert, tls_key_file=key)
    options = uvicorn_options(env.settings)
    assert options["ssl_certfile"] == str(cert) and options["proxy_headers"] is False
    with serve_app(env.app, **options) as server:
        assert server.url.startswith("https://")
        trust = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(base_url=server.url, verify=trust) as client:
            page = client.get("/login")
            assert page.status_code == 200
            assert page.headers["strict-transport-security"] == "max-age=31536000"
            assert "Secure" in page.headers["set-cookie"]
            token = csrf_from(page.text)
            reply = client.post(
                "/login", data={"username": "viewer", "password": PASSWORD, "csrf": token}
            )
            assert reply.status_code == 303
            assert client.get("/api/me").json()["username"] == "viewer"
        with pytest.raises(httpx.TransportError):
            httpx.get(server.url.replace("https", "http") + "/login", timeout=5)


def test_tls_settings_are_checked(tmp_path: Path) -> None:
    from archive_analyzer.config import load_settings

    with pytest.raises(ConfigError, match="go together"):
        load_settings(environ={}, cwd=tmp_path, tls_cert_file=tmp_path / "c.pem")
    missing = Settings(
        db=tmp_path / "x.db", tls_cert_file=tmp_path / "c", tls_key_file=tmp_path / "k"
    )
    with pytest.raises(ConfigError, match="TLS file not found"):
        uvicorn_options(missing)
    (tmp_path / "c").write_text("not a certificate")
    (tmp_path / "k").write_text("not a key")
    with pytest.raises(ConfigError, match="cannot use TLS certificate"):
        uvicorn_options(missing)
    assert uvicorn_options(Settings(db=tmp_path / "x.db")) == {
        "proxy_headers": False,
        "server_header": False,
    }
    with pytest.raises(ConfigError, match="trusted_proxies"):
        load_settings(environ={"ARCHIVE_TRUSTED_PROXIES": "10.0.0.1, not-an-address"}, cwd=tmp_path)
    from_env = load_settings(
        environ={"ARCHIVE_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"}, cwd=tmp_path
    )
    assert from_env.trusted_proxies == ("127.0.0.1", "10.0.0.0/8")
