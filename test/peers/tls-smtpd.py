#!/usr/bin/env python3
"""A small SMTP server with STARTTLS, written with Python's ssl and socketserver modules only
(smtpd left the standard library in 3.12; aiosmtpd is not installed here). It behaves like the
servers in the seed's diagnosis guide: after STARTTLS the session is reset (RFC 3207 section 4.2)
and MAIL gets 503 until the client has sent EHLO again; MAIL without TLS gets 530.

Usage: tls-smtpd.py CERT KEY
Prints "PORT n" once listening on 127.0.0.1 (port chosen by the system), then one line per
event: "CONN n", "MAIL n tls=0|1 ok|503|530", "MSG n bytes". Stops on EOF of standard input.
"""
import socketserver
import ssl
import sys
import threading

CERT, KEY = sys.argv[1], sys.argv[2]
CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
CTX.load_cert_chain(CERT, KEY)
OUT = threading.Lock()
COUNTER = iter(range(1, 1_000_000))
MAX_LINE = 4096
MAX_DATA = 10 * 1024 * 1024


def say(line):
    with OUT:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class Session(socketserver.StreamRequestHandler):
    timeout = 60

    def reply(self, text):
        self.wfile.write((text + "\r\n").encode("ascii"))
        self.wfile.flush()

    def readline(self):
        line = self.rfile.readline(MAX_LINE)
        if not line:
            return None
        return line.decode("latin1").rstrip("\r\n")

    def handle(self):
        with OUT:
            self.no = next(COUNTER)
        say(f"CONN {self.no}")
        tls = False
        ehlo = False
        in_txn = False
        self.reply("220 pytls.test ESMTP python")
        while True:
            line = self.readline()
            if line is None:
                return
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                ehlo = True
                in_txn = False
                if verb == "HELO":
                    self.reply("250 pytls.test")
                elif tls:
                    self.reply("250-pytls.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 10485760")
                else:
                    self.reply("250-pytls.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 10485760\r\n250 STARTTLS")
            elif verb == "STARTTLS":
                if tls:
                    self.reply("503 5.5.1 TLS already active")
                    continue
                self.reply("220 2.0.0 ready to start TLS")
                sock = CTX.wrap_socket(self.connection, server_side=True)
                self.connection = sock
                self.rfile = sock.makefile("rb")
                self.wfile = sock.makefile("wb")
                tls = True
                # RFC 3207 section 4.2: the server forgets everything it learned; EHLO again.
                ehlo = False
                in_txn = False
            elif verb == "MAIL":
                if not tls:
                    say(f"MAIL {self.no} tls=0 530")
                    self.reply("530 5.7.0 Must issue a STARTTLS command first")
                elif not ehlo:
                    say(f"MAIL {self.no} tls=1 503")
                    self.reply("503 5.5.1 Error: send HELO/EHLO first")
                else:
                    say(f"MAIL {self.no} tls=1 ok")
                    in_txn = True
                    self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                self.reply("250 2.1.5 Ok" if in_txn else "503 5.5.1 Error: need MAIL command")
            elif verb == "DATA":
                if not in_txn:
                    self.reply("503 5.5.1 Error: need RCPT command")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                size = 0
                while True:
                    d = self.rfile.readline(MAX_LINE)
                    if not d:
                        return
                    if d in (b".\r\n", b".\n"):
                        break
                    size += len(d)
                    if size > MAX_DATA:
                        return
                say(f"MSG {self.no} {size}")
                in_txn = False
                self.reply("250 2.0.0 Ok: queued")
            elif verb == "RSET":
                in_txn = False
                self.reply("250 2.0.0 Ok")
            elif verb == "NOOP":
                self.reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Error: command not recognized")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    server = Server(("127.0.0.1", 0), Session)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    say(f"PORT {server.server_address[1]}")
    sys.stdin.read()  # the test closes standard input to stop the server
    server.shutdown()


if __name__ == "__main__":
    main()
