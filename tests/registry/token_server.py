#!/usr/bin/env python3
"""A tiny token server for the Bearer-auth test registry (docker-registry's `auth: token`).

GET /token?service=S&scope=repository:NAME:pull[,push][&scope=...] with optional Basic credentials.
  - good credentials: every requested action is granted;
  - no credentials: pull only on repositories under public/ (like Docker Hub's public images);
  - wrong credentials: 401.
Tokens are RS256 JWTs with the signing certificate in `x5c`; the registry trusts that certificate
(its rootcertbundle). Signing uses the openssl program, so no Python packages are needed.
Repositories named .../access-token-only get a response with only `access_token` (as some
registries answer). Every request is appended to the log file as one JSON line.

usage: token_server.py PORT KEY CERT ISSUER SERVICE USER PASSWORD LOGFILE
"""
import base64, http.server, json, subprocess, sys, time, urllib.parse, uuid

PORT, KEY, CERT, ISSUER, SERVICE, USER, PASSWORD, LOG = sys.argv[1:9]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cert_der() -> str:
    pem = open(CERT).read()
    body = "".join(l for l in pem.splitlines() if l and not l.startswith("-----"))
    return body  # base64 of the DER bytes, as x5c wants it


X5C = cert_der()


def sign(claims: dict) -> str:
    header = {"typ": "JWT", "alg": "RS256", "x5c": [X5C]}
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", KEY], input=signing_input.encode(),
                         capture_output=True, check=True).stdout
    return signing_input + "." + b64url(sig)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body: dict):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if code == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="kslurm-token"')
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        account = None
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except Exception:
                user, password = "", ""
            if (user, password) != (USER, PASSWORD):
                self.log(url.path, query, "bad-credentials", 401)
                return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
            account = user
        elif auth:
            self.log(url.path, query, "bad-header", 401)
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "unsupported authorization"}]})
        if url.path != "/token":
            return self.reply(404, {"errors": [{"code": "NOT_FOUND"}]})
        access = []
        only_access_token = False
        for scope in query.get("scope", []):
            parts = scope.split(":")
            if len(parts) < 3 or parts[0] != "repository":
                continue
            kind, name, actions = parts[0], ":".join(parts[1:-1]), parts[-1].split(",")
            if name.endswith("/access-token-only"):
                only_access_token = True
            granted = actions if account else [a for a in actions if a == "pull" and name.startswith("public/")]
            access.append({"type": kind, "name": name, "actions": granted})
        now = int(time.time())
        token = sign({"iss": ISSUER, "sub": account or "", "aud": query.get("service", [SERVICE])[0],
                      "exp": now + 300, "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access})
        self.log(url.path, query, account or "anonymous", 200)
        body = {"access_token": token, "expires_in": 300} if only_access_token else \
               {"token": token, "access_token": token, "expires_in": 300}
        self.reply(200, body)

    def log(self, path, query, who, code):
        with open(LOG, "a") as f:
            f.write(json.dumps({"path": path, "query": query, "who": who, "status": code}) + "\n")


http.server.ThreadingHTTPServer.daemon_threads = True
http.server.ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler).serve_forever()
