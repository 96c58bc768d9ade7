"""The aiosqlite side of actorlite's benchmark suite.

The Go harness (bench/python.go) runs this script under the system Python, once per
measurement, with one JSON argument naming the operation, its sizes and the idiom; the script
prints one JSON object: {"n": operations, "seconds": time} (or {"n": connections, "bytes":
resident memory}). It builds the same events and runs the same SQL with the same pragmas, in
one of two idioms:

- "cheapest": aiosqlite's cheapest call for each step. isolation_level=None, so each INSERT
  commits by itself, and execute_fetchall runs it in one round trip to the connection's
  thread; execute_fetchall for a point select (one round trip); fetchmany(chunk) for a scan;
  BEGIN / executemany / COMMIT for a transaction (under an asyncio.Lock where producers share
  the connection).
- "article": the aiosqlite article's idiom. The default isolation level (implicit BEGIN) with
  async with execute(...) + commit() for each insert; async with execute(...) as cursor +
  fetchone() for a point select; async for over the cursor for a scan; executemany + commit()
  for a batch.
"""

import asyncio
import datetime
import gc
import json
import os
import random
import sys
import time

INSERT = "INSERT INTO events (user_id, name, properties, timestamp) VALUES (?, ?, ?, ?)"
POINT = "SELECT id, user_id, name, properties, timestamp FROM events WHERE id = ?"
SCAN = "SELECT id, user_id, name, properties, timestamp FROM events"
PRAGMAS = ("PRAGMA busy_timeout=5000; PRAGMA journal_mode=WAL; "
           "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
NAMES = ["page_view", "click", "signup", "purchase", "search", "logout", "share", "scroll"]
BASE = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
WARMUPS = 100


def make_events(n):
    """The events bench/data.go makes; the timestamp is formatted when it is bound."""
    return [(f"user-{i % 500}", NAMES[i % len(NAMES)],
             b'{"page":"/pricing","plan":"pro","ref":"newsletter","n":%d}' % i,
             BASE + datetime.timedelta(milliseconds=i)) for i in range(n)]


def fmt_time(ts):
    """actorlite's fixed-width layout: 2006-01-02T15:04:05.000000000Z."""
    return f"{ts:%Y-%m-%dT%H:%M:%S}.{ts.microsecond:06d}000Z"


def args(ev):
    return (ev[0], ev[1], ev[2], fmt_time(ev[3]))


ARTICLE = False  # set from the spec's "idiom"


async def connect(path):
    import aiosqlite
    if ARTICLE:
        db = await aiosqlite.connect(path)
    else:
        db = await aiosqlite.connect(path, isolation_level=None)
    await db.executescript(PRAGMAS)
    return db


# Cursors. An aiosqlite Cursor dropped without close() is finalized on the event loop's thread,
# which resets its statement while the connection's thread may be running the same (cached)
# statement for another task: with producers sharing a connection that fails now and then with
# sqlite3.InterfaceError ("bad parameter or other API misuse"). So every cursor is closed on the
# connection's thread: execute_fetchall drops its cursor there, and "async with" closes it there.


async def insert_one(db, ev):
    """One event, committed before it returns."""
    if ARTICLE:
        async with db.execute(INSERT, args(ev)):
            pass
        await db.commit()
        return
    await db.execute_fetchall(INSERT, args(ev))


async def insert_many(db, rows, lock):
    """rows in one transaction."""
    if ARTICLE:
        async with db.executemany(INSERT, rows):
            pass
        await db.commit()
        return
    async with lock:
        await db.execute_fetchall("BEGIN")
        async with db.executemany(INSERT, rows):
            pass
        await db.execute_fetchall("COMMIT")


async def point(db, i):
    """The row with id i."""
    if ARTICLE:
        async with db.execute(POINT, (i,)) as cur:
            return await cur.fetchone()
    rows = await db.execute_fetchall(POINT, (i,))
    return rows[0]


async def select_one(db):
    if ARTICLE:
        async with db.execute("SELECT 1") as cur:
            return await cur.fetchone()
    return await db.execute_fetchall("SELECT 1")


async def op_autocommit(spec):
    evs = make_events(spec["n"])
    db = await connect(spec["path"])
    try:
        t0 = time.perf_counter()
        for ev in evs:
            await insert_one(db, ev)
        return {"n": len(evs), "seconds": time.perf_counter() - t0}
    finally:
        await db.close()


async def op_bulk(spec):
    evs = make_events(spec["n"])
    db = await connect(spec["path"])
    try:
        t0 = time.perf_counter()
        await insert_many(db, [args(ev) for ev in evs], asyncio.Lock())
        return {"n": len(evs), "seconds": time.perf_counter() - t0}
    finally:
        await db.close()


async def op_point(spec):
    rnd = random.Random(1)
    ids = [rnd.randint(1, spec["rows"]) for _ in range(spec["n"])]
    db = await connect(spec["path"])
    try:
        for i in ids[:WARMUPS]:
            await point(db, i)
        t0 = time.perf_counter()
        for i in ids:
            row = await point(db, i)
            if row[0] != i:
                raise RuntimeError(f"point select {i} read {row}")
        return {"n": len(ids), "seconds": time.perf_counter() - t0}
    finally:
        await db.close()


async def op_scan(spec):
    db = await connect(spec["path"])
    try:
        n = 0
        t0 = time.perf_counter()
        async with db.execute(SCAN) as cur:
            if ARTICLE:
                async for row in cur:
                    n += 1
            else:
                while rows := await cur.fetchmany(spec["chunk"]):
                    for row in rows:
                        n += 1
        secs = time.perf_counter() - t0
        if n != spec["rows"]:
            raise RuntimeError(f"scan read {n} rows, want {spec['rows']}")
        return {"n": n, "seconds": secs}
    finally:
        await db.close()


async def op_concurrent(spec):
    conns = [await connect(spec["path"]) for _ in range(spec["readers"])]
    try:
        stop = False
        counts = []

        async def reader(db, k):
            rnd = random.Random(k)
            ids = [rnd.randint(1, spec["rows"]) for _ in range(4096)]
            n = 0
            while not stop:
                await point(db, ids[n % len(ids)])
                n += 1
            counts.append(n)

        t0 = time.perf_counter()
        tasks = [asyncio.create_task(reader(db, k)) for k, db in enumerate(conns)]
        await asyncio.sleep(spec["seconds"])
        stop = True
        await asyncio.gather(*tasks)
        return {"n": sum(counts), "seconds": time.perf_counter() - t0}
    finally:
        for db in conns:
            await db.close()


async def op_ingest(spec):
    """Producers share one connection; batch 1: each event is committed before the producer
    goes on; otherwise each producer writes batches of that many events in one transaction."""
    evs = make_events(spec["n"])
    p, batch = spec["producers"], spec["batch"]
    db = await connect(spec["path"])
    lock = asyncio.Lock()

    async def producer(mine):
        if batch == 1:
            for ev in mine:
                await insert_one(db, ev)
            return
        for i in range(0, len(mine), batch):
            await insert_many(db, [args(ev) for ev in mine[i:i + batch]], lock)

    try:
        t0 = time.perf_counter()
        await asyncio.gather(*(producer(evs[k * len(evs) // p:(k + 1) * len(evs) // p]) for k in range(p)))
        return {"n": len(evs), "seconds": time.perf_counter() - t0}
    finally:
        await db.close()


async def op_open(spec):
    took = 0.0
    for i in range(spec["n"] + 3):
        t0 = time.perf_counter()
        db = await connect(spec["path"])
        await select_one(db)
        if i >= 3:
            took += time.perf_counter() - t0
        await db.close()
    return {"n": spec["n"], "seconds": took}


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def op_memory(spec):
    """As the Go systems: one connection first, then n more held open, RSS after gc.collect()."""
    async def open_one():
        db = await connect(spec["path"])
        await select_one(db)
        return db

    conns = [await open_one()]
    try:
        gc.collect()
        before = resident_bytes()
        for _ in range(spec["n"]):
            conns.append(await open_one())
        gc.collect()
        after = resident_bytes()
        return {"n": spec["n"], "bytes": after - before}
    finally:
        for db in conns:
            await db.close()


def versions():
    import sqlite3
    import aiosqlite
    return {"Python": sys.version.split()[0], "SQLite (Python)": sqlite3.sqlite_version,
            "aiosqlite": getattr(aiosqlite, "__version__", "?")}


def main():
    global ARTICLE
    spec = json.loads(sys.argv[1])
    op = spec["op"]
    ARTICLE = spec.get("idiom") == "article"
    if op == "versions":
        out = versions()
    else:
        out = asyncio.run(globals()["op_" + op](spec))
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
