/* SPDX-License-Identifier: MIT */
/*
 * pin_driver.c -- linked into every test program that loads a Vulkan driver,
 * in ASan builds only (tests/CMakeLists.txt). Before main() it loads the
 * driver library the test will use with RTLD_NODELETE, so the loader's
 * dlclose at vkDestroyInstance no longer unloads it.
 *
 * Why (issue 16 item 8): lavapipe 22.3.6 keeps a 128-byte realloc'd buffer in
 * a global and never frees it. Once the loader has unloaded the driver, that
 * global is gone and LeakSanitizer reports the buffer as a direct leak from
 * "<unknown module>": 203 of 343 tests failed or passed with the
 * environment. Kept loaded, the driver's globals stay roots (what it holds
 * there is reachable, not leaked) and any real leak in it is reported with
 * symbols. The layer and the test driver layer are not pinned: the loader
 * still unloads them, so every leak of theirs is reported, as before.
 *
 * Which driver: KMT_TEST_ICD, else every ICD manifest in VK_DRIVER_FILES,
 * else Debian's lavapipe (KMT_LVP_ICD). The e2e fixture points the loader at
 * KMT_TEST_ICD or KMT_LVP_ICD; the samples' tests set VK_DRIVER_FILES before
 * the program starts; run_with_mesa25.sh sets both to Mesa 25. One driver
 * only: two lavapipes in one process would share one libLLVM.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The "library_path" value of an ICD manifest, resolved as the loader does:
 * a path with a '/' is relative to the manifest's folder, a bare name is left
 * to dlopen's search. False when the manifest has none. */
static int
library_of(const char *manifest, char *out, size_t size)
{
    char text[16384];
    FILE *f = fopen(manifest, "r");
    if (!f)
        return 0;
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *key = strstr(text, "\"library_path\"");
    const char *open = key ? strchr(key + strlen("\"library_path\""), '"') : NULL;
    if (!open)
        return 0;
    char value[4096];
    size_t v = 0;
    for (const char *p = open + 1; *p && *p != '"' && v + 1 < sizeof(value); p++)
        value[v++] = (*p == '\\' && p[1]) ? *++p : *p; /* \\ and \/ */
    value[v] = '\0';
    if (value[0] == '/' || !strchr(value, '/')) {
        snprintf(out, size, "%s", value);
    } else {
        const char *slash = strrchr(manifest, '/');
        int folder = slash ? (int)(slash - manifest) : 1;
        snprintf(out, size, "%.*s/%s", folder, slash ? manifest : ".", value);
    }
    return 1;
}

static void
pin_manifests(const char *list)
{
    char copy[8192];
    snprintf(copy, sizeof(copy), "%s", list);
    for (char *save = NULL, *manifest = strtok_r(copy, ":", &save); manifest; manifest = strtok_r(NULL, ":", &save)) {
        char library[4096];
        if (!library_of(manifest, library, sizeof(library)))
            continue;
        void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!handle) {
            fprintf(stderr, "pin_driver: cannot keep %s loaded (%s)\n", library, dlerror());
            continue;
        }
        dlclose(handle); /* RTLD_NODELETE: it stays */
    }
}

__attribute__((constructor)) static void
pin_test_driver(void)
{
    const char *icd = getenv("KMT_TEST_ICD");
    const char *files = getenv("VK_DRIVER_FILES");
    if (icd && *icd)
        pin_manifests(icd);
    else if (files && *files)
        pin_manifests(files);
    else
        pin_manifests(KMT_LVP_ICD);
}
