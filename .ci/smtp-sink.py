#!/usr/bin/env python3
"""A local SMTP sink for the tests: accepts every message and writes it,
dot-unstuffed, to DIR/<n>.eml (written under a temporary name, then
renamed). Standard library only, so CI needs nothing installed.

    smtp-sink.py PORT DIR
"""
import asyncio
import itertools
import os
import sys

PORT = int(sys.argv[1])
DIR = sys.argv[2]
COUNTER = itertools.count(1)


async def session(reader, writer):
    def send(line):
        writer.write((line + "\r\n").encode())

    send("220 localhost smtp-sink ready")
    await writer.drain()
    envelope = {"from": None, "to": []}
    while True:
        raw = await reader.readline()
        if not raw:
            break
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        verb = line.split(" ", 1)[0].upper()
        if verb in ("EHLO", "HELO"):
            send("250-localhost")
            send("250-8BITMIME")
            send("250-SMTPUTF8")
            send("250 SIZE 10485760")
        elif verb == "MAIL":
            envelope = {"from": line[10:], "to": []}
            send("250 OK")
        elif verb == "RCPT":
            envelope["to"].append(line[8:])
            send("250 OK")
        elif verb == "DATA":
            send("354 End data with <CR><LF>.<CR><LF>")
            await writer.drain()
            lines = []
            while True:
                data = await reader.readline()
                if not data or data in (b".\r\n", b".\n"):
                    break
                if data.startswith(b".."):
                    data = data[1:]
                lines.append(data)
            name = "%06d-%d" % (next(COUNTER), os.getpid())
            partial = os.path.join(DIR, "." + name + ".tmp")
            with open(partial, "wb") as out:
                out.write(b"".join(lines))
            os.rename(partial, os.path.join(DIR, name + ".eml"))
            send("250 OK: queued")
        elif verb in ("RSET", "NOOP"):
            send("250 OK")
        elif verb == "QUIT":
            send("221 Bye")
            await writer.drain()
            break
        else:
            send("502 Command not implemented")
        await writer.drain()
    writer.close()


async def main():
    os.makedirs(DIR, exist_ok=True)
    server = await asyncio.start_server(session, "127.0.0.1", PORT)
    async with server:
        await server.serve_forever()


asyncio.run(main())
