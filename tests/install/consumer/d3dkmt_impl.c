/* SPDX-License-Identifier: MIT */
/* The single-header D3DKMT library's implementation, compiled once. */
#define VK_KMT_D3DKMT_IMPLEMENTATION
#include <vk_kmt/d3dkmt.h>
