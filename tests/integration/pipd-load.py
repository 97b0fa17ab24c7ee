#!/usr/bin/env python3
"""Concurrent allocation load against one pipd, then the sums.

Used by tests/integration/35-pipd.sh.  N client threads (each its own
mutual-TLS connection as a VNP) allocate random slices (unmapped or
pinned), and delete some of theirs, for a bounded number of rounds.
Then the reservations recorded in pipd's state file are summed per host
and per substrate link and compared with the capacities of the
configuration (never oversubscribed) and with the advertisement (free =
capacity - reserved).  Exit status 0 only when every check holds.

usage: pipd-load.py ADDR:PORT CA CERT KEY CONF STATE_DB CLIENTS ROUNDS
"""
import http.client
import random
import re
import sqlite3
import ssl
import sys
import threading
import time
import xml.etree.ElementTree as ET

NS = "{urn:vnsm:1}"


def parse_conf(path):
    hosts, links, sect = {}, {}, None
    overcommit = 1.0
    for line in open(path):
        line = line.split("#")[0].strip()
        if not line:
            continue
        m = re.match(r"\[(\w+) ([\w.-]+)\]", line)
        if m:
            sect = (m.group(1), m.group(2))
            if sect[0] == "host":
                hosts[sect[1]] = {}
            elif sect[0] == "link":
                links[sect[1]] = {}
            continue
        k, v = line.split(None, 1)
        if sect is None:
            if k == "cpu-overcommit":
                overcommit = float(v)
        elif sect[0] == "host":
            hosts[sect[1]][k] = v
        elif sect[0] == "link":
            links[sect[1]][k] = v
    return hosts, links, overcommit


def mib(s):
    m = re.fullmatch(r"(\d+)(MiB|GiB|TiB|PiB)?", s)
    return int(m.group(1)) * {None: 1, "MiB": 1, "GiB": 1024,
                              "TiB": 1 << 20, "PiB": 1 << 30}[m.group(2)]


def kbit(s):
    m = re.fullmatch(r"(\d+)(kbit|Mbit|Gbit|Tbit)?", s)
    if m is None:
        raise ValueError("bad bandwidth '%s'" % s)
    return int(m.group(1)) * {None: 1000, "kbit": 1, "Mbit": 1000,
                              "Gbit": 10**6, "Tbit": 10**9}[m.group(2)]


def milli(s):
    return int(round(float(s) * 1000))


class Client:
    def __init__(self, addr, ca, cert, key):
        host, port = addr.rsplit(":", 1)
        self.ctx = ssl.create_default_context(cafile=ca)
        self.ctx.check_hostname = False
        self.ctx.load_cert_chain(cert, key)
        self.host, self.port = host, int(port)
        self.conn = None

    def call(self, method, path, body=None):
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPSConnection(
                        self.host, self.port, context=self.ctx, timeout=20)
                self.conn.request(method, path, body=body, headers={
                    "Content-Type": "application/xml"})
                r = self.conn.getresponse()
                return r.status, r.read().decode()
            except (ConnectionError, http.client.HTTPException, OSError):
                self.conn = None
                if attempt == 2:
                    raise
                time.sleep(0.05)


def random_slice(rng, name, hosts):
    n = rng.randint(1, 3)
    pinned = rng.random() < 0.4
    out = ['<slice xmlns="urn:vnsm:1" name="%s" vnet="%s" pip="pipL" '
           'mapping="%s">' % (name, name, "vnp" if pinned else "pip")]
    for i in range(n):
        host = ' host="%s"' % rng.choice(hosts) if pinned else ""
        out.append('<node name="n%d" cpu="%s" memory="%dMiB"%s/>' % (
            i, rng.choice(["0.25", "0.5", "1"]), 64 * rng.randint(1, 12),
            host))
    for i in range(n - 1):
        out.append('<link name="l%d" bandwidth="%dMbit"><end node="n%d"/>'
                   '<end node="n%d"/></link>' % (i, rng.randint(1, 40), i,
                                                 i + 1))
    out.append("</slice>")
    return "".join(out)


def worker(k, args, rounds, hosts, stats, lock):
    rng = random.Random(1000 + k)
    c = Client(*args)
    mine = []
    deadline = time.time() + 60
    for r in range(rounds):
        if time.time() > deadline:
            break
        name = "c%d-%d" % (k, r)
        st, body = c.call("POST", "/v1/slices",
                          random_slice(rng, name, hosts))
        with lock:
            if st == 201:
                stats["allocated"] += 1
                mine.append(name)
            elif st == 409 and 'code="no-resources"' in body:
                stats["refused"] += 1
                m = re.search(r'<shortfall resource="(\w+)" unit="[^"]*" '
                              r'asked="([\d.]+)" free="([\d.]+)"', body)
                if m is None:
                    stats["bad_refusal"] += 1
                    print("refusal without a shortfall:", body)
                elif float(m.group(2)) <= float(m.group(3)):
                    # A joint shortage (e.g. CPU where the memory is):
                    # the figures are true but no single one is short.
                    stats["joint"] += 1
            else:
                stats["other"] += 1
                print("unexpected", st, body[:300])
        if mine and rng.random() < 0.3:
            victim = mine.pop(rng.randrange(len(mine)))
            st, body = c.call("DELETE", "/v1/slices/" + victim)
            with lock:
                if st == 200:
                    stats["deleted"] += 1
                else:
                    stats["other"] += 1
                    print("delete failed", st, body[:300])


def sums(db, hosts, links):
    """Per host and per link use, from the resolved documents."""
    used_h = {h: [0, 0, 0] for h in hosts}
    used_l = {name: 0 for name in links}
    pair = {}
    for name, l in links.items():
        pair[frozenset((l["from"], l["to"]))] = name
    con = sqlite3.connect(db)
    rows = con.execute("SELECT name, doc FROM slices").fetchall()
    con.close()
    for name, doc in rows:
        root = ET.fromstring(doc)
        ends = {}
        for e in root.iter(NS + "end"):
            ends[e.get("node")] = ends.get(e.get("node"), 0) + 1
        for nd in root.findall(NS + "node"):
            h = nd.get("host")
            used_h[h][0] += milli(nd.get("cpu"))
            used_h[h][1] += mib(nd.get("memory"))
            decl = int(nd.get("interfaces", "0"))
            used_h[h][2] += max(decl, ends.get(nd.get("name"), 0))
        for ln in root.findall(NS + "link"):
            hops = [h.get("host") for h in ln.iter(NS + "hop")]
            bw = kbit(ln.get("bandwidth", "0kbit"))
            for a, b in zip(hops, hops[1:]):
                used_l[pair[frozenset((a, b))]] += bw
    return len(rows), used_h, used_l


def main():
    addr, ca, cert, key, conf, db, clients, rounds = sys.argv[1:9]
    clients, rounds = int(clients), int(rounds)
    hosts, links, oc = parse_conf(conf)
    stats = {"allocated": 0, "refused": 0, "deleted": 0, "other": 0,
             "bad_refusal": 0, "joint": 0}
    lock = threading.Lock()
    t0 = time.time()
    threads = [threading.Thread(target=worker, args=(
        k, (addr, ca, cert, key), rounds, sorted(hosts), stats, lock))
        for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.time() - t0
    print("%d clients x %d rounds in %.1f s: %s" % (clients, rounds, dt,
                                                   stats))
    ok = stats["other"] == 0 and stats["bad_refusal"] == 0
    ok = ok and stats["allocated"] > 0 and stats["refused"] > 0
    n, used_h, used_l = sums(db, hosts, links)
    if n != stats["allocated"] - stats["deleted"]:
        print("FAIL: %d slices recorded, %d allocated - %d deleted" % (
            n, stats["allocated"], stats["deleted"]))
        ok = False
    adv = Client(addr, ca, cert, key).call("GET", "/v1/advertisement")[1]
    root = ET.fromstring(adv)
    free_h = {h.get("name"): h for h in root.findall(NS + "host")}
    free_l = {}
    for sl in root.findall(NS + "substrate-link"):
        free_l[frozenset((sl.get("from"), sl.get("to")))] = kbit(
            sl.get("bandwidth"))
    for h, cap in hosts.items():
        c, m, i = used_h[h]
        ccap = milli(cap["cpu"]) * oc
        mcap, icap = mib(cap["memory"]), int(cap["interfaces"])
        print("host %s: cpu %d/%d milli, memory %d/%d MiB, interfaces "
              "%d/%d" % (h, c, ccap, m, mcap, i, icap))
        if c > ccap or m > mcap or i > icap:
            print("FAIL: host %s oversubscribed" % h)
            ok = False
        a = free_h.get(h)
        if a is None or mib(a.get("memory")) != mcap - m or \
                int(a.get("interfaces")) != icap - i:
            print("FAIL: advertisement of %s disagrees with the sums" % h)
            ok = False
    for name, l in links.items():
        cap = kbit(l["bandwidth"])
        print("link %s: %d/%d kbit/s" % (name, used_l[name], cap))
        if used_l[name] > cap:
            print("FAIL: link %s oversubscribed" % name)
            ok = False
        if free_l.get(frozenset((l["from"], l["to"]))) != cap - \
                used_l[name]:
            print("FAIL: advertisement of link %s disagrees" % name)
            ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
