#!/usr/bin/env python3
# Starts a service the way its systemd unit does, without the sandbox: the
# unit's Environment= and EnvironmentFile= settings, its ExecStart= with
# systemd's variable expansion, STATE_DIRECTORY set. The service must print
# its "listening on" line, and exit 0 on SIGTERM. This catches what
# systemd-analyze verify cannot: an option the program does not know, a
# variable the unit never sets, an example configuration the program refuses.
# Prints TAP for meson.
#
# Usage: check-unit-start.py UNIT [--path INSTALLED=FILE]...
#
# --path maps a file the unit names where it will be installed (its
# configuration) to the example in the source tree. "--port 0" is appended to
# the command, so that the test never collides with anything on the machine.

import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading

results = []


def check(ok, name, why=""):
    results.append((bool(ok), name, why))


def unit_service_lines(path):
    """The [Service] settings, in order, with continuation lines joined."""
    lines, section, pending = [], None, ""
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = pending + raw.rstrip("\n")
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            pending = ""
            stripped = line.strip()
            if not stripped or stripped[0] in "#;":
                continue
            if stripped.startswith("["):
                section = stripped
                continue
            if section == "[Service]" and "=" in stripped:
                key, _, value = stripped.partition("=")
                lines.append((key.strip(), value.strip()))
    return lines


def assignments(value):
    """Environment=: space-separated NAME=VALUE words, each maybe quoted."""
    out = {}
    for word in shlex.split(value):
        name, _, val = word.partition("=")
        out[name] = val
    return out


def env_file(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and line[0] not in "#;":
                name, _, val = line.partition("=")
                words = shlex.split(val)
                out[name.strip()] = " ".join(words)
    return out


def expand(command, env):
    """systemd's rules: "$NAME" alone is split at whitespace, "${NAME}"
    anywhere is replaced in place and stays one argument."""
    args = []
    for word in shlex.split(command):
        if re.fullmatch(r"\$[A-Za-z_][A-Za-z0-9_]*", word):
            args.extend(env.get(word[1:], "").split())
            continue
        missing = [m for m in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", word) if m not in env]
        if missing:
            raise KeyError(", ".join(missing))
        args.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: env[m.group(1)], word))
    return args


def main():
    argv = sys.argv[1:]
    if not argv:
        print("usage: check-unit-start.py UNIT [--path INSTALLED=FILE]...", file=sys.stderr)
        print("Bail out! wrong arguments")
        return 1
    unit, paths = argv[0], {}
    rest = argv[1:]
    while rest:
        if rest[0] != "--path" or len(rest) < 2 or "=" not in rest[1]:
            print("Bail out! bad argument %r" % rest[0])
            return 1
        installed, _, real = rest[1].partition("=")
        paths[installed] = real
        rest = rest[2:]

    settings = unit_service_lines(unit)
    env = {}
    for key, value in settings:
        if key == "Environment":
            env.update(assignments(value))
    for key, value in settings:
        if key == "EnvironmentFile":
            optional = value.startswith("-")
            name = value.lstrip("-")
            real = paths.get(name, name)
            if os.path.exists(real):
                env.update(env_file(real))
                check(True, "EnvironmentFile %s read from %s" % (name, real))
            else:
                check(optional, "EnvironmentFile %s exists or is optional" % name)
    starts = [value for key, value in settings if key == "ExecStart"]
    check(len(starts) == 1, "the unit has one ExecStart", repr(starts))
    if len(starts) != 1:
        return report()

    with tempfile.TemporaryDirectory() as state:
        env["STATE_DIRECTORY"] = state
        try:
            args = expand(starts[0], env)
            check(True, "every variable in ExecStart is set")
        except KeyError as e:
            check(False, "every variable in ExecStart is set", "unset: %s" % e)
            return report()
        args = [paths.get(a, a) for a in args] + ["--port", "0"]
        print("# " + " ".join(shlex.quote(a) for a in args))

        proc = subprocess.Popen(args, env=dict(os.environ, **env), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        first = []
        reader = threading.Thread(target=lambda: first.append(proc.stdout.readline()))
        reader.start()
        reader.join(15)
        line = first[0].strip() if first else ""
        check(" listening on " in line, "the service starts and listens", line or "no \"listening on\" line")
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        check(proc.returncode == 0, "the service exits 0 on SIGTERM",
              "exit status %s\n%s" % (proc.returncode, err.strip()))
    return report()


def report():
    failed = 0
    print("1..%d" % len(results))
    for n, (ok, name, why) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", n, name))
        if not ok:
            failed += 1
            for line in str(why).splitlines():
                print("# " + line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
