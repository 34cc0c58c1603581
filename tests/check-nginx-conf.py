#!/usr/bin/env python3
# Checks data/deploy/nginx-latchkey.conf: nginx -t accepts it (with the test
# certificate in place of the real ones), and it agrees with the relay and
# the partner it fronts. Prints TAP for meson.
#
# Usage: check-nginx-conf.py SOURCE_ROOT CERT KEY
#
# What it compares, and where the other side's value comes from:
#   upstream addresses       data/deploy/latchkey-relay.conf, data/latchkey-partner.env
#   body size limits         relay max-body-bytes; PARTNER_MAX_BODY (src/partner/partner-config.h)
#   waiting reads            RELAY_MAX_WAIT_SECONDS (src/relay/relay-request.h) < proxy_read_timeout
#   idle upstream connections keepalive_timeout < the relay's connection-timeout and the
#                            partner's CONNECTION_TIMEOUT (src/partner/partner-server.c)
#   X-Forwarded-For          sent to the relay and the partner iff each trusts it
#   connections per address  limit_conn >= the relay's max-waiters-per-client
#   header size              large_client_header_buffers hold a 12 KiB attestation
#                            (RELAY_MAX_ATTESTATION, src/relay/relay-request.h)
#   nginx's own errors       413, 429, 502 and 504 answered in JSON
#   the units                the relay's memory-limit is its unit's MemoryMax=, and
#                            LimitNOFILE= covers max-connections
# A missing nginx fails the check: it is never skipped.

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

results = []


def check(ok, name, why=""):
    results.append((bool(ok), name, why))


# A small nginx configuration parser: directives with arguments, blocks.
def tokenize(text):
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in "{};":
            yield c
            i += 1
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            yield text[i + 1:j]
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in "{};":
                j += 1
            yield text[i:j]
            i = j


def parse(tokens):
    """A list of (name, [args], children or None)."""
    out, current = [], []
    for token in tokens:
        if token == ";":
            out.append((current[0], current[1:], None))
            current = []
        elif token == "{":
            out.append((current[0], current[1:], parse(tokens)))
            current = []
        elif token == "}":
            return out
        else:
            current.append(token)
    return out


def find(block, name, *args):
    return [d for d in block if d[0] == name and list(d[1][:len(args)]) == list(args)]


def one(block, name, *args):
    found = find(block, name, *args)
    return found[0] if len(found) == 1 else None


def value(block, name):
    d = one(block, name)
    return d[1][0] if d and d[1] else None


def size(text):
    m = re.fullmatch(r"([0-9]+)([kKmM]?)", text or "")
    if not m:
        return None
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[m.group(2).lower()]


def seconds(text):
    m = re.fullmatch(r"([0-9]+)(ms|s|m|h)?", text or "")
    if not m:
        return None
    return int(m.group(1)) * {None: 1, "s": 1, "m": 60, "h": 3600, "ms": 0.001}[m.group(2)]


def c_define(path, name):
    with open(path, encoding="utf-8") as f:
        m = re.search(r"#define\s+%s\s+\(?([0-9 *]+)\)?" % name, f.read())
    return eval(m.group(1), {}) if m else None  # digits and * only


def env_file(path):
    values = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                key, _, val = line.partition("=")
                values[key] = " ".join(shlex.split(val))
    return values


def server_named(http, name):
    for d in find(http, "server"):
        names = value(d[2], "server_name") and one(d[2], "server_name")[1]
        if names and name in names and any("443" in l[1][0] for l in find(d[2], "listen")):
            return d[2]
    return None


def unit_settings(path):
    """The [Service] settings of a unit, the last of each name."""
    out, section = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
            elif section == "[Service]" and "=" in line:
                key, _, val = line.partition("=")
                out[key.strip()] = val.strip()
    return out


def check_json_errors(server, name):
    """nginx's own 413, 429, 502 and 504 are JSON like the servers' errors."""
    handled = {}
    for d in find(server, "error_page"):
        target = d[1][-1]
        for code in d[1][:-1]:
            if code != "=":
                handled[code] = target
    missing = []
    for code in ("413", "429", "502", "504"):
        target = handled.get(code, "")
        block = one(server, "location", target) if target.startswith("@") else None
        ret = block and one(block[2], "return")
        if not (block and value(block[2], "default_type") == "application/json" and ret and len(ret[1]) == 2
                and '"error"' in ret[1][1] and '"message"' in ret[1][1]):
            missing.append(code)
    check(not missing, "nginx's own refusals in front of the %s are JSON {error, message}" % name,
          "not JSON: %s" % ", ".join(missing))


def nginx_t(text, cert, key, what):
    """nginx -t, with test certificates and logs in a temporary directory."""
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if nginx is None:
        check(False, "nginx -t accepts %s" % what,
              "nginx is not installed (apt-get install nginx-light); this check is never skipped")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            site = re.sub(r"(ssl_certificate)\s+\S+;", r"\1 %s;" % cert, text)
            site = re.sub(r"(ssl_certificate_key)\s+\S+;", r"\1 %s;" % key, site)
            site = re.sub(r"/var/log/nginx/", tmp + "/", site)
            with open(os.path.join(tmp, "site.conf"), "w", encoding="utf-8") as f:
                f.write(site)
            # Temporary files where the test may write, for the modules this nginx has.
            built = subprocess.run([nginx, "-V"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
            temp_paths = "".join("    %s_temp_path %s/%s;\n" % (t, tmp, t)
                                 for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
                                 if "--without-http_%s_module" % t not in built)
            with open(os.path.join(tmp, "nginx.conf"), "w", encoding="utf-8") as f:
                f.write("pid %s/nginx.pid;\nerror_log stderr;\nevents {}\nhttp {\n%s    include %s/site.conf;\n}\n"
                        % (tmp, temp_paths, tmp))
            proc = subprocess.run([nginx, "-t", "-e", "stderr", "-p", tmp + "/", "-c", tmp + "/nginx.conf"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            noisy = [l for l in proc.stdout.splitlines() if re.search(r"\[(warn|emerg|alert|crit|error)\]", l)]
            check(proc.returncode == 0 and not noisy, "nginx -t accepts %s without a warning" % what,
                  proc.stdout.strip())


def check_instances(root, cert, key, max_wait):
    """data/deploy/nginx-latchkey-instances.conf, for latchkey-relay@.service."""
    with open(os.path.join(root, "data", "deploy", "nginx-latchkey-instances.conf"), encoding="utf-8") as f:
        text = f.read()
    nginx_t(text, cert, key, "the configuration for several instances")
    http = parse(iter(list(tokenize(text))))

    relay = configparser.ConfigParser(interpolation=None)
    relay.read(os.path.join(root, "data", "deploy", "latchkey-relay-8081.conf"), encoding="utf-8")
    relay = relay["relay"]
    check(relay.get("store") == "redis" and relay.get("redis-nodes"),
          "the instance's example configuration uses the Redis store")
    upstream = one(http, "upstream", "latchkey_relays")
    block = upstream[2] if upstream else []
    servers = [d[1][0] for d in find(block, "server")]
    first = "%s:%s" % (relay.get("listen-address", "127.0.0.1"), relay.get("port", "8080"))
    check(len(servers) >= 2 and first in servers and len(set(servers)) == len(servers),
          "upstream latchkey_relays has several instances, the example's among them", repr(servers))
    idle = seconds(value(block, "keepalive_timeout"))
    timeout = seconds(relay.get("connection-timeout", "30"))
    check(value(block, "keepalive") and idle is not None and idle < timeout,
          "the instances' idle connections are let go before the relay does",
          "keepalive_timeout %r, connection-timeout %r" % (idle, timeout))

    server = server_named(http, "relay.example.org") or []
    read_timeout = seconds(value(server, "proxy_read_timeout") or "60s")
    check(max_wait is not None and read_timeout > max_wait, "proxy_read_timeout outlasts the longest waiting read",
          "proxy_read_timeout %r, RELAY_MAX_WAIT_SECONDS %r" % (read_timeout, max_wait))
    check(int(value(server, "proxy_next_upstream_tries") or "0") >= 1, "a retry goes to a bounded number of instances")
    retried = {}
    for d in find(server, "location"):
        args = d[1]
        nu = one(d[2], "proxy_next_upstream")
        if one(d[2], "proxy_pass"):
            retried[" ".join(args)] = nu[1] if nu else None
    # Only the create, and only with a Mailbox-Request-ID, may be sent again
    # after an instance had it.
    again = sorted(k for k, v in retried.items() if v and "non_idempotent" in v)
    check(again == ["= /v1/m"], "only a create may go to a second instance after the first had it", repr(retried))
    create = one(server, "location", "=", "/v1/m")
    guard = create and one(create[2], "if")
    check(guard and guard[1][0] == "($http_mailbox_request_id" and
          one(guard[2], "rewrite") and one(guard[2], "rewrite")[1][1] == "/latchkey-create-once",
          "a create without Mailbox-Request-ID is sent once")
    once = one(server, "location", "=", "/latchkey-create-once")
    check(once and one(once[2], "internal") and "non_idempotent" not in (retried.get("= /latchkey-create-once") or []),
          "the once-only create location is internal and not retried")
    check_json_errors(server, "relay instances")
    unit = unit_settings(os.path.join(root, "data", "latchkey-relay@.service.in"))
    check(size(unit.get("MemoryMax", "")) == size(relay.get("memory-limit", "")) and
          "relay-%i.conf" in unit.get("ExecStart", ""),
          "the template unit reads relay-INSTANCE.conf, and its MemoryMax= is the instance's memory-limit",
          repr((unit.get("MemoryMax"), relay.get("memory-limit"), unit.get("ExecStart"))))
    fmt = " ".join(" ".join(d[1][1:]) for d in find(http, "log_format", "latchkey_relays"))
    logs = [d for srv in find(http, "server") for d in find(srv[2], "access_log")]
    check("$latchkey_relays_log_uri" in fmt and "$request_uri" not in fmt and logs
          and all(d[1][1:] == ["latchkey_relays"] for d in logs),
          "the instances' access log writes mailbox ids cut short", fmt)


def main():
    if len(sys.argv) != 4:
        print("usage: check-nginx-conf.py SOURCE_ROOT CERT KEY", file=sys.stderr)
        print("Bail out! wrong arguments")
        return 1
    root, cert, key = sys.argv[1:]
    conf_path = os.path.join(root, "data", "deploy", "nginx-latchkey.conf")
    with open(conf_path, encoding="utf-8") as f:
        text = f.read()

    # 1. nginx -t, with test certificates and logs in a temporary directory.
    nginx_t(text, cert, key, "the configuration")

    http = parse(iter(list(tokenize(text))))

    relay = configparser.ConfigParser(interpolation=None)
    relay.read(os.path.join(root, "data", "deploy", "latchkey-relay.conf"), encoding="utf-8")
    relay = relay["relay"]
    partner = env_file(os.path.join(root, "data", "latchkey-partner.env"))
    max_wait = c_define(os.path.join(root, "src", "relay", "relay-request.h"), "RELAY_MAX_WAIT_SECONDS")
    partner_max_body = c_define(os.path.join(root, "src", "partner", "partner-config.h"), "PARTNER_MAX_BODY")
    partner_timeout = c_define(os.path.join(root, "src", "partner", "partner-server.c"), "CONNECTION_TIMEOUT")
    check(None not in (max_wait, partner_max_body, partner_timeout), "the servers' limits are found in src/",
          repr((max_wait, partner_max_body, partner_timeout)))

    # 2. Upstreams: the addresses the servers listen on, idle connections let go first.
    for name, address, timeout in (
            ("latchkey_relay", "%s:%s" % (relay.get("listen-address", "127.0.0.1"), relay.get("port", "8080")),
             seconds(relay.get("connection-timeout", "30"))),
            ("latchkey_partner", "%s:%s" % (partner.get("LATCHKEY_PARTNER_LISTEN"), partner.get("LATCHKEY_PARTNER_PORT")),
             partner_timeout)):
        upstream = one(http, "upstream", name)
        block = upstream[2] if upstream else []
        servers = [d[1][0] for d in find(block, "server")]
        check(servers == [address], "upstream %s is %s" % (name, address), repr(servers))
        idle = seconds(value(block, "keepalive_timeout"))
        check(value(block, "keepalive") and idle is not None and timeout and idle < timeout,
              "upstream %s lets idle connections go before the server does" % name,
              "keepalive_timeout %r, server's %r" % (idle, timeout))

    # 3. The relay's server block.
    public_url = relay.get("public-url", "")
    m = re.fullmatch(r"https://([^/:]+)(:[0-9]+)?/?", public_url)
    check(m is not None, "the relay's public-url is an https origin", public_url)
    relay_server = server_named(http, m.group(1) if m else "")
    check(relay_server is not None, "an HTTPS server block serves the relay's public-url host")
    relay_server = relay_server or []
    body = size(value(relay_server, "client_max_body_size"))
    check(body == int(relay.get("max-body-bytes", "65536")), "client_max_body_size is the relay's max-body-bytes",
          "nginx %r, relay %r" % (body, relay.get("max-body-bytes", "65536")))
    check(value(relay_server, "proxy_request_buffering") != "off",
          "nginx reads request bodies whole, so the relay gets a Content-Length")
    metrics = one(relay_server, "location", "=", "/metrics")
    check(metrics is not None and not find(metrics[2], "proxy_pass"), "/metrics is not proxied to the internet")
    root_location = one(relay_server, "location", "/")
    location = root_location[2] if root_location else []
    check(value(location, "proxy_pass") == "http://latchkey_relay", "/ goes to the relay")
    read_timeout = seconds(value(location, "proxy_read_timeout") or "60s")
    check(max_wait is not None and read_timeout > max_wait,
          "proxy_read_timeout outlasts the longest waiting read",
          "proxy_read_timeout %r, RELAY_MAX_WAIT_SECONDS %r" % (read_timeout, max_wait))
    check(value(location, "proxy_next_upstream") == "off", "a write is never sent twice")
    xff = [d[1][1] for d in find(location, "proxy_set_header") if d[1][0].lower() == "x-forwarded-for"]
    trusts = relay.get("trust-forwarded-for", "false") == "true"
    check((xff == ["$remote_addr"]) if trusts else not xff,
          "X-Forwarded-For is the address nginx saw, and only sent because the relay trusts it",
          "trust-forwarded-for %s, X-Forwarded-For %r" % (trusts, xff))

    conn = [d[1] for d in find(relay_server, "limit_conn")]
    waiters = int(relay.get("max-waiters-per-client", "128"))
    check(len(conn) == 1 and conn[0][0] == "latchkey_addr" and int(conn[0][1]) >= waiters,
          "limit_conn lets an address hold as many waiting reads as the relay allows it",
          "limit_conn %r, max-waiters-per-client %r" % (conn, waiters))
    buffers = one(relay_server, "large_client_header_buffers")
    attestation = c_define(os.path.join(root, "src", "relay", "relay-request.h"), "RELAY_MAX_ATTESTATION")
    line_size = size(buffers[1][1]) if buffers and len(buffers[1]) == 2 else None
    check(attestation and line_size and line_size >= attestation + len("Mailbox-Device-Attestation: ") + 2,
          "a header line holds an attestation of RELAY_MAX_ATTESTATION bytes",
          "large_client_header_buffers %r, attestation %r" % (buffers and buffers[1], attestation))
    check_json_errors(relay_server, "relay")

    # 4. The partner's.
    partner_server = server_named(http, "partner.example.org") or []
    body = size(value(partner_server, "client_max_body_size"))
    check(body == partner_max_body, "client_max_body_size is the partner's PARTNER_MAX_BODY",
          "nginx %r, partner %r" % (body, partner_max_body))
    check(find(partner_server, "limit_req"), "the partner, a demo, gets nginx's rate limit besides its own")
    root_location = one(partner_server, "location", "/")
    location = root_location[2] if root_location else []
    check(value(location, "proxy_pass") == "http://latchkey_partner", "the partner's / goes to the partner")
    xff = [d[1][1] for d in find(location, "proxy_set_header") if d[1][0].lower() == "x-forwarded-for"]
    trusts = partner.get("LATCHKEY_PARTNER_TRUST_FORWARDED_FOR", "false") == "true"
    check((xff == ["$remote_addr"]) if trusts else not xff,
          "X-Forwarded-For is the address nginx saw, and only sent because the partner trusts it",
          "LATCHKEY_PARTNER_TRUST_FORWARDED_FOR %s, X-Forwarded-For %r" % (trusts, xff))
    check_json_errors(partner_server, "partner")

    # 4b. The relay's unit agrees with its configuration.
    unit = unit_settings(os.path.join(root, "data", "latchkey-relay.service.in"))
    memory_max = size(unit.get("MemoryMax", ""))
    memory_limit = size(relay.get("memory-limit", ""))
    check(memory_max is not None and memory_limit == memory_max,
          "the relay's memory-limit is its unit's MemoryMax=, so --check-config checks against it",
          "memory-limit %r, MemoryMax %r" % (memory_limit, memory_max))
    nofile = int(unit.get("LimitNOFILE", "0"))
    connections = int(relay.get("max-connections", "12000"))
    check(nofile >= connections + 64, "LimitNOFILE= covers max-connections and the relay's own 64",
          "LimitNOFILE %r, max-connections %r" % (nofile, connections))

    # 4c. Several instances on a Redis Cluster.
    check_instances(root, cert, key, max_wait)

    # 5. Logs: no whole mailbox id.
    fmt = " ".join(" ".join(d[1][1:]) for d in find(http, "log_format", "latchkey"))
    check("$latchkey_log_uri" in fmt and "$request_uri" not in fmt and "$request " not in fmt + " ",
          "the access log writes mailbox ids cut short", fmt)
    logs = [d for server in find(http, "server") for d in find(server[2], "access_log")]
    check(logs and all(d[1][1:] == ["latchkey"] for d in logs), "every access log uses that format",
          repr([d[1] for d in logs]))

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
