/* SPDX-License-Identifier: MIT */
/*
 * memory.c -- handle map and record pool (see memory.h for why they exist).
 */
#include "memory.h"

#include <stdlib.h>
#include <string.h>

void *
kmt_alloc(const VkAllocationCallbacks *allocator, size_t size, VkSystemAllocationScope scope)
{
    if (allocator && allocator->pfnAllocation)
        return allocator->pfnAllocation(allocator->pUserData, size, 16, scope);
    return malloc(size);
}

void
kmt_free(const VkAllocationCallbacks *allocator, void *ptr)
{
    if (!ptr)
        return;
    if (allocator && allocator->pfnFree)
        allocator->pfnFree(allocator->pUserData, ptr);
    else
        free(ptr);
}

/* Handles are pointers or counters: mix all bits so neighbours spread out
 * (the 64-bit finaliser of MurmurHash3). */
static inline uint32_t
hash_handle(uint64_t key)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    key *= 0xc4ceb9fe1a85ec53ULL;
    key ^= key >> 33;
    return (uint32_t)key;
}

static bool
map_alloc_slots(struct kmt_handle_map *map, uint32_t capacity)
{
    uint64_t *keys = kmt_alloc(map->allocator, (size_t)capacity * sizeof(*keys), VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
    void **values = kmt_alloc(map->allocator, (size_t)capacity * sizeof(*values), VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
    if (!keys || !values) {
        kmt_free(map->allocator, keys);
        kmt_free(map->allocator, values);
        return false;
    }
    memset(keys, 0, (size_t)capacity * sizeof(*keys));
    map->keys = keys;
    map->values = values;
    map->mask = capacity - 1;
    return true;
}

bool
kmt_map_init(struct kmt_handle_map *map, uint32_t initial_capacity, const VkAllocationCallbacks *allocator)
{
    uint32_t capacity = 16;
    while (capacity < initial_capacity)
        capacity <<= 1;
    memset(map, 0, sizeof(*map));
    map->allocator = allocator;
    return map_alloc_slots(map, capacity);
}

void
kmt_map_finish(struct kmt_handle_map *map)
{
    kmt_free(map->allocator, map->keys);
    kmt_free(map->allocator, map->values);
    memset(map, 0, sizeof(*map));
}

void *
kmt_map_get(const struct kmt_handle_map *map, uint64_t key)
{
    if (key == 0 || !map->keys)
        return NULL;
    for (uint32_t i = hash_handle(key) & map->mask;; i = (i + 1) & map->mask) {
        uint64_t k = map->keys[i];
        if (k == key)
            return map->values[i];
        if (k == 0)
            return NULL;
    }
}

static void
insert_new_slot(struct kmt_handle_map *map, uint64_t key, void *value)
{
    uint32_t i = hash_handle(key) & map->mask;
    while (map->keys[i] != 0)
        i = (i + 1) & map->mask;
    map->keys[i] = key;
    map->values[i] = value;
    map->count++;
}

/* Keeps the load factor at or below 1/2: short probe sequences for any size. */
static bool
map_grow_to(struct kmt_handle_map *map, uint32_t needed)
{
    uint32_t capacity = map->mask + 1;
    if ((uint64_t)needed * 2 <= capacity)
        return true;
    while ((uint64_t)needed * 2 > capacity) {
        if (capacity >= (1u << 31))
            return false;
        capacity <<= 1;
    }
    struct kmt_handle_map old = *map;
    if (!map_alloc_slots(map, capacity)) {
        *map = old;
        return false;
    }
    map->count = 0;
    for (uint32_t i = 0; i <= old.mask; i++)
        if (old.keys[i])
            insert_new_slot(map, old.keys[i], old.values[i]);
    kmt_free(map->allocator, old.keys);
    kmt_free(map->allocator, old.values);
    return true;
}

bool
kmt_map_reserve(struct kmt_handle_map *map, uint32_t extra)
{
    return map_grow_to(map, map->count + extra);
}

bool
kmt_map_exchange(struct kmt_handle_map *map, uint64_t key, void *value, void **old)
{
    *old = NULL;
    if (key == 0)
        return false;
    /* Grow first (only when the key might be new) so one probe suffices. */
    if ((uint64_t)(map->count + 1) * 2 > (uint64_t)map->mask + 1 && !kmt_map_get(map, key) &&
        !map_grow_to(map, map->count + 1))
        return false;
    uint32_t i = hash_handle(key) & map->mask;
    for (; map->keys[i] != 0; i = (i + 1) & map->mask) {
        if (map->keys[i] == key) {
            *old = map->values[i];
            map->values[i] = value;
            return true;
        }
    }
    map->keys[i] = key;
    map->values[i] = value;
    map->count++;
    return true;
}

bool
kmt_map_put(struct kmt_handle_map *map, uint64_t key, void *value)
{
    void *old;
    return kmt_map_exchange(map, key, value, &old);
}

void *
kmt_map_remove(struct kmt_handle_map *map, uint64_t key)
{
    if (key == 0 || !map->keys)
        return NULL;
    uint32_t i = hash_handle(key) & map->mask;
    while (map->keys[i] != key) {
        if (map->keys[i] == 0)
            return NULL;
        i = (i + 1) & map->mask;
    }
    void *value = map->values[i];
    /* Backward-shift deletion: pull later members of the probe run into the
     * hole when their home slot is not between the hole and themselves. */
    uint32_t hole = i;
    for (uint32_t j = (i + 1) & map->mask; map->keys[j] != 0; j = (j + 1) & map->mask) {
        uint32_t home = hash_handle(map->keys[j]) & map->mask;
        bool home_in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!home_in_range) {
            map->keys[hole] = map->keys[j];
            map->values[hole] = map->values[j];
            hole = j;
        }
    }
    map->keys[hole] = 0;
    map->count--;
    return value;
}

size_t
kmt_map_footprint(const struct kmt_handle_map *map)
{
    return (size_t)(map->mask + 1) * (sizeof(uint64_t) + sizeof(void *));
}

void
kmt_pool_init(struct kmt_pool *pool, size_t record_size, uint32_t records_per_chunk,
              const VkAllocationCallbacks *allocator)
{
    memset(pool, 0, sizeof(*pool));
    /* Records double as free-list nodes and must keep 8-byte alignment. */
    pool->record_size = (record_size < sizeof(void *) ? sizeof(void *) : record_size + 7) & ~(size_t)7;
    pool->records_per_chunk = records_per_chunk;
    pool->used_in_last = records_per_chunk;
    pool->allocator = allocator;
}

void
kmt_pool_finish(struct kmt_pool *pool)
{
    for (uint32_t i = 0; i < pool->chunk_count; i++)
        kmt_free(pool->allocator, pool->chunks[i]);
    kmt_free(pool->allocator, pool->chunks);
    memset(pool, 0, sizeof(*pool));
}

static bool
pool_add_chunk(struct kmt_pool *pool)
{
    if (pool->chunk_count == pool->chunk_capacity) {
        uint32_t capacity = pool->chunk_capacity ? pool->chunk_capacity * 2 : 8;
        void **chunks = kmt_alloc(pool->allocator, capacity * sizeof(void *), VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
        if (!chunks)
            return false;
        if (pool->chunk_count)
            memcpy(chunks, pool->chunks, pool->chunk_count * sizeof(void *));
        kmt_free(pool->allocator, pool->chunks);
        pool->chunks = chunks;
        pool->chunk_capacity = capacity;
    }
    void *chunk = kmt_alloc(pool->allocator, pool->record_size * pool->records_per_chunk,
                            VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
    if (!chunk)
        return false;
    pool->chunks[pool->chunk_count++] = chunk;
    pool->used_in_last = 0;
    return true;
}

void *
kmt_pool_get(struct kmt_pool *pool)
{
    void *record;
    if (pool->free_list) {
        record = pool->free_list;
        pool->free_list = *(void **)record;
    } else {
        if (pool->used_in_last == pool->records_per_chunk && !pool_add_chunk(pool))
            return NULL;
        record = (char *)pool->chunks[pool->chunk_count - 1] + pool->record_size * pool->used_in_last++;
    }
    memset(record, 0, pool->record_size);
    return record;
}

void
kmt_pool_put(struct kmt_pool *pool, void *record)
{
    if (!record)
        return;
    *(void **)record = pool->free_list;
    pool->free_list = record;
}

size_t
kmt_pool_footprint(const struct kmt_pool *pool)
{
    return (size_t)pool->chunk_count * pool->record_size * pool->records_per_chunk +
           pool->chunk_capacity * sizeof(void *);
}
