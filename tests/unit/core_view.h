/* SPDX-License-Identifier: MIT */
// core_view.h -- reads the tracker's counts the same way whichever form the
// core keeps them in (issue 12 moves them while it trims the hot path):
// OFFERED memories counted per level or in total, heap usage and OFFERED
// bytes per heap kept always or only with config.accounting, live slots
// counted or not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "offer.h"

namespace kmt_test {

inline uint32_t OfferedTotal(uint32_t count) { return count; }
template <size_t N> uint32_t OfferedTotal(const uint32_t (&count)[N])
{
    uint32_t total = 0;
    for (uint32_t c : count)
        total += c;
    return total;
}

// Per level where the core counts per level (else the total alone).
inline std::vector<uint32_t> OfferedCounts(uint32_t count) { return {count}; }
template <size_t N> std::vector<uint32_t> OfferedCounts(const uint32_t (&count)[N])
{
    return std::vector<uint32_t>(count, count + N);
}

namespace detail {
template <typename C> auto Accounting(const C &c, int) -> decltype(bool(c.accounting)) { return c.accounting; }
template <typename C> bool Accounting(const C &, long) { return true; }
template <typename C> auto SetAccounting(C &c, bool on, int) -> decltype(void(c.accounting = on)) { c.accounting = on; }
template <typename C> void SetAccounting(C &, bool, long) {}
} // namespace detail

// Slots holding an allocation (the table may or may not count them itself).
inline uint32_t LiveSlots(const kmt_slot_table &table)
{
    uint32_t live = 0;
    for (uint32_t i = 0; i < table.capacity; i++)
        live += kmt_slot(&table, i)->status != KMT_STATUS_FREE;
    return live;
}

// Whether the tracker keeps t->heap_usage and t->offered_bytes up to date
// (config.accounting: the discard policies and listeners need them; without
// it kmt_heap_usage counts on demand).
inline bool KeepsAccounting(const kmt_tracker_config &config) { return detail::Accounting(config, 0); }
// Asks for it where the core makes it optional.
inline void SetAccounting(kmt_tracker_config &config, bool on) { detail::SetAccounting(config, on, 0); }

} // namespace kmt_test
