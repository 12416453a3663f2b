/* SPDX-License-Identifier: MIT */
/*
 * memory.h -- the handle-keyed tables of one device (pure C).
 *
 * kmt_handle_map: an open-addressing hash map from a non-dispatchable Vulkan
 * handle (uint64_t, never 0) to a pointer. Written here rather than taken from
 * a library because it sits on the offer/reclaim hot path: one probe sequence
 * per lookup, 16 bytes per slot, no per-entry allocation, and backward-shift
 * deletion so lookups stay flat after millions of allocate/free cycles (no
 * tombstones).
 *
 * kmt_pool: fixed-size records carved from chunks, so record pointers stay
 * valid while the map grows, with a free list for reuse.
 */
#ifndef KMT_MEMORY_H
#define KMT_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan_core.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Host allocation through the app's callbacks when it gave some (scope
 * OBJECT for tracked records, DEVICE for tables), else libc. */
void *kmt_alloc(const VkAllocationCallbacks *allocator, size_t size, VkSystemAllocationScope scope);
void kmt_free(const VkAllocationCallbacks *allocator, void *ptr);

struct kmt_handle_map {
    uint64_t *keys;   /* 0 marks an empty slot */
    void **values;
    uint32_t mask;    /* capacity - 1; capacity is a power of two */
    uint32_t count;
    const VkAllocationCallbacks *allocator;
};

bool kmt_map_init(struct kmt_handle_map *map, uint32_t initial_capacity, const VkAllocationCallbacks *allocator);
void kmt_map_finish(struct kmt_handle_map *map);
/* The value stored for key, or NULL. */
void *kmt_map_get(const struct kmt_handle_map *map, uint64_t key);
/* Inserts or replaces. False (map unchanged) when growing failed. */
bool kmt_map_put(struct kmt_handle_map *map, uint64_t key, void *value);
/* Inserts or replaces with one probe sequence; *old gets the value replaced
 * (NULL when the key was new). False (map unchanged) when growing failed. */
bool kmt_map_exchange(struct kmt_handle_map *map, uint64_t key, void *value, void **old);
/* Removes key; returns its value, or NULL when it was absent. */
void *kmt_map_remove(struct kmt_handle_map *map, uint64_t key);
/* Makes room for `extra` more entries without rehashing later. */
bool kmt_map_reserve(struct kmt_handle_map *map, uint32_t extra);
/* Bytes the map holds (for the memory-per-allocation figure). */
size_t kmt_map_footprint(const struct kmt_handle_map *map);

struct kmt_pool {
    size_t record_size;
    uint32_t records_per_chunk;
    void **chunks;
    uint32_t chunk_count, chunk_capacity;
    uint32_t used_in_last;   /* records handed out of the last chunk */
    void *free_list;         /* freed records, linked through their first word */
    const VkAllocationCallbacks *allocator;
};

void kmt_pool_init(struct kmt_pool *pool, size_t record_size, uint32_t records_per_chunk,
                   const VkAllocationCallbacks *allocator);
void kmt_pool_finish(struct kmt_pool *pool);
/* A zeroed record, or NULL when out of host memory. */
void *kmt_pool_get(struct kmt_pool *pool);
void kmt_pool_put(struct kmt_pool *pool, void *record);
size_t kmt_pool_footprint(const struct kmt_pool *pool);

#ifdef __cplusplus
}
#endif

#endif
