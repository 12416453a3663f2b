// SPDX-License-Identifier: MIT
// trace/* benchmarks (bench_trace.cpp): offer + reclaim with tracing compiled
// out, built in but off, and on.
#pragma once

#include <cstdint>

namespace kmtb {

// Registers trace/offer_reclaim/batch:{1,64}/live:{1000,10000} (up to max_live).
void register_trace_benchmarks(uint32_t max_live);
// Frees their devices (the traced one writes its trace, then it is removed);
// false when one of them failed.
bool release_trace_benchmarks();

}  // namespace kmtb
