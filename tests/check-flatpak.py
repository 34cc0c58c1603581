#!/usr/bin/env python3
# Offline checks of the Flatpak manifest, printed as TAP for meson.
#
# Usage: check-flatpak.py [--self-test] MANIFEST SOURCE_ROOT DESKTOP_FILE METAINFO_FILE PROFILE APP_ID
#
# The last four come from the build: the generated desktop file and metainfo,
# the build profile and its application id. The manifest builds the default
# profile, so in a development build APP_ID is the manifest's id + ".Devel".
#
# flatpak-builder cannot build here (no runtime, no network): its
# --show-manifest is the only offline parse, and it exits 0 on a wrong-typed
# or unknown property, printing only a warning, so any warning fails. A
# missing flatpak-builder fails the check too: it must never be skipped.
#
# --self-test runs the checks on broken copies of the manifest (an extra
# permission, a missing checksum, an unpinned git source...) and fails unless
# each copy fails at least one check.

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

ALLOWED_FINISH_ARGS = {
    "--share=network",
    "--share=ipc",
    "--socket=wayland",
    "--socket=fallback-x11",
    "--device=dri",
}
PINNED_BY_CHECKSUM = {"archive", "file", "extra-data"}
LOCAL_ONLY = {"patch", "file"}           # allowed without a checksum when "path" is local
GENERATED = {"script", "inline", "shell"}
HEX64 = re.compile(r"^[0-9a-f]{64}$")
HEX128 = re.compile(r"^[0-9a-f]{128}$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")
KNOWN_CHECKERS = {"anitya", "html", "json", "gnome", "rotating-url", "pypi", "git"}

results = []


def check(ok, name, why=""):
    results.append((bool(ok), name, why))


def load_module_list(modules, base):
    """Inline the modules given as file names, as flatpak-builder does."""
    out = []
    for module in modules:
        if isinstance(module, str):
            path = os.path.join(base, module)
            with open(path, encoding="utf-8") as f:
                module = json.load(f)
            module["__base"] = os.path.dirname(path)
        else:
            module["__base"] = base
        out.append(module)
    return out


def walk_modules(modules, base):
    """In build order: nested modules are built before the module holding them."""
    for module in load_module_list(modules, base):
        yield from walk_modules(module.get("modules", []), module["__base"])
        yield module


def module_sources(module):
    for source in module.get("sources", []):
        if isinstance(source, str):
            path = os.path.join(module["__base"], source)
            with open(path, encoding="utf-8") as f:
                loaded = json.load(f)
            yield from (loaded if isinstance(loaded, list) else [loaded])
        else:
            yield source


def run_checks(manifest_path, source_root, desktop_path, metainfo_path, profile, build_app_id):
    manifest_dir = os.path.dirname(os.path.abspath(manifest_path))

    # 1. flatpak-builder parses it without a warning.
    builder = shutil.which("flatpak-builder")
    if builder is None:
        check(False, "flatpak-builder --show-manifest prints no warning",
              "flatpak-builder is not installed (apt-get install flatpak-builder); this check is never skipped")
    else:
        proc = subprocess.run([builder, "--show-manifest", manifest_path],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        noisy = [line for line in proc.stderr.splitlines()
                 if re.search(r"WARNING|CRITICAL|ERROR", line, re.IGNORECASE)]
        check(proc.returncode == 0 and not noisy,
              "flatpak-builder --show-manifest prints no warning",
              "rc %d\n%s" % (proc.returncode, proc.stderr.strip()))

    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)

    # 2. Identity: the id and the command are the app's own.
    manifest_id = manifest.get("id") or manifest.get("app-id")
    expected_id = build_app_id if profile == "default" else re.sub(r"\.Devel$", "", build_app_id)
    check(manifest_id == expected_id, "the manifest id is the build's application id",
          "manifest %r, build %r (profile %s)" % (manifest_id, build_app_id, profile))
    check(os.path.basename(desktop_path) == build_app_id + ".desktop",
          "the desktop file is named after the application id", desktop_path)

    exec_line = None
    with open(desktop_path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("Exec="):
                exec_line = line[len("Exec="):].strip()
                break
    command = manifest.get("command")
    check(exec_line is not None and exec_line.split()[0] == command,
          "the manifest command is what the desktop file runs",
          "command %r, Exec=%r" % (command, exec_line))

    tree = ET.parse(metainfo_path)
    root = tree.getroot()
    check(root.findtext("id") == build_app_id, "the metainfo id is the application id",
          "metainfo %r" % root.findtext("id"))
    launchable = root.find("launchable[@type='desktop-id']")
    check(launchable is not None and launchable.text == build_app_id + ".desktop",
          "the metainfo launchable is the desktop file")
    binaries = [b.text for b in root.findall("provides/binary")]
    check(command in binaries, "the metainfo provides the manifest command", "binaries %r" % binaries)

    # The templates in data/ are named after the default id, which is the
    # manifest's (icons, desktop file, metainfo, schema).
    data = os.path.join(source_root, "data")
    for template in ("%s.desktop.in.in", "%s.metainfo.xml.in.in", "%s.gschema.xml.in", "%s.service.in",
                     "icons/hicolor/scalable/apps/%s.svg", "icons/hicolor/symbolic/apps/%s-symbolic.svg"):
        path = os.path.join(data, template % manifest_id)
        check(os.path.exists(path), "data/%s exists" % (template % manifest_id))

    # 3. Runtime: GNOME, a numbered stable branch.
    check(manifest.get("runtime") == "org.gnome.Platform" and manifest.get("sdk") == "org.gnome.Sdk",
          "the runtime is GNOME's")
    check(re.fullmatch(r"[0-9]+", str(manifest.get("runtime-version", ""))) is not None,
          "the runtime is a numbered stable branch", "runtime-version %r" % manifest.get("runtime-version"))

    # 4. finish-args only from the allowed list.
    finish_args = manifest.get("finish-args", [])
    extra = [a for a in finish_args if a not in ALLOWED_FINISH_ARGS]
    check(not extra, "finish-args stay within network, ipc, wayland, fallback-x11 and dri",
          "not allowed: %s" % ", ".join(extra))
    check(len(finish_args) == len(set(finish_args)), "finish-args are not repeated")

    # 5. Every source is pinned; every archive has an update checker.
    modules = list(walk_modules(manifest.get("modules", []), manifest_dir))
    names = [m.get("name") for m in modules]
    check(len(names) == len(set(names)) and all(names), "module names are present and unique", repr(names))
    app_modules = []
    for module in modules:
        name = module.get("name")
        for i, source in enumerate(module_sources(module)):
            kind = source.get("type")
            label = "module %s, source %d (%s)" % (name, i + 1, kind)
            if kind in PINNED_BY_CHECKSUM and "url" in source:
                sha256 = source.get("sha256", "")
                sha512 = source.get("sha512", "")
                check(HEX64.match(sha256) or HEX128.match(sha512), "%s has a sha256" % label,
                      "sha256 %r" % sha256)
                check(source["url"].startswith("https://") and
                      all(u.startswith("https://") for u in source.get("mirror-urls", [])),
                      "%s is fetched over https" % label)
                if kind == "archive":
                    checker = source.get("x-checker-data")
                    check(isinstance(checker, dict) and checker.get("type") in KNOWN_CHECKERS,
                          "%s has x-checker-data" % label, "x-checker-data %r" % checker)
            elif kind in LOCAL_ONLY and "path" in source and "url" not in source:
                path = os.path.normpath(os.path.join(module["__base"], source["path"]))
                check(os.path.exists(path), "%s is a file of this repository" % label, path)
            elif kind == "git":
                check(COMMIT.match(source.get("commit", "")), "%s is pinned to a commit" % label,
                      "commit %r" % source.get("commit"))
            elif kind == "dir":
                path = os.path.normpath(os.path.join(module["__base"], source.get("path", "")))
                is_root = os.path.samefile(path, source_root) if os.path.exists(path) else False
                check(is_root, "%s is the app's own checkout, the only unpinned source" % label, path)
                if is_root:
                    app_modules.append(module)
            elif kind in GENERATED:
                check(True, "%s is generated from the manifest" % label)
            else:
                check(False, "%s is a known, pinnable source type" % label, repr(source))

    # 6. The app module: built from the checkout, with its tests run.
    check(len(app_modules) == 1, "exactly one module builds the checkout", repr([m.get("name") for m in app_modules]))
    if app_modules:
        app = app_modules[0]
        check(app is modules[-1], "the app module is built last")
        check(app.get("buildsystem") == "meson", "the app module uses meson")
        check(app.get("run-tests") is True, "the app module runs its tests")
        opts = app.get("config-opts", [])
        check("-Dprofile=default" in opts, "the app module builds the default profile", repr(opts))
        check(any(o.startswith("-Dtests=") for o in opts), "the app module says whether tests are built", repr(opts))



# Each broken variant of the manifest must fail at least one check: a check
# that cannot fail proves nothing.
def break_finish_args(m):
    m["finish-args"].append("--device=all")


def break_talk_name(m):
    m["finish-args"].append("--talk-name=org.freedesktop.secrets")


def first_archive(m):
    for module in m["modules"]:
        for source in module.get("sources", []):
            if isinstance(source, dict) and source.get("type") == "archive":
                return module, source
    raise AssertionError("no archive source")


def break_sha256(m):
    first_archive(m)[1].pop("sha256")


def break_checker(m):
    first_archive(m)[1].pop("x-checker-data")


def break_git(m):
    first_archive(m)[0]["sources"].append({"type": "git", "url": "https://example.org/x.git", "tag": "v1"})


def break_dir(m):
    first_archive(m)[0]["sources"].append({"type": "dir", "path": "/tmp"})


def break_id(m):
    m["id"] = "io.github.latchkey.Other"


def break_command(m):
    m["command"] = "latchkey-cli"


def break_branch(m):
    m["runtime-version"] = "master"


def break_type(m):
    m["modules"][-1]["run-tests"] = "yes"


def break_unknown_key(m):
    m["finish-arg"] = []


BREAKAGES = [break_finish_args, break_talk_name, break_sha256, break_checker, break_git, break_dir,
             break_id, break_command, break_branch, break_type, break_unknown_key]


def self_test(args):
    import copy
    import tempfile

    manifest_path, source_root = args[0], args[1]
    with open(manifest_path, encoding="utf-8") as f:
        original = json.load(f)
    # The copies live elsewhere: point the app's dir source at the checkout.
    for module in original["modules"]:
        for source in module.get("sources", []):
            if isinstance(source, dict) and source.get("type") == "dir":
                source["path"] = os.path.abspath(source_root)

    print("1..%d" % (len(BREAKAGES) + 1))
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for n, breakage in enumerate([None] + BREAKAGES, 1):
            manifest = copy.deepcopy(original)
            if breakage is not None:
                breakage(manifest)
            path = os.path.join(tmp, "manifest-%d.json" % n)
            with open(path, "w", encoding="utf-8") as f:
                json.dump(manifest, f)
            del results[:]
            run_checks(path, *args[1:])
            bad = [name for ok, name, why in results if not ok]
            name = breakage.__name__ if breakage else "the manifest itself"
            good = bool(bad) if breakage else not bad
            failed += not good
            print("%s %d - %s %s" % ("ok" if good else "not ok", n, name,
                                     "fails: " + "; ".join(bad) if bad else "passes"))
    return 1 if failed else 0


def main():
    args = sys.argv[1:]
    selftest = bool(args) and args[0] == "--self-test"
    if selftest:
        args = args[1:]
    if len(args) != 6:
        print("usage: check-flatpak.py [--self-test] MANIFEST SOURCE_ROOT DESKTOP_FILE METAINFO_FILE PROFILE APP_ID",
              file=sys.stderr)
        print("Bail out! wrong arguments")
        return 1
    if selftest:
        return self_test(args)

    run_checks(*args)
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
