/* SPDX-License-Identifier: MIT */
// The model-based fuzz harness of the offer/reclaim core (fuzz_offer.cpp),
// shared by the libFuzzer target and the replay / random driver (fuzz_main.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace kmt_fuzz {

// Runs one input against the core and the reference model; aborts (after
// printing the event trace and calling g_failure_hook) on any divergence.
int run_one(const uint8_t *data, size_t size);

// Prints what the inputs so far exercised (error codes, discards, failures).
void print_stats();

// Events executed and checked so far in this process.
extern uint64_t g_operations;

// Called just before abort() on a divergence (the driver saves the input).
extern void (*g_failure_hook)();

} // namespace kmt_fuzz
