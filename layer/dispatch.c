/* placeholder */
typedef int kmt_dispatch_placeholder;
