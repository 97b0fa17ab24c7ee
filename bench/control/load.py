#!/usr/bin/env python3
"""Load generator of bench/control (BENCH.md §4); run by run.sh.

Every request is HTTPS with mutual TLS, one connection per worker thread.

  churn ADDR CA CERT KEY C D PREFIX
      C workers for D seconds against vnpd (as a VNO): create a VNet
      (POST /v1/vnets, then GET until ready), delete it; prints
      "cycles N fails F secs S" and the create / delete latencies.
  fill ADDR CA CERT KEY C FROM TO PREFIX
      creates VNets PREFIX<FROM>..PREFIX<TO-1> and leaves them; prints
      "made N fails F secs S".
  admit ADDR CA CERT KEY C D PIP
      C workers for D seconds against one pipd (as its VNP): allocate a
      slice (POST /v1/slices: the admission decision) and delete it
      again; every third request asks for more memory than a host has, so
      it is refused (409).  Prints decisions, accepted, refused, secs.

Bounded: every loop ends at its deadline or count; a VNet that is not
ready within 30 s counts as a failure (churn deletes it).
"""
import http.client
import ssl
import sys
import threading
import time

VNET = """<vnet xmlns="urn:vnsm:1" name="%s">
  <node name="a" kind="netns" cpu="0.01" memory="1MiB"/>
  <node name="b" kind="netns" cpu="0.01" memory="1MiB"/>
  <link name="a-b" bandwidth="1Mbit">
    <end node="a" address="10.0.0.1/30"/>
    <end node="b" address="10.0.0.2/30"/>
  </link>
</vnet>
"""

SLICE = """<slice xmlns="urn:vnsm:1" name="%s" vnet="%s" pip="%s" \
mapping="pip"><node name="a" cpu="0.01" memory="%s" kind="netns"/>\
<node name="b" cpu="0.01" memory="1MiB" kind="netns"/>\
<link name="a-b" bandwidth="1Mbit"><end node="a"/><end node="b"/></link>\
</slice>"""


class Conn:
    def __init__(self, addr, ca, cert, key):
        host, port = addr.rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.ctx = ssl.create_default_context(cafile=ca)
        self.ctx.check_hostname = False
        self.ctx.load_cert_chain(cert, key)
        self.c = None

    def call(self, method, path, body=None):
        for attempt in range(2):
            try:
                if self.c is None:
                    self.c = http.client.HTTPSConnection(
                        self.host, self.port, context=self.ctx, timeout=60)
                hdr = {"Content-Type": "application/xml"} if body else {}
                self.c.request(method, path, body, hdr)
                r = self.c.getresponse()
                return r.status, r.read().decode("utf-8", "replace")
            except (OSError, http.client.HTTPException):
                self.c = None
                if attempt == 1:
                    return 0, ""
        return 0, ""


def state_of(body):
    i = body.find('state="')
    return body[i + 7:body.find('"', i + 7)] if i >= 0 else ""


WHY = []                # the first failures: what was answered


def failed(name, st, body):
    if len(WHY) < 3:
        WHY.append("%s: HTTP %d %s" % (name, st, " ".join(body.split())[:300]))
    return False


def create(c, name):
    """Create VNet name and wait until ready; True when it is."""
    st, body = c.call("POST", "/v1/vnets?discovery=pip", VNET % name)
    if st not in (200, 201, 202):
        return failed(name, st, body)
    deadline = time.monotonic() + 30
    sleep = 0.002
    while time.monotonic() < deadline:
        s = state_of(body)
        if s == "ready":
            return True
        if s in ("failed", "deleted"):
            return failed(name, st, body)
        time.sleep(sleep)
        sleep = min(sleep * 2, 0.05)
        st, body = c.call("GET", "/v1/vnets/" + name)
        if st != 200:
            return failed(name, st, body)
    return failed(name, st, "not ready in 30 s: " + body)


def pct(v, p):
    if not v:
        return float("nan")
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100.0 * len(v)))]


def lat(tag, v):
    print("%s n %d p50 %.1f p99 %.1f max %.1f" % (
        tag, len(v), pct(v, 50) * 1e3, pct(v, 99) * 1e3,
        (max(v) if v else float("nan")) * 1e3))


def run_workers(n, fn):
    ts = [threading.Thread(target=fn, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def churn(conn, c, d, prefix):
    lc, ld, fails = [], [], [0]
    lock = threading.Lock()
    end = time.monotonic() + d

    def work(w):
        k = conn()
        i = 0
        while time.monotonic() < end:
            name = "%s%d-%d" % (prefix, w, i)
            i += 1
            t0 = time.monotonic()
            ok = create(k, name)
            t1 = time.monotonic()
            st, _ = k.call("DELETE", "/v1/vnets/" + name)
            t2 = time.monotonic()
            with lock:
                if ok and st == 200:
                    lc.append(t1 - t0)
                    ld.append(t2 - t1)
                else:
                    fails[0] += 1
    t = time.monotonic()
    run_workers(c, work)
    secs = time.monotonic() - t
    print("cycles %d fails %d secs %.2f" % (len(lc), fails[0], secs))
    lat("create", lc)
    lat("delete", ld)


def fill(conn, c, lo, hi, prefix):
    nxt, made, fails = [lo], [0], [0]
    lock = threading.Lock()

    def work(w):
        k = conn()
        while True:
            with lock:
                if nxt[0] >= hi:
                    return
                i = nxt[0]
                nxt[0] += 1
            ok = create(k, "%s%d" % (prefix, i))
            with lock:
                if ok:
                    made[0] += 1
                else:
                    fails[0] += 1
    t = time.monotonic()
    run_workers(c, work)
    print("made %d fails %d secs %.2f" % (made[0], fails[0],
                                          time.monotonic() - t))
    for w in WHY:
        print("failed " + w)


def admit(conn, c, d, pip):
    cnt = {"acc": 0, "ref": 0, "err": 0}
    la = []
    lock = threading.Lock()
    end = time.monotonic() + d

    def work(w):
        k = conn()
        i = 0
        while time.monotonic() < end:
            name = "adm%d-%d.%s" % (w, i, pip)
            big = i % 3 == 2
            i += 1
            t0 = time.monotonic()
            st, _ = k.call("POST", "/v1/slices", SLICE % (
                name, "adm%d-%d" % (w, i), pip, "2TiB" if big else "1MiB"))
            t1 = time.monotonic()
            with lock:
                la.append(t1 - t0)
                if st in (200, 201):
                    cnt["acc"] += 1
                elif st == 409:
                    cnt["ref"] += 1
                else:
                    cnt["err"] += 1
            if st in (200, 201):
                k.call("DELETE", "/v1/slices/" + name)
    t = time.monotonic()
    run_workers(c, work)
    secs = time.monotonic() - t
    print("decisions %d accepted %d refused %d errors %d secs %.2f" % (
        cnt["acc"] + cnt["ref"], cnt["acc"], cnt["ref"], cnt["err"], secs))
    lat("allocate", la)


def main(a):
    addr, ca, cert, key = a[2:6]

    def conn():
        return Conn(addr, ca, cert, key)
    if a[1] == "churn":
        churn(conn, int(a[6]), float(a[7]), a[8])
    elif a[1] == "fill":
        fill(conn, int(a[6]), int(a[7]), int(a[8]), a[9])
    elif a[1] == "admit":
        admit(conn, int(a[6]), float(a[7]), a[8])
    else:
        sys.exit("usage: see the docstring")


if __name__ == "__main__":
    main(sys.argv)
