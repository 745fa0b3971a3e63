"""Masking secret-looking values: the rule, table-driven on text the engine really records."""

from __future__ import annotations

from pathlib import Path

import pytest

from imgviz import frames, load
from imgviz.analysis.secrets import MASK, is_secret_name, mask_env, mask_frames, mask_labels, mask_text

HOSTILE = Path(__file__).resolve().parent.parent / "data" / "hostile" / "snapshot.json.gz"
SECRETS = ("tok-live-9f8e7d", "build-time-secret-4711", "url-secret-55", "ghp-container-secret-1")


@pytest.mark.parametrize("name, secret", [
    ("API_TOKEN", True), ("GITHUB_TOKEN", True), ("AWS_SECRET_ACCESS_KEY", True), ("DB_PASSWORD", True),
    ("MYSQL_ROOT_PASSWD", True), ("api-key", True), ("STRIPE_APIKEY", True), ("SSH_PRIVATE_KEY", True),
    ("GOOGLE_APPLICATION_CREDENTIALS", True), ("org.example.secret", True), ("GPG_PASSPHRASE", True),
    ("PATH", False), ("TARGET", False), ("INTERVAL", False), ("NODE_VERSION", False), ("AUTHOR", False),
    ("KEYBOARD", False), ("", False), (None, False),
    # PASS / PASSWD / PWD variants, and what only looks like them
    ("DB_PASS", True), ("MYSQL_ROOT_PASS", True), ("PGPASS", True), ("MYSQL_PWD", True), ("SMTP_PW", True),
    ("dbPass", True), ("redis.pass", True), ("PWD", False), ("OLDPWD", False), ("BYPASS_CACHE", False),
    ("COMPASS_HOME", False), ("PASSENGER_APP_ENV", False),
])
def test_secret_names(name, secret):
    assert is_secret_name(name) is secret


# created_by texts as BuildKit and the classic builder record them (tests/data/hostile), and RUN lines
@pytest.mark.parametrize("text, expected", [
    ("ENV API_TOKEN=tok-live-9f8e7d SERVICE_URL=postgres://app:url-secret-55@db.internal/app GREETING=hi",
     f"ENV API_TOKEN={MASK} SERVICE_URL=postgres://app:{MASK}@db.internal/app GREETING=hi"),
    ("/bin/sh -c #(nop)  ENV API_TOKEN=tok-live-9f8e7d SERVICE_URL=x",
     f"/bin/sh -c #(nop)  ENV API_TOKEN={MASK} SERVICE_URL=x"),
    ("/bin/sh -c #(nop)  ARG DB_PASSWORD=build-time-secret-4711", f"/bin/sh -c #(nop)  ARG DB_PASSWORD={MASK}"),
    ('RUN |1 DB_PASSWORD=build-time-secret-4711 /bin/sh -c echo "$DB_PASSWORD" > /dev/null # buildkit',
     f'RUN |1 DB_PASSWORD={MASK} /bin/sh -c echo "$DB_PASSWORD" > /dev/null # buildkit'),
    ("ENV PASSWORD=two words OTHER=1", f"ENV PASSWORD={MASK} OTHER=1"),
    ('/bin/sh -c export GITHUB_TOKEN="a b c" && make', f"/bin/sh -c export GITHUB_TOKEN={MASK} && make"),
    ("/bin/sh -c A_SECRET=x;make", f"/bin/sh -c A_SECRET={MASK};make"),
    ("/bin/sh -c curl -u bob:pw https://bob:pw123@host/x", f"/bin/sh -c curl -u bob:{MASK} https://bob:{MASK}@host/x"),
    # the misses: empty URL user, PASS names, Authorization/Bearer, -u in a CMD, private keys
    ("ENV REDIS_URL=redis://:pw@host DB_PASS=p1 MYSQL_ROOT_PASS=p2",
     f"ENV REDIS_URL=redis://:{MASK}@host DB_PASS={MASK} MYSQL_ROOT_PASS={MASK}"),
    ("RUN /bin/sh -c curl -H 'Authorization: Bearer abc.def' https://x/",
     f"RUN /bin/sh -c curl -H 'Authorization: Bearer {MASK}' https://x/"),
    ('/bin/sh -c curl -H "authorization: token ghp_x" https://x/', f'/bin/sh -c curl -H "authorization: token {MASK}" https://x/'),
    ('CMD ["curl" "-u" "admin:pw" "https://x/"]', f'CMD ["curl" "-u" "admin:{MASK}" "https://x/"]'),
    # buildah (podman's builds) writes the exec form with commas
    ('/bin/sh -c #(nop) CMD ["curl", "-u", "admin:pw", "https://x/"]',
     f'/bin/sh -c #(nop) CMD ["curl", "-u", "admin:{MASK}", "https://x/"]'),
    ("curl --user=admin:pw x; wget --http-password=p2 y", f"curl --user=admin:{MASK} x; wget --http-password={MASK} y"),
    ("LABEL k=-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY----- n=1",
     f"LABEL k=-----BEGIN OPENSSH PRIVATE KEY-----{MASK}-----END OPENSSH PRIVATE KEY----- n=1"),
    ("echo -----BEGIN RSA PRIVATE KEY-----\nMIIE (no end)", f"echo -----BEGIN RSA PRIVATE KEY-----{MASK}-----END RSA PRIVATE KEY-----"),
    ("docker login --password-stdin < pw.txt && cd $PWD", "docker login --password-stdin < pw.txt && cd $PWD"),
    ("ENV TARGET=blog.example.org METHOD=HEAD", "ENV TARGET=blog.example.org METHOD=HEAD"),
    ("", ""),
])
def test_mask_text(text, expected):
    assert mask_text(text) == expected


def test_mask_argv_and_records():
    from imgviz.analysis.secrets import mask_argv, mask_record

    assert mask_argv(["curl", "-u", "admin:pw", "-H", "Authorization: Bearer t", "--password", "p", "x"]) == \
        ["curl", "-u", f"admin:{MASK}", "-H", f"Authorization: {MASK}", "--password", MASK, "x"]
    record = {"Config": {"Env": ["A_TOKEN=t", "X=redis://:p@h"], "Labels": {"pw": "v", "k": "-----BEGIN EC PRIVATE "
                                                                             "KEY-----\nabc\n-----END EC PRIVATE KEY-----"},
                         "Cmd": ["sh", "-c", "curl -u a:b x"]}, "Id": "sha256:" + "a" * 64, "Size": 5}
    masked = mask_record(record)
    assert masked["Config"]["Env"] == [f"A_TOKEN={MASK}", f"X=redis://:{MASK}@h"]
    assert masked["Config"]["Labels"]["pw"] == MASK and "abc" not in masked["Config"]["Labels"]["k"]
    assert masked["Config"]["Cmd"] == ["sh", "-c", f"curl -u a:{MASK} x"]
    assert masked["Id"] == record["Id"] and masked["Size"] == 5 and record["Config"]["Env"][0] == "A_TOKEN=t"


def test_mask_env_and_labels():
    assert mask_env(["PATH=/bin", "API_TOKEN=x", "EMPTY_SECRET=", "NOVALUE"]) == \
        ["PATH=/bin", f"API_TOKEN={MASK}", f"EMPTY_SECRET={MASK}", "NOVALUE"]
    assert mask_labels({"a.token": "x", "title": "web"}) == {"a.token": MASK, "title": "web"}
    assert mask_text(None) is None


def test_mask_frames_on_recorded_engine_data():
    f = frames(load(HOSTILE))
    before = f.history["created_by"].copy()
    masked = mask_frames(f)
    # the input is untouched
    assert f.history["created_by"].equals(before)
    assert any(s in " ".join(map(str, f.images["env"])) for s in SECRETS)
    # nothing secret is left anywhere in the masked frames
    for frame in (masked.images, masked.history, masked.layers, masked.containers):
        text = frame.astype(str).to_string()
        for secret in SECRETS:
            assert secret not in text, (secret, frame.columns.tolist())
    # the rest is kept: names, non-secret values, markup (escaping is the renderer's job)
    hostile = masked.images[masked.images["tags"].map(lambda t: "report-test/hostile:1" in t)].iloc[0]
    assert f"API_TOKEN={MASK}" in hostile["env"]
    assert "GREETING=<script>window.__pwned=4</script>" in hostile["env"]
    c = masked.containers.iloc[0]
    assert f"GITHUB_TOKEN={MASK}" in c["env"] and "NOTE=<script>window.__pwned=5</script>" in c["env"]
    assert masked.snapshot is None and len(masked.history) == len(f.history)
    # dtypes stay those of the schema
    assert (masked.history.dtypes == f.history.dtypes).all()
