"""Fake but format-valid secret values, from a seeded generator.

Every value is random: none is a live credential. The generator is seeded so that a
planted set is reproducible byte for byte.
"""
import random
import re

CHARSETS = {
    "alnum": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    "hex": "0123456789abcdef",
    "HEX": "0123456789ABCDEF",
    "lower": "abcdefghijklmnopqrstuvwxyz",
    "letters": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "upalnum": "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "lowalnum": "abcdefghijklmnopqrstuvwxyz0123456789",
    "b64": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    "b64url": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
    "digits": "0123456789",
    "base32": "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
    "lb32": "abcdefghijklmnopqrstuvwxyz234567",
    "bech32": "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
    "pass": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!%^*+-_",
}


class Fakes:
    def __init__(self, seed):
        self.rng = random.Random(seed)

    def chars(self, kind, n):
        cs = CHARSETS[kind]
        while True:
            s = "".join(self.rng.choice(cs) for _ in range(n))
            # A real random token has at least one digit almost always; our detectors (and
            # every peer's) treat digit-free values as words, so keep fakes realistic.
            if kind in ("alnum", "b64", "b64url", "pass", "upalnum", "lowalnum") and n >= 12:
                if not any(c.isdigit() for c in s):
                    continue
            if re.search(r"(.)\1\1\1", s) or "xxxx" in s.lower() or "example" in s.lower():
                continue
            return s

    def uuid(self):
        h = self.chars("hex", 32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def pem(self, label, lines=12, escaped=False):
        body = [self.chars("b64", 64) for _ in range(lines)] + [self.chars("b64", 28) + "=="]
        nl = "\\n" if escaped else "\n"
        return f"-----BEGIN {label}-----{nl}" + nl.join(body) + f"{nl}-----END {label}-----"

    def jwt(self):
        import base64, json
        def b64(obj):
            return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")
        head = b64({"alg": "HS256", "typ": "JWT"})
        body = b64({"sub": self.chars("digits", 10), "name": "svc-" + self.chars("lower", 6), "iat": 1700000000 + self.rng.randint(0, 10**7)})
        return f"{head}.{body}.{self.chars('b64url', 43)}"

    def expand(self, template):
        """Expand @@kind:N@@, @@uuid@@, @@jwt@@, @@pem:LABEL@@, @@pemesc:LABEL@@ markers."""
        def sub(m):
            spec = m.group(1)
            if spec == "uuid":
                return self.uuid()
            if spec == "jwt":
                return self.jwt()
            if spec.startswith("pem:"):
                return self.pem(spec[4:])
            if spec.startswith("pemesc:"):
                return self.pem(spec[7:], escaped=True)
            kind, n = spec.split(":")
            return self.chars(kind, int(n))
        return re.sub(r"@@([A-Za-z0-9_: ]+?)@@", sub, template)
