/* SPDX-License-Identifier: MIT */
/*
 * handles.h -- the layer's own VkDeviceMemory handles (pure C).
 *
 * On a device that enabled VK_KMT_offer_reclaim, vkAllocateMemory returns
 * the layer's handle, not the driver's (DESIGN.md, "Memory handles"):
 *
 *     handle = (uint64_t)generation << 32 | (slot index + 1)
 *
 * so it is never 0, and resolving it is an array index plus a generation
 * compare: no hashing. A slot's generation changes when its allocation is
 * freed, so a freed or stale handle never resolves to the slot's next
 * allocation; each table starts its slots' generations from its own salt,
 * so another device's handle (or a driver's pointer-like handle) does not
 * resolve either, except by a 1-in-2^32 accident.
 *
 * Records live in chunks of KMT_SLOT_CHUNK that never move once allocated:
 * the table grows by adding chunks, and resolving needs no lock (the chunk
 * directory is replaced by a bigger copy when full, the old copy kept until
 * the table is destroyed, so a reader holding it stays valid). Taking and
 * releasing slots need no lock either: the free list is a Treiber stack
 * whose head carries a tag against ABA; only growing takes the table's own
 * mutex. So an allocation or a free of resident memory touches nothing but
 * its slot (the glue's fast paths), while offers and reclaims, under the
 * device lock, work on other slots.
 *
 * Each slot has a 32-byte hot record (what an offer/reclaim loop touches)
 * and a 24-byte cold record in a parallel array (what creation, queries,
 * fills and the policy need): 56 bytes per allocation, one cache line for
 * the hot path. Free slots are chained through the hot record (LIFO, so a
 * freed slot is reused while still in cache).
 */
#ifndef KMT_HANDLES_H
#define KMT_HANDLES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan_core.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KMT_SLOT_CHUNK_SHIFT 10
#define KMT_SLOT_CHUNK (1u << KMT_SLOT_CHUNK_SHIFT) /* slots per chunk */
#define KMT_SLOT_MAX_CHUNKS (1u << 16)              /* 64 Mi slots per device */

/* status of a free slot (VkAllocationStatusKMT values are 0..5) */
#define KMT_STATUS_FREE 0xffu

/* struct kmt_memory::bits */
#define KMT_MEM_OFFER_IMMEDIATELY 0x01u /* VK_OFFER_IMMEDIATELY_BIT_KMT of the current offer */
#define KMT_MEM_OFFER_DECOMMIT 0x02u    /* VK_OFFER_ALLOW_DECOMMIT_BIT_KMT of the current offer */
#define KMT_MEM_OFFER_FLAGS 0x03u
#define KMT_MEM_MAPPED 0x04u
#define KMT_MEM_HOST_VISIBLE 0x08u
#define KMT_MEM_DEDICATED 0x10u /* VkMemoryDedicatedAllocateInfo: no other resource may alias it */
#define KMT_MEM_APP_ALLOCATOR 0x20u /* allocated with the app's VkAllocationCallbacks */

/* Hot record: one per slot, 32 bytes. */
struct kmt_memory {
    uint64_t driver;        /* the driver's VkDeviceMemory; 0 once decommitted. Free slot: next free index + 1
                               (read and written with __atomic while free: the lock-free list) */
    VkDeviceSize size;
    uint32_t generation;    /* the high half of the app's handle */
    uint32_t call_stamp;    /* the last offer/reclaim call that listed it */
    uint32_t offer_order;   /* when it was (re-)offered: oldest first under pressure */
    uint8_t status;         /* VkAllocationStatusKMT, KMT_STATUS_FREE for a free slot (scans of the whole
                               table read it with __atomic: slots are taken and released lock-free) */
    uint8_t offer_priority; /* resolved VkOfferPriorityKMT (LOW..HIGH), 0 when not offered */
    uint8_t type_index;     /* memoryTypeIndex (the tracker maps it to a heap) */
    uint8_t bits;           /* KMT_MEM_* */
};

/* Cold record: parallel to the hot one, 24 bytes. */
struct kmt_memory_cold {
    uint64_t fill_value;     /* DISCARDED: paging-fence value of its queued GPU fill, 0 = none */
    float app_priority;      /* VkMemoryPriorityAllocateInfoEXT, the app's last vkSetDeviceMemoryPriorityEXT, or 0.5 */
    float driver_priority;   /* what the driver was last given */
    uint32_t resource_count; /* buffers and images bound to it */
    uint32_t discard_count;
};

struct kmt_slot_chunk {
    struct kmt_memory hot[KMT_SLOT_CHUNK];
    struct kmt_memory_cold cold[KMT_SLOT_CHUNK];
};

struct kmt_slot_table {
    /* Read without a lock (kmt_resolve): written with __atomic release
     * stores, read with acquire loads. `capacity` is published after the
     * chunk and directory that back it. */
    struct kmt_slot_chunk **directory; /* directory_size entries, chunk_count used */
    uint32_t capacity;                 /* slots backed by chunks */
    uint64_t free_head;                /* (tag << 32) | (first free slot index + 1); 0 in the low half: none */
    uint32_t salt;                     /* first generation of slot 0; others derive from it */
    /* Growth only, under grow_lock. */
    pthread_mutex_t grow_lock;
    uint32_t directory_size;
    uint32_t chunk_count;
    struct kmt_slot_chunk ***retired;  /* old directories, freed with the table */
    uint32_t retired_count;
    const VkAllocationCallbacks *allocator;
};

/* salt: any value; tables of different devices should get different ones. */
void kmt_slots_init(struct kmt_slot_table *table, uint32_t salt, const VkAllocationCallbacks *allocator);
void kmt_slots_finish(struct kmt_slot_table *table);

/* Takes a free slot (growing the table when none is left) and returns its
 * handle, with *index and *memory set; the hot record is zeroed but for its
 * generation and a status still KMT_STATUS_FREE (the caller publishes it),
 * the cold one zeroed. 0 when out of host memory or slots. Thread-safe. */
uint64_t kmt_slots_take(struct kmt_slot_table *table, uint32_t *index, struct kmt_memory **memory);
/* Releases a live slot: its generation changes, so its handle is stale.
 * Thread-safe (the caller owns the slot: vkFreeMemory's external sync). */
void kmt_slots_release(struct kmt_slot_table *table, uint32_t index);
/* Slots that exist (free or not): a bound on the live allocations that
 * costs no shared counter on the allocation path. */
static inline uint32_t
kmt_slots_capacity(const struct kmt_slot_table *table)
{
    return __atomic_load_n(&table->capacity, __ATOMIC_ACQUIRE);
}
/* Slots handed out now: counted (a scan), for statistics. */
uint32_t kmt_slots_live(const struct kmt_slot_table *table);

static inline uint64_t
kmt_make_handle(uint32_t index, uint32_t generation)
{
    return (uint64_t)generation << 32 | ((uint64_t)index + 1);
}

static inline struct kmt_slot_chunk *
kmt_slots_chunk(const struct kmt_slot_table *table, uint32_t index)
{
    struct kmt_slot_chunk **directory = __atomic_load_n(&table->directory, __ATOMIC_ACQUIRE);
    return directory[index >> KMT_SLOT_CHUNK_SHIFT];
}

/* The live record a handle names, with its slot index, or NULL for 0, a
 * freed or stale handle, or another table's. Lock-free: a caller racing a
 * vkFreeMemory of the same handle is an app error (the handle is externally
 * synchronised) and may see either answer, never a dangling pointer. */
static inline struct kmt_memory *
kmt_resolve(const struct kmt_slot_table *table, uint64_t handle, uint32_t *index)
{
    uint32_t i = (uint32_t)handle - 1; /* a low half of 0 wraps to UINT32_MAX: out of range */
    if (i >= __atomic_load_n(&table->capacity, __ATOMIC_ACQUIRE))
        return NULL;
    struct kmt_memory *m = &kmt_slots_chunk(table, i)->hot[i & (KMT_SLOT_CHUNK - 1)];
    if (__atomic_load_n(&m->generation, __ATOMIC_RELAXED) != (uint32_t)(handle >> 32) ||
        __atomic_load_n(&m->status, __ATOMIC_RELAXED) == KMT_STATUS_FREE)
        return NULL;
    if (index)
        *index = i;
    return m;
}

static inline struct kmt_memory_cold *
kmt_cold(const struct kmt_slot_table *table, uint32_t index)
{
    return &kmt_slots_chunk(table, index)->cold[index & (KMT_SLOT_CHUNK - 1)];
}

static inline struct kmt_memory *
kmt_slot(const struct kmt_slot_table *table, uint32_t index)
{
    return &kmt_slots_chunk(table, index)->hot[index & (KMT_SLOT_CHUNK - 1)];
}

/* Bytes the table holds (chunks and directories), for the per-allocation figure. */
size_t kmt_slots_footprint(const struct kmt_slot_table *table);

#ifdef __cplusplus
}
#endif

#endif
