#!/usr/bin/env python3
"""Write the labelled planted-secret set: realistic files with fake, format-valid secrets,
plus clean files that hold none, and a manifest of every plant.

usage: make_planted.py OUT [SEED]

OUT/planted/...   files in several languages with secrets planted in them
OUT/clean/...     code that looks secret-adjacent (password handling, hashes, UUIDs, test
                  fixtures with placeholders) and holds no secret: every finding there is a
                  false positive
OUT/manifest.json [{"file", "line", "end_line", "kind"}] for every plant (lines 1-based)

The secret formats follow each provider's documented shape (prefix, alphabet, length), not
warden's rules: the kinds are the credentials people leak, chosen before the rules were
checked against them. Every value is random.
"""
import json
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakes import Fakes  # noqa: E402

out = Path(sys.argv[1])
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 5
fk = Fakes(seed)

# (kind, variable name, value template). Multi-line values (PEM) are handled per language.
KINDS = [
    ("aws-access-key-id", "AWS_ACCESS_KEY_ID", "AKIA@@base32:16@@"),
    ("aws-secret-access-key", "AWS_SECRET_ACCESS_KEY", "@@b64:40@@"),
    ("gcp-api-key", "GOOGLE_MAPS_API_KEY", "AIza@@b64url:35@@"),
    ("gcp-oauth-client-secret", "GOOGLE_CLIENT_SECRET", "GOCSPX-@@b64url:28@@"),
    ("azure-storage-connection", "AZURE_STORAGE_CONNECTION_STRING",
     "DefaultEndpointsProtocol=https;AccountName=st@@lower:10@@;AccountKey=@@b64:86@@==;EndpointSuffix=core.windows.net"),
    ("azure-ad-client-secret", "AZURE_CLIENT_SECRET", "@@alnum:3@@8Q~@@b64url:34@@"),
    ("github-pat", "GITHUB_TOKEN", "ghp_@@alnum:36@@"),
    ("github-fine-grained-pat", "GH_PAT", "github_pat_@@alnum:22@@_@@alnum:59@@"),
    ("github-oauth", "GITHUB_OAUTH_TOKEN", "gho_@@alnum:36@@"),
    ("github-app-token", "GH_APP_TOKEN", "ghs_@@alnum:36@@"),
    ("gitlab-pat", "GITLAB_TOKEN", "glpat-@@b64url:20@@"),
    ("gitlab-runner-token", "RUNNER_TOKEN", "glrt-@@b64url:20@@"),
    ("slack-bot-token", "SLACK_BOT_TOKEN", "xoxb-@@digits:12@@-@@digits:13@@-@@alnum:24@@"),
    ("slack-user-token", "SLACK_USER_TOKEN", "xoxp-@@digits:12@@-@@digits:12@@-@@digits:12@@-@@hex:32@@"),
    ("slack-webhook", "SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T@@upalnum:8@@/B@@upalnum:10@@/@@alnum:24@@"),
    ("stripe-secret-key", "STRIPE_SECRET_KEY", "sk_live_@@alnum:24@@"),
    ("stripe-restricted-key", "STRIPE_RESTRICTED_KEY", "rk_live_@@alnum:24@@"),
    ("stripe-webhook-secret", "STRIPE_WEBHOOK_SECRET", "whsec_@@alnum:32@@"),
    ("openai-api-key", "OPENAI_API_KEY", "sk-proj-@@b64url:74@@T3BlbkFJ@@b64url:74@@"),
    ("openai-api-key-legacy", "OPENAI_KEY", "sk-@@alnum:20@@T3BlbkFJ@@alnum:20@@"),
    ("anthropic-api-key", "ANTHROPIC_API_KEY", "sk-ant-api03-@@b64url:93@@AA"),
    ("npm-token", "NPM_TOKEN", "npm_@@alnum:36@@"),
    ("pypi-token", "PYPI_API_TOKEN", "pypi-AgEIcHlwaS5vcmc@@b64url:120@@"),
    ("twilio-api-key", "TWILIO_API_KEY", "SK@@hex:32@@"),
    ("twilio-auth-token", "TWILIO_AUTH_TOKEN", "@@hex:32@@"),
    ("sendgrid-api-key", "SENDGRID_API_KEY", "SG.@@b64url:22@@.@@b64url:43@@"),
    ("mailgun-api-key", "MAILGUN_API_KEY", "key-@@hex:32@@"),
    ("mailchimp-api-key", "MAILCHIMP_API_KEY", "@@hex:32@@-us14"),
    ("shopify-token", "SHOPIFY_ACCESS_TOKEN", "shpat_@@hex:32@@"),
    ("vault-token", "VAULT_TOKEN", "hvs.CAESI@@b64url:90@@"),
    ("datadog-api-key", "DD_API_KEY", "@@hex:32@@"),
    ("heroku-api-key", "HEROKU_API_KEY", "@@uuid@@"),
    ("digitalocean-token", "DIGITALOCEAN_ACCESS_TOKEN", "dop_v1_@@hex:64@@"),
    ("doppler-token", "DOPPLER_TOKEN", "dp.st.prd.@@alnum:43@@"),
    ("discord-webhook", "DISCORD_WEBHOOK", "https://discord.com/api/webhooks/@@digits:18@@/@@b64url:68@@"),
    ("telegram-bot-token", "TELEGRAM_BOT_TOKEN", "@@digits:10@@:AA@@b64url:33@@"),
    ("huggingface-token", "HF_TOKEN", "hf_@@letters:34@@"),
    ("databricks-token", "DATABRICKS_TOKEN", "dapi@@hex:32@@"),
    ("sentry-token", "SENTRY_AUTH_TOKEN", "sntryu_@@hex:64@@"),
    ("newrelic-key", "NEW_RELIC_API_KEY", "NRAK-@@upalnum:27@@"),
    ("grafana-sa-token", "GRAFANA_TOKEN", "glsa_@@alnum:32@@_@@hex:8@@"),
    ("linear-api-key", "LINEAR_API_KEY", "lin_api_@@alnum:40@@"),
    ("postman-api-key", "POSTMAN_API_KEY", "PMAK-@@hex:24@@-@@hex:34@@"),
    ("docker-hub-pat", "DOCKERHUB_TOKEN", "dckr_pat_@@b64url:27@@"),
    ("jwt", "JWT_TOKEN", "@@jwt@@"),
    ("postgres-url", "DATABASE_URL", "postgres://app_user:@@alnum:20@@@db.internal.corp:5432/orders"),
    ("mysql-url", "MYSQL_URL", "mysql://shop:@@alnum:18@@@mysql-1.internal:3306/shop"),
    ("mongodb-url", "MONGO_URI", "mongodb+srv://svc:@@alnum:16@@@cluster0.x1y2z.mongodb.net/prod"),
    ("redis-url", "REDIS_URL", "redis://default:@@alnum:32@@@cache.internal:6379/0"),
    ("generic-password", "DB_PASSWORD", "@@pass:16@@"),
    ("generic-password-2", "SMTP_PASSWORD", "@@pass:14@@"),
    ("generic-api-key", "PAYMENTS_API_KEY", "@@alnum:32@@"),
    ("generic-secret", "SESSION_SECRET", "@@b64url:40@@"),
    ("generic-token", "INTERNAL_API_TOKEN", "@@alnum:40@@"),
    ("age-secret-key", "AGE_KEY", "AGE-SECRET-KEY-1@@bech32:58@@"),
    ("private-key-rsa", "RSA PRIVATE KEY", "PEM"),
    ("private-key-openssh", "OPENSSH PRIVATE KEY", "PEM"),
    ("private-key-pkcs8", "PRIVATE KEY", "PEM"),
    ("private-key-ec", "EC PRIVATE KEY", "PEM"),
    ("private-key-pgp", "PGP PRIVATE KEY BLOCK", "PEM"),
]

FILLER = {
    "py": ["import os", "import logging", "", "log = logging.getLogger(__name__)", "",
           "def connect(retries=3):", "    for attempt in range(retries):", "        log.info('attempt %d', attempt)",
           "    return None", ""],
    "js": ["'use strict';", "const path = require('path');", "", "function init(opts = {}) {",
           "  return { ...opts, started: Date.now() };", "}", ""],
    "go": ["package config", "", "import \"os\"", "", "func Env(k string) string { return os.Getenv(k) }", ""],
    "sh": ["#!/usr/bin/env bash", "set -euo pipefail", "", "cd \"$(dirname \"$0\")\"", "echo starting", ""],
    "env": ["# local settings", "APP_ENV=production", "LOG_LEVEL=info", "PORT=8080"],
    "yaml": ["version: 3", "service:", "  name: orders", "  replicas: 2", "config:"],
    "json": [],
    "toml": ["[server]", "host = \"0.0.0.0\"", "port = 8080", "", "[credentials]"],
    "properties": ["server.port=8080", "spring.application.name=orders", "logging.level.root=INFO"],
}


def camel(name):
    parts = name.lower().split("_")
    return parts[0] + "".join(p.title() for p in parts[1:])


def render(lang, name, value):
    """Lines assigning `value` to `name` in `lang`."""
    lower = name.lower()
    return {
        "py": [f'{name} = "{value}"'],
        "js": [f'const {camel(name)} = process.env.{name} || "{value}";'],
        "go": [f'var {camel(name)} = "{value}"'],
        "sh": [f'export {name}="{value}"'],
        "env": [f"{name}={value}"],
        "yaml": [f'  {lower}: "{value}"'],
        "json": [f'  "{camel(name)}": "{value}",'],
        "toml": [f'{lower} = "{value}"'],
        "properties": [f"{lower.replace('_', '.')}={value}"],
    }[lang]


def render_pem(lang, label, pem):
    lines = pem.split("\n")
    if lang == "py":
        return ['PRIVATE_KEY = """' + lines[0]] + lines[1:-1] + [lines[-1] + '"""']
    if lang == "js":
        return ["const privateKey = `" + lines[0]] + lines[1:-1] + [lines[-1] + "`;"]
    if lang == "go":
        return ["var privateKey = `" + lines[0]] + lines[1:-1] + [lines[-1] + "`"]
    if lang == "sh":
        return ["cat > /tmp/deploy_key <<'EOF'"] + lines + ["EOF"]
    if lang == "yaml":
        return ["  tls_key: |"] + ["    " + l for l in lines]
    if lang == "json":
        return ['  "private_key": "' + "\\n".join(lines) + '\\n",']
    if lang == "env":
        return ['PRIVATE_KEY="' + "\\n".join(lines) + '"']
    if lang == "toml":
        return ['private_key = """'] + lines + ['"""']
    return ["key.pem=" + "\\n".join(lines)]


EXT = {"py": "py", "js": "js", "go": "go", "sh": "sh", "env": "env", "yaml": "yaml", "json": "json",
       "toml": "toml", "properties": "properties"}
LANGS = list(EXT)

if out.exists():
    shutil.rmtree(out)
(out / "planted").mkdir(parents=True)
manifest = []
plants_per_kind = 4
# Spread plants over files: each file gets a handful of secrets from different kinds.
queue = []
for k in range(plants_per_kind):
    for i, kind in enumerate(KINDS):
        queue.append((kind, LANGS[(i + k * 3) % len(LANGS)]))
by_lang = {l: [] for l in LANGS}
for kind, lang in queue:
    by_lang[lang].append(kind)

for lang, kinds in by_lang.items():
    for fileno in range(0, len(kinds), 5):
        chunk = kinds[fileno:fileno + 5]
        dirname = ["services/api", "deploy", "scripts", "config", "src/app"][fileno // 5 % 5]
        fname = {"env": f".env.{['production', 'staging', 'local', 'prod', 'ci'][fileno // 5 % 5]}" if fileno else ".env"}.get(
            lang, f"settings_{fileno // 5}.{EXT[lang]}")
        rel = Path(lang) / dirname / fname
        lines = list(FILLER[lang])
        if lang == "json":
            lines = ["{", '  "name": "orders",']
        for kind_id, name, template in chunk:
            start = len(lines) + 1
            if template == "PEM":
                body = render_pem(lang, name, fk.pem(name))
            else:
                body = render(lang, name, fk.expand(template))
            lines.extend(body)
            manifest.append({"file": str(rel), "line": start, "end_line": start + len(body) - 1, "kind": kind_id})
            lines.extend(FILLER[lang][:3] if lang not in ("json", "yaml", "toml", "properties", "env") else [])
        if lang == "json":
            lines.append('  "version": 1')
            lines.append("}")
        p = out / "planted" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("\n".join(lines) + "\n")

# ---------------------------------------------------------------- clean code
CLEAN = {
    "clean/auth/passwords.py": '''import hashlib
import hmac
import os
import secrets

PASSWORD_MIN_LENGTH = 12
TOKEN_BYTES = 32
SECRET_KEY_SETTING = "SECRET_KEY"


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 600_000)
    return salt.hex() + "$" + digest.hex()


def check_password(password, stored):
    salt_hex, digest_hex = stored.split("$")
    return hmac.compare_digest(hash_password(password, bytes.fromhex(salt_hex)), stored)


def new_token():
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token


def load_settings(env=os.environ):
    password = env.get("DB_PASSWORD")
    api_key = env["PAYMENTS_API_KEY"]
    secret_key = settings.SECRET_KEY
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    return password, api_key, secret_key, token
''',
    "clean/auth/session.js": '''const crypto = require('crypto');

const TOKEN_HEADER = 'x-session-token';
const passwordField = document.querySelector('#password');

function issueToken(user) {
  const token = crypto.randomBytes(32).toString('hex');
  sessions.set(token, { user, created: Date.now() });
  return token;
}

function login(req) {
  const password = req.body.password;
  const apiKey = process.env.API_KEY;
  const secret = config.get('jwt.secret');
  if (!password || password.length < 12) throw new Error('password too short');
  return verify(password, apiKey, secret);
}

module.exports = { issueToken, login, TOKEN_HEADER };
''',
    "clean/config/settings.example.env": '''# Copy to .env and fill in.
DATABASE_URL=postgres://user:password@localhost:5432/app
REDIS_URL=redis://localhost:6379/0
STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx
OPENAI_API_KEY=your-openai-api-key
GITHUB_TOKEN=<your-github-token>
AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
SESSION_SECRET=${SESSION_SECRET}
DB_PASSWORD=changeme
''',
    "clean/deploy/values.yaml": '''image:
  repository: ghcr.io/acme/orders
  tag: "1.4.2"
  digest: sha256:9b2f1c0e8d4a7b6c5e3f2a1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b
auth:
  existingSecret: orders-credentials
  passwordKey: db-password
  tokenSecretRef:
    name: api-token
    key: token
resources:
  limits:
    cpu: 500m
    memory: 256Mi
checksum/config: 3f2a9c8e7d6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f
''',
    "clean/deploy/ci.yml": '''name: ci
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    env:
      GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}
      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
      DB_PASSWORD: ${{ secrets.DB_PASSWORD }}
    steps:
      - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11
      - run: echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > ~/.npmrc
      - run: curl -H "Authorization: Bearer $GITHUB_TOKEN" https://api.github.com/user
''',
    "clean/src/ids.go": '''package ids

import "github.com/google/uuid"

// Known namespace UUIDs and build fingerprints; none of them is a credential.
const (
	NamespaceOrders = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
	BuildCommit     = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"
	EmptySHA256     = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	TokenHeader     = "X-Api-Token"
	PasswordEnvVar  = "DB_PASSWORD"
)

func New() string { return uuid.NewString() }

func tokenFromEnv(get func(string) string) string {
	token := get("API_TOKEN")
	return token
}
''',
    "clean/src/lockfile.json": '''{
  "name": "orders",
  "lockfileVersion": 3,
  "packages": {
    "node_modules/lodash": {
      "version": "4.17.21",
      "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz",
      "integrity": "sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg=="
    },
    "node_modules/uuid": {
      "version": "9.0.1",
      "resolved": "https://registry.npmjs.org/uuid/-/uuid-9.0.1.tgz",
      "integrity": "sha512-b+1eJOlsR9K8HJpow9Ok3fiWOWSIcIzXodvv0rQjVoOVNpWMpxf1wZNpt4y9h10odCNrqnYp1OBzRktckBe3sA=="
    }
  }
}
''',
    "clean/src/assets.js": '''// Inline images and fonts: base64 that is not a secret.
export const PIXEL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
export const ICON_SHA = "sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC";
export const PUBLIC_KEY = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo
4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u
-----END PUBLIC KEY-----`;
export const FONT_HASH = "d41d8cd98f00b204e9800998ecf8427e";
''',
    "clean/scripts/backup.sh": '''#!/usr/bin/env bash
set -euo pipefail
: "${PGPASSWORD:?set PGPASSWORD}"
export AWS_PROFILE=backup
TOKEN=$(vault kv get -field=token secret/backup)
mysql -u backup -p"$MYSQL_PWD" -e 'select 1'
sshpass -f ~/.backup-pass ssh backup@10.0.0.5 true
curl -u "$CI_USER:$CI_PASSWORD" https://ci.internal/api/json
pg_dump "postgresql://backup@db.internal/app" > /tmp/app.sql
''',
    "clean/tests/test_config.py": '''import pytest

FAKE_PASSWORD = "hunter2"


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("API_KEY", "test-api-key")
    monkeypatch.setenv("DB_PASSWORD", "password")
    monkeypatch.setenv("SECRET_KEY", "not-a-secret")


def test_reads_token(env):
    token = load_token()
    assert token == "dummy-token-value"
''',
    "clean/docs/README.md": '''# Orders service

Set `STRIPE_SECRET_KEY` to your key (it starts with `sk_live_`), `GITHUB_TOKEN` to a
token with `repo` scope (`ghp_...`), and `DATABASE_URL` to
`postgres://USER:PASSWORD@HOST:5432/DB`.

```bash
export OPENAI_API_KEY=sk-...
curl -H "Authorization: Bearer <token>" https://api.example.com/v1/orders
```
''',
    "clean/src/Cargo.lock": '''[[package]]
name = "aho-corasick"
version = "1.1.3"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "8e60d3430d3a69478ad0993f19238d2df97c507009a52b3c10addcd7f6bcb916"
dependencies = [
 "memchr",
]

[[package]]
name = "memchr"
version = "2.7.4"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "78ca9ab1a0babb1e7d5695e3530886289c18cf2f87ec19a575a0abdce112e3a3"
''',
}

# Added 2026-12-02: more secret-adjacent code of the kinds real repositories hold (config
# loaders in several frameworks, secret references, public keys, lockfile and module
# hashes, UI strings, RFC test vectors, documentation examples). Written before any tool
# was run on them; none holds a credential.
CLEAN.update({
    "clean/config/application.properties": '''spring.application.name=orders
spring.datasource.url=jdbc:postgresql://db:5432/orders
spring.datasource.username=${DB_USER}
spring.datasource.password=${DB_PASSWORD}
spring.security.oauth2.client.registration.github.client-id=${GITHUB_CLIENT_ID}
spring.security.oauth2.client.registration.github.client-secret=${GITHUB_CLIENT_SECRET}
jwt.secret=${JWT_SECRET:}
jwt.expiration-ms=3600000
server.ssl.key-store=classpath:keystore.p12
server.ssl.key-store-password=${KEYSTORE_PASSWORD}
management.endpoints.web.exposure.include=health,info
''',
    "clean/deploy/docker-compose.yml": '''services:
  db:
    image: postgres:16
    environment:
      POSTGRES_USER: app
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-postgres}
      POSTGRES_DB: app
  api:
    build: .
    environment:
      DATABASE_URL: postgres://app:${POSTGRES_PASSWORD:-postgres}@db:5432/app
      SECRET_KEY_BASE: ${SECRET_KEY_BASE}
      REDIS_PASSWORD_FILE: /run/secrets/redis_password
    secrets:
      - redis_password
secrets:
  redis_password:
    file: ./secrets/redis_password.txt
''',
    "clean/deploy/main.tf": '''variable "db_password" {
  type      = string
  sensitive = true
}

resource "random_password" "api_token" {
  length  = 40
  special = false
}

resource "aws_db_instance" "orders" {
  identifier        = "orders-prod"
  engine            = "postgres"
  instance_class    = "db.t4g.medium"
  username          = "orders"
  password          = var.db_password
  kms_key_id        = aws_kms_key.orders.arn
  storage_encrypted = true
}

resource "aws_secretsmanager_secret_version" "api" {
  secret_id     = aws_secretsmanager_secret.api.id
  secret_string = jsonencode({ token = random_password.api_token.result })
}

output "api_token_secret_arn" {
  value = aws_secretsmanager_secret.api.arn
}
''',
    "clean/deploy/deployment.yaml": '''apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders
spec:
  template:
    spec:
      containers:
        - name: orders
          image: ghcr.io/acme/orders@sha256:5d41402abc4b2a76b9719d911017c592ae1f1b6a8e3c8c7e2d1f0a9b8c7d6e5f
          env:
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: orders-db
                  key: password
            - name: API_TOKEN
              valueFrom:
                secretKeyRef:
                  name: orders-api
                  key: token
          volumeMounts:
            - name: tls
              mountPath: /etc/tls
      volumes:
        - name: tls
          secret:
            secretName: orders-tls
''',
    "clean/src/settings.py": '''import os

from decouple import config

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = config("DEBUG", default=False, cast=bool)

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("POSTGRES_DB", "orders"),
        "USER": os.environ.get("POSTGRES_USER", "orders"),
        "PASSWORD": os.environ.get("POSTGRES_PASSWORD", ""),
        "HOST": os.environ.get("POSTGRES_HOST", "localhost"),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]

EMAIL_HOST_PASSWORD = config("EMAIL_HOST_PASSWORD", default="")
SOCIAL_AUTH_GITHUB_KEY = config("SOCIAL_AUTH_GITHUB_KEY")
SOCIAL_AUTH_GITHUB_SECRET = config("SOCIAL_AUTH_GITHUB_SECRET")
SESSION_COOKIE_NAME = "orders_sessionid"
''',
    "clean/src/database.php": '''<?php

return [
    'default' => env('DB_CONNECTION', 'mysql'),
    'connections' => [
        'mysql' => [
            'driver' => 'mysql',
            'host' => env('DB_HOST', '127.0.0.1'),
            'database' => env('DB_DATABASE', 'forge'),
            'username' => env('DB_USERNAME', 'forge'),
            'password' => env('DB_PASSWORD', ''),
        ],
    ],
    'redis' => [
        'password' => env('REDIS_PASSWORD'),
    ],
    's3' => [
        'key' => env('AWS_ACCESS_KEY_ID'),
        'secret' => env('AWS_SECRET_ACCESS_KEY'),
        'bucket' => env('AWS_BUCKET'),
    ],
];
''',
    "clean/src/appsettings.Development.json": '''{
  "ConnectionStrings": {
    "Default": "Server=localhost;Database=Orders;Trusted_Connection=True;TrustServerCertificate=True"
  },
  "Jwt": {
    "Issuer": "https://localhost:5001",
    "Audience": "orders-api",
    "SigningKeyEnv": "ORDERS_JWT_SIGNING_KEY"
  },
  "Stripe": {
    "SecretKey": "",
    "WebhookSecretName": "stripe-webhook-secret"
  },
  "Logging": {
    "LogLevel": { "Default": "Information" }
  }
}
''',
    "clean/src/apiClient.ts": '''import { getAccessToken, refreshToken } from "./auth";

export const TOKEN_STORAGE_KEY = "orders.auth.token";
const REFRESH_TOKEN_PATH = "/oauth/token";
const mapsApiKey = import.meta.env.VITE_MAPS_API_KEY;

export async function request(path: string, init: RequestInit = {}) {
  const token = await getAccessToken();
  const res = await fetch(path, {
    ...init,
    headers: { ...init.headers, Authorization: `Bearer ${token}` },
  });
  if (res.status === 401) {
    await refreshToken(REFRESH_TOKEN_PATH);
  }
  return res;
}

export const completionDefaults = { maxTokens: 4096, temperature: 0.2 };
export const tokenizerName = "cl100k_base";
export { mapsApiKey };
''',
    "clean/docs/openapi.yaml": '''openapi: 3.0.3
info:
  title: Orders API
  version: 1.4.2
components:
  securitySchemes:
    bearerAuth:
      type: http
      scheme: bearer
      bearerFormat: JWT
  parameters:
    Authorization:
      name: Authorization
      in: header
      required: true
      schema:
        type: string
      # The example token from the JWT introduction at jwt.io, signed with the
      # placeholder "your-256-bit-secret".
      example: "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
security:
  - bearerAuth: []
''',
    "clean/config/secrets.yml": '''# Values come from the environment; nothing here is a secret.
production:
  secret_key_base: <%= ENV["SECRET_KEY_BASE"] %>
  stripe_secret_key: <%= ENV.fetch("STRIPE_SECRET_KEY") %>
  smtp_password: <%= ENV.fetch("SMTP_PASSWORD", "") %>
development:
  secret_key_base: <%= ENV.fetch("SECRET_KEY_BASE") { SecureRandom.hex(64) } %>
''',
    "clean/deploy/authorized_keys": '''# Public keys of the deploy users (public by design).
ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJA7yk/QJ/K1HNBW+IQ4pKPK0TWzu4bzqUuDj7TsVXA1 deploy@orders
''',
    "clean/src/go.sum": '''github.com/google/uuid v1.6.0 h1:/wPMHsUaUBuewHKoMC94GeGxxUNarGcrmrZ9eNCnCsk=
github.com/google/uuid v1.6.0/go.mod h1:b3ph5Q00YRo0lHAugXKaN/oux1CzCWikPrG8bvK22qM=
github.com/jackc/pgx/v5 v5.7.2 h1:flbq+HiVtg56mUu1+CUv8GL0BRjcPdVpmDbt2NEyGZE=
github.com/jackc/pgx/v5 v5.7.2/go.mod h1:Svzqxclr8hLXGF+q9H95iA9YCGRjmjOkKuS2UseXVJc=
golang.org/x/crypto v0.31.0 h1:dqgNrAJexotH7MXmnJnkQ8iROUE4UNIlNpTt4cIkksE=
golang.org/x/crypto v0.31.0/go.mod h1:Irw2VV7qqOfVz2kDYaHoUneQDoXZb0YzKD5kVKO0M/I=
''',
    "clean/src/i18n/en.json": '''{
  "auth.password.label": "Password",
  "auth.password.reset_sent": "We sent a password reset link to your email address.",
  "auth.token.expired": "Your session token has expired. Please sign in again.",
  "settings.api_key.help": "Create an API key under Settings, then Developer.",
  "settings.secret.rotate": "Rotate secret",
  "settings.token.copy_once": "Copy this token now: you will not be able to see it again."
}
''',
    "clean/tests/test_hmac.py": '''import hashlib
import hmac

# RFC 4231, test case 1: a published test vector, not a key anyone uses.
KEY = bytes.fromhex("0b" * 20)
DATA = b"Hi There"
EXPECTED_SHA256 = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"


def test_rfc4231_case_1():
    assert hmac.new(KEY, DATA, hashlib.sha256).hexdigest() == EXPECTED_SHA256
''',
    "clean/src/index.html": '''<!doctype html>
<html>
  <head>
    <link rel="stylesheet" href="https://cdn.example.org/bootstrap/5.3.3/bootstrap.min.css"
          integrity="sha384-3LoFtg9brQte6+lw56FtB/4sIyCPyKgN/NrcdR5USpoJ9DYoM/VwF+ldROX/awAV"
          crossorigin="anonymous">
    <script src="/static/js/main.b28b7af6.js" defer></script>
    <script src="/static/js/vendor.9fdcb2f4.js" defer></script>
  </head>
  <body>
    <form method="post" action="/login">
      <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
      <input type="password" name="password" autocomplete="current-password">
    </form>
  </body>
</html>
''',
    "clean/scripts/deploy.sh": '''#!/usr/bin/env bash
set -euo pipefail
read -rsp "Vault password: " VAULT_PASSWORD
export VAULT_TOKEN="$(vault login -token-only -method=oidc)"
DB_PASSWORD="$(vault kv get -field=password secret/orders/db)"
echo "$GITHUB_TOKEN" | docker login ghcr.io -u "$GITHUB_ACTOR" --password-stdin
kubectl create secret generic orders-db --from-literal=password="$DB_PASSWORD" --dry-run=client -o yaml
''',
})
for rel, text in CLEAN.items():
    p = out / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)

(out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
print(f"{len(manifest)} plants of {len(KINDS)} kinds in {len(set(m['file'] for m in manifest))} files; "
      f"{len(CLEAN)} clean files -> {out}")
