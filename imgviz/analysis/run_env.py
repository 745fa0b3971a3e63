"""The environment ``docker run -e ...`` gives a container's process, from the image's ENV.

The rule, in three steps, as Docker's client, engine and runtime apply it (checked against real
``docker run`` on a real engine by tests/analysis/test_run_env_live.py):

1. **Client** (``docker run -e ARG``): ``NAME=VALUE`` is passed as it is (the value may be empty or
   hold ``=``); a bare ``NAME`` becomes ``NAME=<value>`` when ``NAME`` is set in the client's own
   environment (even to the empty string), and stays a bare ``NAME`` otherwise. An empty name
   (``-e =x``) is refused.
2. **Container config** (``docker inspect`` ``.Config.Env``): one item per name given with
   ``-e``, in the form of that name's *last* ``-e`` (``NAME=VALUE`` or a bare ``NAME``); then each
   image ENV item whose name no ``-e`` item names, in the image's order. A bare ``NAME`` therefore
   hides the image's default. The ``-e`` items pass through a Go map on the way: they come in the
   order of first use here, but the engine may list them rotated (seen on dockerd 20.10: ``W=4``
   first for ``-e X=1 -e Y=2 -e Z=3 -e W=4`` once in eight runs). Compare them as a set.
3. **Process**: the engine starts from ``PATH=<default>``, ``HOSTNAME=<the container's hostname>``
   (the short container ID unless ``--hostname``) and ``TERM=xterm`` under ``-t``; each config item
   replaces the same name in place or is appended; a bare ``NAME`` removes the name and is not
   passed. The runtime (runc) then adds ``HOME`` from the user's ``/etc/passwd`` entry when the
   environment has none (``/`` when the image has no passwd file).

Pure: lists of strings in, lists or a frame out; nothing here reads an engine.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from ..errors import ImgvizError

__all__ = ["DEFAULT_PATH", "client_args", "config_env", "process_env", "run_env"]

#: the engine's default PATH for Linux containers (replaced by an image's or -e's PATH)
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _name(item: str) -> str:
    return item.split("=", 1)[0]


def client_args(env_args: Iterable[str], client_env: Mapping[str, str] | None = None) -> list[str]:
    """Step 1: what the docker client sends for ``-e`` arguments (see the module docstring).

    Raises
    ------
    ImgvizError
        ``invalid environment variable: =x`` for an argument with an empty name, as the client says.
    """
    client_env = {} if client_env is None else client_env
    out = []
    for arg in env_args:
        arg = str(arg)
        name = _name(arg)
        if not name:
            raise ImgvizError(f"invalid environment variable: {arg}")
        if "=" not in arg and name in client_env:
            arg = f"{name}={client_env[name]}"
        out.append(arg)
    return out


def _one_per_name(items: Iterable[str]) -> list[str]:
    """One item per name: the name's last form, at the place of its first use."""
    last = {}
    for item in items:
        last[_name(item)] = item  # a dict keeps the first insertion's place
    return list(last.values())


def config_env(image_env: Iterable[str] | None, sent: Iterable[str]) -> list[str]:
    """Step 2: the container's ``Config.Env`` from the image's ENV and the items the client sent."""
    user = _one_per_name(sent)
    names = {_name(x) for x in user}
    return user + [x for x in (image_env or []) if _name(x) not in names]


def process_env(config: Iterable[str], *, hostname: str = "<container id>", tty: bool = False) -> list[str]:
    """Step 3, the engine's part: the process environment from ``Config.Env`` (runc's ``HOME`` is
    :func:`run_env`'s to add)."""
    env = [f"PATH={DEFAULT_PATH}", f"HOSTNAME={hostname}"] + (["TERM=xterm"] if tty else [])
    where = {_name(x): i for i, x in enumerate(env)}
    removed: set[int] = set()
    for item in config:
        name = _name(item)
        if "=" not in item:
            if name in where:
                removed.add(where[name])
            continue
        if name in where and where[name] not in removed:
            env[where[name]] = item
        else:
            where[name] = len(env)
            env.append(item)
    return [x for i, x in enumerate(env) if i not in removed]


def run_env(image_env: Iterable[str] | None, env_args: Iterable[str] = (), *,
            client_env: Mapping[str, str] | None = None, hostname: str = "<container id>", tty: bool = False,
            home: str = "<home of the user in /etc/passwd>"):
    """The environment of a container's process after ``docker run -e ARG ... IMAGE``.

    Parameters
    ----------
    image_env : list of str
        The image config's ``Env`` (``f.images["env"]``).
    env_args : list of str
        The ``-e`` arguments, in order (``"TARGET=google.com"``, or a bare ``"TARGET"``).
    client_env : mapping, optional
        The docker client's own environment, for bare names (default: empty).
    hostname, tty, home
        ``--hostname`` (default: the short container ID), ``-t``, and the value runc gives ``HOME``
        when nothing sets it.

    Returns
    -------
    DataFrame
        One row per variable the process sees, in the order ``env`` prints them: ``name``,
        ``value``, ``source`` (``-e``, ``-e (client's environment)``, ``image ENV``, ``engine``,
        ``runtime``), ``image_default`` (the image's value, or None), ``changed`` (the value differs
        from the image's, or the image does not set it). Its ``attrs`` hold ``sent`` (step 1),
        ``config`` (step 2) and ``removed`` (image names a bare ``-e NAME`` unset).
    """
    import pandas as pd

    args = [str(a) for a in env_args]
    sent = client_args(args, client_env)
    config = config_env(image_env, sent)
    env = process_env(config, hostname=hostname, tty=tty)
    defaults = dict(x.split("=", 1) if "=" in x else (x, "") for x in (image_env or []))
    from_client = {_name(a) for a, s in zip(args, sent) if "=" not in a and "=" in s}
    user = {_name(x) for x in sent if "=" in x}
    last_user = {_name(x): x for x in _one_per_name(sent)}
    rows = []
    for item in env:
        name, value = item.split("=", 1)
        if name in user and "=" in last_user.get(name, ""):
            source = "-e (client's environment)" if name in from_client else "-e"
        elif name in defaults and f"{name}={defaults[name]}" == item:
            source = "image ENV"
        else:
            source = "engine"
        rows.append({"name": name, "value": value, "source": source, "image_default": defaults.get(name)})
    if "HOME" not in {r["name"] for r in rows}:
        rows.append({"name": "HOME", "value": home, "source": "runtime", "image_default": None})
    frame = pd.DataFrame(rows, columns=["name", "value", "source", "image_default"])
    frame["changed"] = [d is None or d != v for v, d in zip(frame["value"], frame["image_default"])]
    frame.loc[frame["source"].isin(["engine", "runtime"]) & frame["image_default"].isna(), "changed"] = False
    frame.attrs.update(sent=sent, config=config,
                       removed=[n for n in defaults if n in last_user and "=" not in last_user[n]])
    return frame
