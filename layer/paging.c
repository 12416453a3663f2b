/* placeholder */
typedef int kmt_paging_placeholder;
