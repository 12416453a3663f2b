/* SPDX-License-Identifier: MIT */
/*
 * asan_leak_probe.c -- leaks 4242 bytes on purpose. In ASan builds ctest runs
 * it and expects LeakSanitizer to report exactly that (asan.leak_checking_is_on):
 * the proof that the test environment keeps leak checking on while the driver
 * is kept loaded (tests/pin_driver.c).
 */
#include <stdio.h>
#include <stdlib.h>

int
main(void)
{
    char *volatile leaked = malloc(4242);
    if (leaked)
        leaked[0] = 1;
    leaked = NULL;
    puts("asan_leak_probe: leaked 4242 bytes");
    return 0;
}
