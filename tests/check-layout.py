#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Holds the build to the layout of docs/architecture.md.

  check-layout.py SOURCE_ROOT BUILD_ROOT RELAY PARTNER
  check-layout.py --self-test SOURCE_ROOT

Three checks, in TAP:
  - every #include "…" in a library of src/ names a header of that library
    or of one it may use, and no library includes the system headers of a
    dependency it may not have (libsoup in the protocol library, GTK in the
    servers, …);
  - the servers' link lines in the build (build.ninja) name none of the
    wallet's libraries;
  - the servers' binaries load none of them (ldd);
  - in a build of just the servers (-Dapp=false -Dcli=false), meson looked
    up none of them.
--self-test breaks copies of each input and expects every check to fail.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

# docs/architecture.md's table: what each library may include of ours.
ALLOWED = {
    "protocol": {"protocol"},
    "httpd": {"httpd", "protocol"},
    "relay": {"relay", "httpd", "protocol"},
    "partner": {"partner", "httpd", "protocol"},
    "core": {"core", "protocol"},
    "qr": {"qr"},
    "cli": {"cli", "core", "qr", "protocol"},
    "app": {"app", "core", "qr", "protocol"},
}

# The wallet's dependencies, as system headers and as libraries.
WALLET_HEADERS = {
    "libsoup": r"<libsoup/",
    "libsecret": r"<libsecret/",
    "GTK": r"<(gtk|gdk)/",
    "libadwaita": r"<adwaita\.h>",
    "zbar": r"<zbar\.h>",
    "GStreamer": r"<gst/",
    "libqrencode": r"<qrencode\.h>",
    "libportal": r"<libportal",
}
WALLET_LIBRARIES = ["libsoup", "libsecret", "libgtk", "libgdk-", "libadwaita", "libzbar", "libgst",
                    "libqrencode", "libportal", "libgdk_pixbuf"]
# And our own, which the servers link statically.
WALLET_STATIC = ["liblatchkey-core.a", "liblatchkey-qr.a", "liblatchkey-cli.a", "liblatchkey-app.a"]
# Which libraries may include which of those headers.
HEADERS_ALLOWED = {
    "core": {"libsoup", "libsecret"},
    "qr": {"zbar"},
    "cli": {"libqrencode", "GTK"},
    "app": set(WALLET_HEADERS),
}

INCLUDE = re.compile(r'^\s*#\s*include\s+([<"])([^>"]+)[>"]', re.M)


def headers_by_library(src):
    owner = {}
    for library in os.listdir(src):
        path = os.path.join(src, library)
        if os.path.isdir(path):
            for name in os.listdir(path):
                if name.endswith(".h"):
                    owner[name] = library
    # Generated beside lk-types.h.
    owner["lk-enum-types.h"] = "protocol"
    return owner


def check_includes(src):
    """Returns the problems found, one sentence each."""
    problems = []
    owner = headers_by_library(src)
    for library in sorted(ALLOWED):
        directory = os.path.join(src, library)
        if not os.path.isdir(directory):
            continue
        for name in sorted(os.listdir(directory)):
            if not name.endswith((".c", ".h")):
                continue
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                text = f.read()
            for kind, header in INCLUDE.findall(text):
                where = f"src/{library}/{name}"
                if kind == '"':
                    if header == "config.h" or "/" in header:
                        continue
                    home = owner.get(header)
                    if home is None:
                        problems.append(f"{where} includes {header}, which no library has")
                    elif home not in ALLOWED[library]:
                        problems.append(f"{where} includes {header} of src/{home}/, which {library} may not use")
                else:
                    for dependency, pattern in WALLET_HEADERS.items():
                        if re.match(pattern, f"<{header}>") and dependency not in HEADERS_ALLOWED.get(library, set()):
                            problems.append(f"{where} includes <{header}>: {library} may not depend on {dependency}")
    return problems


def link_lines(build_ninja, target):
    """The link arguments of @target (a path in the build) in build.ninja."""
    with open(build_ninja, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines):
        if line.startswith(f"build {target}:"):
            block = [line]
            for following in lines[i + 1:]:
                if not following.startswith(" "):
                    break
                block.append(following)
            return "\n".join(block)
    return None


def check_link_line(text, name):
    if text is None:
        return [f"build.ninja has no link step for {name}"]
    return [f"{name} is linked with {library}" for library in WALLET_LIBRARIES + WALLET_STATIC if library in text]


def check_loaded(ldd_output, name):
    return [f"{name} loads {library}" for library in WALLET_LIBRARIES if library in ldd_output]


# The wallet's dependencies as meson names them.
WALLET_DEPENDENCIES = ["libsoup-3.0", "libsecret-1", "gtk4", "libadwaita-1", "zbar", "gstreamer-1.0",
                       "gstreamer-app-1.0", "gstreamer-video-1.0", "libqrencode", "libportal-gtk4",
                       "gdk-pixbuf-2.0"]


def servers_only(build_root):
    with open(os.path.join(build_root, "meson-info", "intro-buildoptions.json"), encoding="utf-8") as f:
        options = {option["name"]: option["value"] for option in json.load(f)}
    return not options.get("app", True) and not options.get("cli", True)


def check_dependencies(dependencies):
    return [f"the build uses {name}" for name in dependencies if name in WALLET_DEPENDENCIES]


def dependencies_of(build_root):
    with open(os.path.join(build_root, "meson-info", "intro-dependencies.json"), encoding="utf-8") as f:
        return [dependency["name"] for dependency in json.load(f)]


def ldd(binary):
    return subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = False

    def check(self, ok, name, problems=()):
        self.n += 1
        print(f"{'ok' if ok else 'not ok'} {self.n} - {name}")
        for problem in problems:
            print(f"# {problem}")
        self.failed |= not ok

    def end(self):
        print(f"1..{self.n}")
        return 1 if self.failed else 0


def run(source_root, build_root, binaries):
    tap = Tap()
    problems = check_includes(os.path.join(source_root, "src"))
    tap.check(not problems, "every library includes only what it may use", problems)
    ninja = os.path.join(build_root, "build.ninja")
    for binary in binaries:
        name = os.path.basename(binary)
        target = os.path.relpath(binary, build_root)
        problems = check_link_line(link_lines(ninja, target), name)
        tap.check(not problems, f"{name}'s link line names none of the wallet's libraries", problems)
        problems = check_loaded(ldd(binary), name)
        tap.check(not problems, f"{name} loads none of the wallet's libraries", problems)
    if servers_only(build_root):
        problems = check_dependencies(dependencies_of(build_root))
        tap.check(not problems, "a build of the servers alone needs none of the wallet's dependencies", problems)
    return tap.end()


def self_test(source_root):
    """Each check must fail on a broken input: a check that cannot fail
    checks nothing."""
    tap = Tap()
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src")
        shutil.copytree(os.path.join(source_root, "src"), src)
        tap.check(not check_includes(src), "the tree as it is passes")

        breakages = {
            "protocol includes a core header": ("protocol/lk-types.c", '#include "lk-http.h"\n'),
            "the relay includes the core's umbrella": ("relay/relay-page.c", '#include "latchkey-core.h"\n'),
            "the server kit includes a relay header": ("httpd/httpd-log.c", '#include "relay-store.h"\n'),
            "the partner includes libsoup": ("partner/partner-token.c", "#include <libsoup/soup.h>\n"),
            "the protocol includes GTK": ("protocol/lk-error.c", "#include <gtk/gtk.h>\n"),
            "the core includes an app header": ("core/lk-store.c", '#include "latchkey-window.h"\n'),
            "an unknown header": ("qr/lk-qr-decoder.c", '#include "nowhere.h"\n'),
        }
        for name, (path, line) in breakages.items():
            target = os.path.join(src, path)
            with open(target, encoding="utf-8") as f:
                original = f.read()
            with open(target, "w", encoding="utf-8") as f:
                f.write(line + original)
            tap.check(bool(check_includes(src)), f"caught: {name}")
            with open(target, "w", encoding="utf-8") as f:
                f.write(original)

    link = ("build src/relay/latchkey-relay: c_LINKER src/relay/latchkey-relay.p/main.c.o\n"
            " LINK_ARGS = -Wl,--as-needed /usr/lib/libsoup-3.0.so\n")
    tap.check(bool(check_link_line(link, "latchkey-relay")), "caught: a link line with libsoup")
    tap.check(bool(check_link_line(link.replace("/usr/lib/libsoup-3.0.so", "src/core/liblatchkey-core.a"),
                                   "latchkey-relay")), "caught: a link line with the wallet's core")
    tap.check(bool(check_link_line(None, "latchkey-relay")), "caught: no link step at all")
    tap.check(bool(check_dependencies(["glib-2.0", "gtk4"])), "caught: a servers' build that needs GTK")
    loaded = "\tlibsecret-1.so.0 => /lib/x86_64-linux-gnu/libsecret-1.so.0 (0x00007f)\n"
    tap.check(bool(check_loaded(loaded, "latchkey-partner")), "caught: a binary that loads libsecret")
    return tap.end()


def main(argv):
    if len(argv) == 3 and argv[1] == "--self-test":
        return self_test(argv[2])
    if len(argv) >= 4:
        return run(argv[1], argv[2], argv[3:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
