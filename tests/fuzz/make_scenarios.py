#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the named scenario inputs of the fuzz corpus (tests/fuzz/corpus/scenario-*).

Each scenario is a short, readable event sequence in the byte format that
fuzz_offer.cpp decodes (configure() and step()); replaying it checks every
step against the model like any other input, and libFuzzer starts from it.
Keep this file in step with the decoder when the format changes, then run

    tests/fuzz/make_scenarios.py tests/fuzz/corpus

and replay: build/tests/fuzz/kmt_fuzz_offer_replay tests/fuzz/corpus
(KMT_FUZZ_TRACE=1 prints the events as the harness understood them).

The encoder mirrors the harness's picking state: `live` is the harness's
list of live allocations in its pick order (appended on allocate, removed
by swapping the last one in), so `mem(n)` names the n-th allocation.
"""
import os
import struct
import sys

# ops (fuzz_offer.cpp step(): op byte % 40)
ALLOCATE, FREE, RESERVE, GLUE_BIND, BIND_RESERVED, UNRESERVE, DESTROY = 0, 4, 6, 7, 9, 10, 11
MAP, UNMAP, APP_PRIORITY, OFFER, OFFER_RES, RECLAIM, RECLAIM_RES = 12, 13, 14, 15, 19, 21, 24
SUBMIT, PROMOTE, DISCARD, RELIEVE, BUDGETS, ALLOC_FAIL, ORDER_JUMP = 25, 26, 28, 29, 30, 31, 32
FOREIGN, QUERY, BULK, FILL_MODE, STAMP_JUMP = 33, 34, 35, 36, 37

LOW, NORMAL, HIGH, AUTO = 1, 2, 3, 4
IMMEDIATELY, DECOMMIT = 1, 2
NEVER, ALWAYS, RANDOM, PRESSURE = 0, 1, 2, 3
BUFFER, IMAGE = 9, 10

# pick_memory() bytes for handles that are not live
FREED, FOREIGN_H, NEAR_MISS, GARBAGE, ALL_ONES, ZERO = 232, 238, 244, 252, 254, 255


class Input:
    def __init__(self, pageable=True, set_priority=True, fill=True, transition=True, allocator=True,
                 decommit=True, handle_mode=0, offered_priority=None, policy=NEVER, rate=0, seed=0,
                 auto_relieve=False, heaps=1, layout=0, type31_on_heap15=False, accounting=False, lean=False,
                 salt=0x1234567, init_fail=0xff):
        # accounting: heap accounting under DISCARD=never too (the policies always have it);
        # lean: no listener and no pageable memory whatever the other flags say.
        c0 = (pageable * 1) | ((not set_priority) * 2) | ((not fill) * 4) | ((not transition) * 8)
        c0 |= ((not allocator) * 16) | ((not decommit) * 32) | (handle_mode << 6)
        c1 = 0 if offered_priority is None else 0x80 | offered_priority  # index into kPriorities
        c2 = policy | 4 | (0x80 if seed else 0)  # rate from a u16
        c3 = int(auto_relieve) | ((heaps - 1) << 1) | (layout << 3) | (0x20 if type31_on_heap15 else 0)
        c3 |= (0x40 if accounting else 0) | (0x80 if lean else 0)
        self.b = bytearray([c0, c1, c2, c3])
        self.b += struct.pack('<H', rate)
        if seed:
            self.b += struct.pack('<Q', seed)
        self.b += struct.pack('<IBB', salt, 0, init_fail)
        self.live = []       # allocation numbers in the harness's pick order
        self.allocs = 0
        self.submitted = 0
        self.completed = 0

    def op(self, code, *data):
        self.b += bytes([code, *data])

    # -- memory
    def allocate(self, size_index=2, type_index=0, host_visible=False, dedicated=False, priority=4, driver=None):
        """kSizes[size_index]; kPriorities[priority] (4: 0.5); the first free driver
        handle from index `driver` (default: the allocation's number). Returns the allocation's number."""
        fl = int(host_visible) | (int(dedicated) << 1) | (priority << 3)
        self.op(ALLOCATE, (self.allocs if driver is None else driver) % 32, size_index, type_index, fl)
        self.live.append(self.allocs)
        self.allocs += 1
        return self.allocs - 1

    def bulk_allocate(self, b):
        """2 * b + 1 allocations (b odd, < 256)."""
        assert b & 1
        self.op(BULK, 0, b)
        for _ in range(2 * b + 1):
            self.live.append(self.allocs)
            self.allocs += 1

    def mem(self, n):
        p = self.live.index(n)
        assert p < 232 and len(self.live) <= 232
        return p

    def free(self, n):
        self.op(FREE, self.mem(n))
        p = self.live.index(n)
        self.live[p] = self.live[-1]
        self.live.pop()

    def map(self, n):
        self.op(MAP, 1, self.mem(n))

    def unmap(self, n):
        self.op(UNMAP, 0, self.mem(n))

    def app_priority(self, n, priority):
        self.op(APP_PRIORITY, self.mem(n), priority)

    # -- lists
    @staticmethod
    def _pf(priority, flags):
        assert 1 <= priority <= 4 and flags < 4
        return (priority - 1) | (flags << 4)

    def _wait(self, wait):
        """'submitted' (the glue's serial when work is outstanding), 0, or a serial < 16."""
        if wait == 'submitted':
            return 0
        if wait == 0:
            return 128
        assert 0 < wait < 16
        return 200 + wait if (200 + wait) % 16 == wait else 208 + wait

    def offer(self, elements, priority=LOW, flags=0, wait=0, resources=False):
        """elements: pick bytes (self.mem(n), or FREED..ZERO followed by their extra bytes as tuples)."""
        code = OFFER_RES if resources else OFFER
        body = self._list(elements)
        self.op(code, *body, self._pf(priority, flags), self._wait(wait), 1)

    def reclaim(self, elements, resources=False, fill_completed=0):
        code = RECLAIM_RES if resources else RECLAIM
        o = 3 | {0: 0, 'paging': 0x08, 'half': 0x10, 'all': 0x18}[fill_completed]
        self.op(code, *self._list(elements), o, 0)

    def _list(self, elements):
        n = len(elements)
        assert 1 <= n <= 7
        out = [n]  # shape 0, count n
        for e in elements:
            out += list(e) if isinstance(e, tuple) else [e]
        return out

    def offer_long(self, start=0, wanted=None, priority=LOW, flags=0, wait=0):
        """A long list: `wanted` (60 to 659; default: as many as live) live allocations
        in the order of their handles' values, from the start-th."""
        w = 0xffff if wanted is None else wanted - 60
        assert 0 <= w % 600 < 600
        self.op(OFFER, 0x60, *struct.pack('<HH', start, w), 0, self._pf(priority, flags), self._wait(wait), 1)

    def offer_all(self, priority=LOW, flags=0, wait=0):
        self.offer_long(0, None, priority, flags, wait)

    # -- bindings (resource r: resource_handle(mode, r), r < 48)
    def reserve(self, k):
        self.op(RESERVE, k)

    def bind_reserved(self, binds):
        """binds: [(r, n, image)], within earlier reservations (at most 8)."""
        self.op(BIND_RESERVED, len(binds) - 1)
        for r, n, image in binds:
            self.b += bytes([r | (0x40 if image else 0), self.mem(n)])

    def glue_bind(self, binds, driver_fails=False):
        """A vkBind*Memory call of 1-4 elements: reserve, bind (or unreserve when the driver fails)."""
        assert 1 <= len(binds) <= 4
        self.op(GLUE_BIND, (len(binds) - 1) | (0x80 if driver_fails else 0))
        if not driver_fails:
            for r, n, image in binds:
                self.b += bytes([r | (0x40 if image else 0), self.mem(n)])

    def unreserve(self, k):
        self.op(UNRESERVE, k)

    # -- progress and policy
    def submit(self, n=1):
        self.op(SUBMIT, n - 1)
        self.submitted += n

    def promote(self, to):
        """Completes submissions up to `to` (in steps of at most 4)."""
        while self.completed < min(to, self.submitted):
            step = min(4, min(to, self.submitted) - self.completed)
            self.op(PROMOTE, step)
            self.completed += step

    def relieve(self):
        self.op(RELIEVE)

    def budget_mb(self, mb, heaps=1):
        assert mb < 8 and 1 <= heaps <= 3
        self.op(BUDGETS, (heaps - 1) | 0x10 | (mb << 5), *([0] * 40))  # count 1 + (b & 3)

    def fill_mode(self, mode):
        self.op(FILL_MODE, mode)

    def alloc_fail(self, countdown, persistent=False):
        self.op(ALLOC_FAIL, countdown | (0x40 if persistent else 0))

    def order_jump(self, below_max):
        self.op(ORDER_JUMP, below_max)

    def discard(self, n, hook=False):
        self.op(DISCARD, int(hook), self.mem(n))


def scenarios():
    s = {}

    # Deferred offers wait for earlier work; a lower serial queued after a
    # higher one waits for the higher one (the FIFO's clamp); promotion in
    # queue order; the clamp forgets once nothing is pending.
    i = Input()
    a = [i.allocate() for _ in range(6)]
    i.submit(3)
    i.offer([i.mem(a[0])], wait='submitted')       # waits for 3
    i.offer([i.mem(a[1])], wait=1)                 # raised to 3
    i.submit(4)
    i.offer([i.mem(a[2])], wait='submitted')       # 7
    i.offer([i.mem(a[3]), i.mem(a[4])], wait=2)    # raised to 7
    i.promote(3)
    i.promote(7)
    i.offer([i.mem(a[5])], wait=1)                 # nothing pending: 1 stays 1
    i.promote(7)
    s['scenario-fifo-clamp'] = i

    # A re-offer of OFFER_PENDING memory waits for the new serial; with no
    # serial (or IMMEDIATELY) it is OFFERED at once.
    i = Input()
    a = [i.allocate() for _ in range(3)]
    i.submit(2)
    i.offer([i.mem(a[0]), i.mem(a[1]), i.mem(a[2])], wait='submitted')
    i.submit(3)
    i.offer([i.mem(a[0])], priority=HIGH, wait='submitted')  # now waits for 5
    i.offer([i.mem(a[1])], priority=NORMAL, wait=0)          # OFFERED now
    i.offer([i.mem(a[2])], priority=AUTO, flags=IMMEDIATELY, wait='submitted')
    i.promote(2)
    i.promote(5)
    i.reclaim([i.mem(a[0]), i.mem(a[1]), i.mem(a[2])])
    s['scenario-reoffer-pending'] = i

    # Real decommit under pressure: the driver's memory is freed once, the
    # app's handle stays (reclaim says NOT_COMMITTED, offer is refused),
    # the driver hands the freed handle out again, free gives back nothing.
    i = Input(policy=PRESSURE, auto_relieve=True)
    i.budget_mb(1)
    a = [i.allocate(size_index=4) for _ in range(3)]  # 1 MiB each
    i.offer([i.mem(a[0]), i.mem(a[1])], flags=IMMEDIATELY | DECOMMIT)
    b = i.allocate(size_index=4, driver=0)  # gets a decommitted driver handle back
    i.reclaim([i.mem(a[0]), i.mem(a[1]), i.mem(b)])
    i.offer([i.mem(a[0])])                                  # KMT-offer-decommitted-memory
    i.free(a[0])
    i.free(a[1])
    i.reclaim([(FREED, 0)])                                 # stale handle
    s['scenario-decommit'] = i

    # The pressure order: LOW before NORMAL before HIGH, oldest offer first;
    # a failed fill leaves memory OFFERED and is not counted.
    i = Input(policy=PRESSURE, heaps=2, layout=0)
    a = [i.allocate(size_index=4, type_index=k % 2) for k in range(6)]
    i.offer([i.mem(a[0]), i.mem(a[2])], priority=HIGH, flags=IMMEDIATELY)
    i.offer([i.mem(a[4]), i.mem(a[1])], priority=LOW, flags=IMMEDIATELY)
    i.offer([i.mem(a[3]), i.mem(a[5])], priority=NORMAL, flags=IMMEDIATELY)
    i.offer([i.mem(a[2])], priority=LOW, flags=IMMEDIATELY)   # re-offer: newest LOW
    i.fill_mode(3)                                            # every other fill fails
    i.budget_mb(1, heaps=2)
    i.relieve()
    i.fill_mode(0)
    i.relieve()
    i.reclaim([i.mem(a[k]) for k in range(6)], fill_completed='half')
    s['scenario-pressure-order'] = i

    # The 32-bit offer order near its wrap: renumbered in order.
    i = Input(policy=PRESSURE)
    a = [i.allocate(size_index=4) for _ in range(5)]
    i.order_jump(3)
    i.offer([i.mem(a[0]), i.mem(a[1])], flags=IMMEDIATELY)
    i.offer([i.mem(a[2]), i.mem(a[3])], flags=IMMEDIATELY)   # renumbers
    i.order_jump(0)
    i.submit(1)
    i.offer([i.mem(a[4]), i.mem(a[0])], wait='submitted')     # renumbers a pending one too
    i.promote(1)
    i.budget_mb(2)
    i.relieve()
    s['scenario-offer-order-wrap'] = i

    # Reservations: several outstanding, binds that use them, unreserve, a
    # failed driver bind; resource offers and the shared-memory rule.
    i = Input()
    a = [i.allocate() for _ in range(3)]
    i.reserve(2)
    i.reserve(3)
    i.bind_reserved([(1, a[0], False), (2, a[0], True), (3, a[1], False)])
    i.unreserve(1)
    i.glue_bind([(4, a[2], False)], driver_fails=True)
    i.glue_bind([(4, a[2], False), (5, a[1], True)])
    i.offer([0], resources=True)              # resource 1 of a[0] alone: shared with 2
    i.offer([0, 1], resources=True, flags=IMMEDIATELY)
    i.reclaim([1, 0], resources=True)
    i.unreserve(5)                            # more than is left
    s['scenario-reservations'] = i

    # Lists with freed, foreign, near-miss, garbage and zero handles: the
    # first invalid element is named; a count past the array stops there.
    i = Input(allocator=True)
    a = [i.allocate() for _ in range(4)]
    i.free(a[3])
    i.offer([i.mem(a[0]), (FREED, 0)])
    i.offer([(FOREIGN_H, 0), i.mem(a[0])])
    i.offer([i.mem(a[1]), (NEAR_MISS + 4, 0), (ZERO,)])       # the next generation of a slot
    i.reclaim([i.mem(a[1]), (GARBAGE, *struct.pack('<Q', 0x1122334455667788))])
    i.reclaim([(ALL_ONES,), i.mem(a[0])])
    i.map(a[2])
    i.offer([i.mem(a[1]), i.mem(a[2])])                       # mapped
    i.unmap(a[2])
    # a count of 2^32 - 1 with an array of 2: the second element is freed
    i.op(OFFER, 0x82, i.mem(a[0]), FREED, 0, 0, 128, 1, 0xff, 0xff, 16)
    s['scenario-bad-handles'] = i

    # Host allocations failing inside calls: the whole call fails, nothing changes.
    i = Input()
    i.bulk_allocate(41)            # 83 allocations
    i.alloc_fail(0)
    i.offer_all(flags=IMMEDIATELY)  # the scratch for 81 elements fails
    i.offer_all(flags=IMMEDIATELY)
    i.alloc_fail(0)
    i.reserve(7)
    s['scenario-out-of-host-memory'] = i

    # The single-pass loops of a lean device (DISCARD=never, no listener, no
    # pageable memory, no heap accounting): offers that take effect now at
    # one priority, reclaims of memory lists, with every state among them.
    i = Input(policy=NEVER, lean=True, fill=False)
    a = [i.allocate(size_index=3) for _ in range(7)]
    i.submit(1)
    i.offer([i.mem(a[0]), i.mem(a[1])], wait='submitted')      # deferred: the general loop
    i.offer([i.mem(a[2]), i.mem(a[3]), i.mem(a[4])], priority=NORMAL, flags=IMMEDIATELY)
    i.discard(a[3])                                            # DISCARDED
    i.offer([i.mem(a[0]), i.mem(a[3]), i.mem(a[2]), i.mem(a[5])], priority=HIGH, wait=0)  # re-offers
    i.offer([i.mem(a[5]), i.mem(a[6]), i.mem(a[5])], flags=IMMEDIATELY)  # duplicate: nothing changes
    i.map(a[6])
    i.offer([i.mem(a[6])], flags=IMMEDIATELY)                  # mapped
    i.unmap(a[6])
    i.reclaim([i.mem(a[k]) for k in range(7)])
    i.offer([i.mem(a[1]), (ZERO,)], flags=IMMEDIATELY)       # a 0 handle
    i.reclaim([i.mem(a[1]), i.mem(a[1])])
    s['scenario-single-pass'] = i

    # A wrapped deferred-offer ring compacted to make room (the bug fixed in
    # 7c5cf72 lost entries here): 60 wait for 4, 2 for 8; promotion to 4
    # moves the head to 60; 60 more wrap the ring (slots 62..63, 0..57);
    # 3 more find 2 free slots and compact it.
    i = Input(salt=0x04030201, transition=True, lean=False)
    i.bulk_allocate(63)            # 127 allocations
    i.submit(4)
    i.offer_long(0, 60, wait='submitted')
    i.submit(4)
    i.offer([0, 1], wait='submitted')
    i.promote(4)
    i.offer_long(60, 60, wait='submitted')
    i.offer([0, 1, 2], wait='submitted')
    i.promote(8)
    s['scenario-pending-ring-wrap'] = i

    # More than 4 chunks of slots (4096): the slot table's directory grows,
    # the old one is retired; a long list over them; a free and a reuse.
    i = Input(policy=NEVER, lean=True)
    for _ in range(9):
        i.bulk_allocate(255)       # 511 each: 4599 allocations
    i.offer_long(1000, 600, flags=IMMEDIATELY)
    i.op(RECLAIM, 0x60, *struct.pack('<HH', 1000, 540), 0, 3, 0)
    s['scenario-slot-table-growth'] = i

    # Memory types map to heaps through the device's table (type 31 on heap 15).
    i = Input(policy=PRESSURE, heaps=4, layout=3, type31_on_heap15=True, auto_relieve=True)
    a = [i.allocate(size_index=5, type_index=t) for t in (0, 1, 7, 31, 35)]
    i.op(BUDGETS, 0x0c | 0x10 | (1 << 5), *([0] * 40))   # every heap, 1 MiB
    i.offer([i.mem(n) for n in a], flags=IMMEDIATELY)
    i.reclaim([i.mem(n) for n in a])
    s['scenario-type-heaps'] = i
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus')
    os.makedirs(out, exist_ok=True)
    for name, i in scenarios().items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(bytes(i.b))
        print(f'{name}: {len(i.b)} bytes')


if __name__ == '__main__':
    main()
