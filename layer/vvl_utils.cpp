// SPDX-License-Identifier: MIT
// vvl_utils.cpp -- the only C++ in the layer: thin C wrappers over the
// Vulkan-ValidationLayers utilities (see vvl_utils.h).
#include "vvl_utils.h"

#include <cstdint>
#include <utility>
#include <vector>

#include <vulkan/vk_layer.h>

// Declared by hand: the VVL headers pull in their whole C++ support layer.
void *SafePnextCopy(const void *pNext);
void FreePnextChain(const void *chain);
extern "C" VkResult util_GetExtensionProperties(const uint32_t count, const VkExtensionProperties *layer_extensions,
                                                uint32_t *pCount, VkExtensionProperties *pProperties);

// vk_safe_struct.cpp refers to this registry of app-defined sTypes; the layer
// registers none.
std::vector<std::pair<uint32_t, uint32_t>> custom_stype_info{};

extern "C" void *
kmt_copy_pnext_chain(const void *chain)
{
    try {
        return chain ? SafePnextCopy(chain) : nullptr;
    } catch (...) {
        return nullptr;
    }
}

extern "C" void
kmt_free_pnext_chain(void *chain)
{
    if (chain)
        FreePnextChain(chain);
}

extern "C" VkResult
kmt_return_extensions(uint32_t count, const VkExtensionProperties *extensions, uint32_t *pCount,
                      VkExtensionProperties *pProperties)
{
    return util_GetExtensionProperties(count, extensions, pCount, pProperties);
}
