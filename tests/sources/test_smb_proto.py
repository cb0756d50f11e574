"""Unit tests of the lean SMB client's pure parts and of the connection's receive logic.

The connection is driven through a socket pair with hand-made answers (a fake server is fine
for the matching, signature and credit rules; everything else runs against real smbd).
"""

from __future__ import annotations

import os
import socket
import struct
import threading

import pytest

from archive_analyzer.sources.smb_conn import Connection, Request
from archive_analyzer.sources.smb_proto import (
    AES_128_CCM,
    AES_128_GCM,
    AES_CMAC,
    AES_GMAC,
    FLAG_ASYNC,
    FLAG_RESPONSE,
    HEADER,
    HMAC_SHA256,
    READ,
    STATUS_PENDING,
    STATUS_SUCCESS,
    ZERO_SIG,
    Cipher,
    ConnectionDropped,
    Signer,
    WireTimeout,
    create_body,
    credit_charge,
    parse_create,
    read_body,
    read_payload,
)
from archive_analyzer.sources.smb_session import Session


def answer(
    message_id: int,
    body: bytes = b"",
    *,
    status: int = STATUS_SUCCESS,
    credits: int = 1,
    flags: int = FLAG_RESPONSE,
    async_id: int = 0,
) -> bytearray:
    head = HEADER.pack(
        b"\xfeSMB",
        64,
        0,
        status,
        READ,
        credits,
        flags,
        0,
        message_id,
        async_id & 0xFFFFFFFF,
        async_id >> 32,
        7,
        ZERO_SIG,
    )
    return bytearray(head + body)


def read_answer(message_id: int, data: bytes, **kwargs: object) -> bytearray:
    body = struct.pack("<HBBIII", 17, 80, 0, len(data), 0, 0) + data
    return answer(message_id, body, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("algorithm", [HMAC_SHA256, AES_CMAC, AES_GMAC])
def test_signatures_round_trip_and_catch_tampering(algorithm: int) -> None:
    signer = Signer(algorithm, os.urandom(16))
    message = read_answer(5, b"payload bytes")
    signer_out = bytearray(message)
    signer.sign(signer_out)  # as a request; answers differ in the GMAC nonce's role bit
    assert signer_out[48:64] != ZERO_SIG
    response = bytearray(message)
    response[48:64] = signer._mac(response, response=True)
    framed = bytearray(b"junk") + response
    assert signer.verify(framed, 4, len(framed))
    assert framed[4 + 48 : 4 + 64] == response[48:64]  # restored after the check
    framed[-1] ^= 1
    assert not signer.verify(framed, 4, len(framed))


@pytest.mark.parametrize("cipher", [AES_128_GCM, AES_128_CCM])
def test_encryption_round_trip(cipher: int) -> None:
    c2s, s2c = os.urandom(16), os.urandom(16)
    client = Cipher(cipher, c2s, s2c)
    server = Cipher(cipher, s2c, c2s)
    message = bytes(read_answer(1, b"secret"))
    sealed = server.encrypt(message, 7)
    assert sealed[:4] == b"\xfdSMB" and b"secret" not in sealed
    assert bytes(client.decrypt(sealed)) == message
    assert client.encrypt(message, 7) != client.encrypt(message, 7)  # fresh nonces
    broken = bytearray(sealed)
    broken[-1] ^= 1
    with pytest.raises(ConnectionDropped, match="does not authenticate"):
        client.decrypt(broken)


def test_create_body_and_answer() -> None:
    body = create_body("a\\b.mp4", access=0x81, options=0x40, query_file_id=True)
    name_len = struct.unpack_from("<H", body, 46)[0]
    contexts_offset, contexts_length = struct.unpack_from("<II", body, 48)
    assert name_len == len("a\\b.mp4".encode("utf-16-le"))
    assert contexts_offset % 8 == 0 and contexts_length == 24
    assert body[contexts_offset - 64 + 16 : contexts_offset - 64 + 20] == b"QFid"
    # an answer with a QFid context carrying on-disk id 1234
    fixed = struct.pack(
        "<HBBIQQQQQQII16sII",
        89,
        0,
        0,
        1,
        0,
        0,
        133_000_000_000_000_000,
        0,
        0,
        99,
        0,
        0,
        b"H" * 16,
        64 + 88,
        32 + 24,
    )
    context = struct.pack("<IHHHHI4s4x", 0, 16, 4, 0, 24, 32, b"QFid") + struct.pack("<Q24x", 1234)
    created = parse_create(fixed + context)
    assert (created.file_id, created.size, created.disk_id) == (b"H" * 16, 99, "1234")
    assert not created.is_dir


def test_read_request_and_payload() -> None:
    body = read_body(b"F" * 16, 5 * 2**20, 2**20)
    assert len(body) == 49
    assert struct.unpack_from("<IQ", body, 4) == (2**20, 5 * 2**20)
    assert credit_charge(2**20) == 16 and credit_charge(1) == 1 and credit_charge(65537) == 2
    frame = b"x" * 10 + read_answer(3, b"data!")
    assert bytes(read_payload(bytearray(frame), 10, len(frame))) == b"data!"
    with pytest.raises(ConnectionDropped):
        read_payload(bytearray(frame), 10, len(frame) - 1)


class FakeServer:
    """The far end of a socket pair: reads requests, sends the answers a test makes."""

    def __init__(self, signer: Signer | None = None) -> None:
        self.ours, self.theirs = socket.socketpair()
        self.session = Session(
            sock=self.ours,
            host="fake",
            share="share",
            dialect=0x0311,
            session_id=7,
            tree_id=1,
            signer=signer,
            cipher=None,
            next_id=10,
            credits=64,
            large_mtu=True,
            max_read=2**20,
            max_transact=2**20,
        )

    def request_ids(self, count: int) -> list[int]:
        ids = []
        for _ in range(count):
            size = int.from_bytes(self._exactly(4)[1:4], "big")
            frame = self._exactly(size)
            ids.append(HEADER.unpack_from(frame)[8])
        return ids

    def _exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            data += self.theirs.recv(size - len(data))
        return data

    def send(self, message: bytearray) -> None:
        self.theirs.sendall(struct.pack(">I", len(message)) + message)


def test_answers_are_matched_by_message_id_in_any_order() -> None:
    server = FakeServer()
    conn = Connection(server.session, timeout=5)
    try:
        replies = conn.send([Request(READ, b"r" * 49, 16), Request(READ, b"r" * 49, 16)])
        first, second = server.request_ids(2)
        assert (first, second) == (10, 26)  # a 16-credit READ uses 16 message ids
        server.send(read_answer(second, b"second", credits=16))
        server.send(
            answer(first, status=STATUS_PENDING, flags=FLAG_RESPONSE | FLAG_ASYNC, async_id=99)
        )
        assert bytes(conn.wait(replies[1]).data()) == b"second"
        assert not replies[0].done and replies[0].async_id == 99  # interim: still pending
        server.send(read_answer(first, b"first", credits=20))
        assert bytes(conn.wait(replies[0]).data()) == b"first"
        credits, in_flight, pending = conn.stats()
        assert (credits, in_flight, pending) == (64 - 32 + 16 + 1 + 20, 0, 0)
    finally:
        conn.close()


def test_a_bad_or_missing_signature_drops_the_connection() -> None:
    signer = Signer(AES_GMAC, os.urandom(16))
    server = FakeServer(signer)
    conn = Connection(server.session, timeout=5)
    try:
        (reply,) = conn.send([Request(READ, b"r" * 49, 1)])
        (message_id,) = server.request_ids(1)
        server.send(read_answer(message_id, b"unsigned"))
        with pytest.raises(ConnectionDropped, match="unsigned answer"):
            conn.wait(reply)
        assert not conn.alive
        with pytest.raises(ConnectionDropped):
            conn.send([Request(READ, b"r" * 49, 1)])
    finally:
        conn.close()
    server = FakeServer(signer)
    conn = Connection(server.session, timeout=5)
    try:
        (reply,) = conn.send([Request(READ, b"r" * 49, 1)])
        (message_id,) = server.request_ids(1)
        forged = read_answer(message_id, b"forged", flags=FLAG_RESPONSE | 0x8)
        forged[48:64] = Signer(AES_GMAC, os.urandom(16))._mac(forged, response=True)
        server.send(forged)
        with pytest.raises(ConnectionDropped, match="signature does not match"):
            conn.wait(reply)
    finally:
        conn.close()


def test_no_answer_in_time_is_a_timeout_and_kills_the_connection() -> None:
    server = FakeServer()
    conn = Connection(server.session, timeout=0.2)
    receive = [t for t in threading.enumerate() if t.name.startswith("smb-receive fake")]
    try:
        (reply,) = conn.send([Request(READ, b"r" * 49, 1)])
        with pytest.raises(WireTimeout):
            conn.wait(reply)
        assert not conn.alive
    finally:
        conn.close()
    for thread in receive:
        thread.join(timeout=5)
        assert not thread.is_alive()


def test_answer_to_an_unknown_message_drops_the_connection() -> None:
    server = FakeServer()
    conn = Connection(server.session, timeout=5)
    try:
        (reply,) = conn.send([Request(READ, b"r" * 49, 1)])
        server.request_ids(1)
        server.send(read_answer(12345, b"?"))
        with pytest.raises(ConnectionDropped, match="unknown message"):
            conn.wait(reply)
    finally:
        conn.close()


def test_big_answers_reuse_buffers_nobody_holds() -> None:
    """A READ answer's data is a view into a pooled buffer: never overwritten while anything
    (a reply, a view of it) still refers to it, reused once nothing does."""
    server = FakeServer()
    conn = Connection(server.session, timeout=5)
    big = 200 * 1024
    try:
        first, second = conn.send([Request(READ, b"r" * 49, 4), Request(READ, b"r" * 49, 4)])
        id1, id2 = server.request_ids(2)
        server.send(read_answer(id1, b"a" * big, credits=8))
        held = conn.wait(first).data()
        del first  # only the view keeps the first buffer now
        server.send(read_answer(id2, b"b" * big, credits=8))
        assert bytes(conn.wait(second).data()) == b"b" * big
        assert bytes(held) == b"a" * big  # not overwritten
        buffers = conn._pool.ids()
        assert len(buffers) == 2
        del held, second
        (third,) = conn.send([Request(READ, b"r" * 49, 4)])
        (id3,) = server.request_ids(1)
        server.send(read_answer(id3, b"c" * big, credits=8))
        assert bytes(conn.wait(third).data()) == b"c" * big
        assert conn._pool.ids() == buffers  # a freed buffer was reused
    finally:
        conn.close()
