"""INCRBYFLOAT / HINCRBYFLOAT against redis-server, reply for reply, on random operands.

    python3 benches/scripts/difffloat.py <redis-port> <tenantkv-port>   (pip install redis)

Both servers must be running and disposable: keys `k` and `h` are overwritten.
"""
import random
import sys

import redis

r = redis.Redis(port=int(sys.argv[1]))
t = redis.Redis(port=int(sys.argv[2]))
random.seed(7)
for c in (r, t):
    c.delete("h", "k")
    for n in ("INCRBYFLOAT", "HINCRBYFLOAT"):
        c.response_callbacks.pop(n, None)

def rnd():
    k = random.random()
    if k < 0.3:
        return repr(random.uniform(-1e6, 1e6))
    if k < 0.5:
        return f"{random.randint(-10**random.randint(1,25), 10**random.randint(1,25))}"
    if k < 0.7:
        return f"{random.choice(['','-'])}{random.randint(0,99999)}.{random.randint(0,10**random.randint(1,30))}e{random.randint(-40,40)}"
    if k < 0.8:
        return f"{random.choice(['','-'])}0x{random.randint(0,2**70):x}p{random.randint(-100,100)}"
    if k < 0.9:
        return f"{random.random()*10**random.randint(-30,30):.{random.randint(0,25)}g}"
    return f"{random.choice(['','-'])}{random.randint(1,9)}e{random.randint(-4960,4940)}"
bad = 0
for i in range(10000):
    a, b = rnd(), rnd()
    out = []
    for c in (r, t):
        try:
            c.set("k", a)
            x = c.execute_command("INCRBYFLOAT", "k", b)
        except redis.ResponseError as e:
            x = "ERR:" + str(e)
        try:
            y = c.execute_command("HINCRBYFLOAT", "h", "f", b)
        except redis.ResponseError as e:
            y = "ERR:" + str(e)
        out.append((x, y))
    if out[0] != out[1]:
        bad += 1
        if bad < 10:
            print(a, b, str(out[0])[:200], "|", str(out[1])[:200])
print("mismatches", bad)
