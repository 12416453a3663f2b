/* SPDX-License-Identifier: MIT */
/*
 * The single-header library's implementation, compiled for this build's
 * target with the project's warnings (-Werror in CI): in the i386 cross build
 * this is the proof that the D3DKMT thunks build for a 32-bit process.
 */
#define VK_KMT_D3DKMT_IMPLEMENTATION
#include <vk_kmt/d3dkmt.h>
