/* placeholder */
typedef int kmt_memory_placeholder;
